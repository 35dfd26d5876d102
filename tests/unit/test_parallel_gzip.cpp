// Parallel gzip as concatenated members: the stream reads back whole with gzip -d, with zlib inflating
// member after member, and through libarchive (layers written this way apply); the bytes do not depend
// on the thread count; the member boundaries fall every chunk.
#include "base/error.h"
#include "base/files.h"
#include "exec/layer_apply.h"
#include "exec/layer_writer.h"
#include "exec/parallel_gzip.h"
#include "oci/content_store.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <random>
#include <zlib.h>

using namespace cachescope;
namespace fs = std::filesystem;

namespace {

std::string sample(std::size_t size, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    static const char* words[] = {"tar", "layer", "gzip", "member", "chunk", "\n"};
    std::string s;
    while (s.size() < size) {
        const std::uint64_t r = rng();
        s += words[r % 6];
        if ((r >> 8) % 3 == 0)
            s += static_cast<char>(r >> 16); // some binary noise
    }
    s.resize(size);
    return s;
}

std::string compress(const std::string& in, unsigned threads, std::size_t chunk, std::size_t writeSize = 7777)
{
    std::string out;
    exec::ParallelGzip gz(6, threads, [&](const void* d, std::size_t n) { out.append(static_cast<const char*>(d), n); },
                          chunk);
    for (std::size_t i = 0; i < in.size(); i += writeSize)
        gz.write(in.data() + i, std::min(writeSize, in.size() - i));
    gz.close();
    return out;
}

// Inflates member after member, as multistream readers do; counts the members.
std::string inflateAll(const std::string& gz, int& members)
{
    std::string out;
    members = 0;
    std::size_t pos = 0;
    while (pos < gz.size()) {
        z_stream z{};
        if (inflateInit2(&z, 15 + 16) != Z_OK)
            throw Error("inflateInit2");
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + pos));
        z.avail_in = static_cast<uInt>(gz.size() - pos);
        char buf[65536];
        int rc = Z_OK;
        while (rc != Z_STREAM_END) {
            z.next_out = reinterpret_cast<Bytef*>(buf);
            z.avail_out = sizeof buf;
            rc = inflate(&z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END) {
                inflateEnd(&z);
                throw Error("inflate failed in member " + std::to_string(members));
            }
            out.append(buf, sizeof buf - z.avail_out);
        }
        pos = gz.size() - z.avail_in;
        inflateEnd(&z);
        ++members;
    }
    return out;
}

} // namespace

class TestParallelGzip : public QObject {
    Q_OBJECT
private slots:
    void roundTripsAndIsDeterministic()
    {
        const std::string in = sample(5 * 65536 + 123, 1);
        const std::string one = compress(in, 1, 65536);
        const std::string four = compress(in, 4, 65536, 100000);
        QVERIFY(one == four); // thread count and write sizes never change the bytes
        int members = 0;
        QVERIFY(inflateAll(one, members) == in);
        QCOMPARE(members, 6); // 5 full chunks and the rest
        QVERIFY(one.size() < in.size());

        // gzip(1) reads the concatenation as one file.
        QTemporaryDir tmp;
        const QString file = tmp.filePath("x.gz");
        writeFileAtomic(file.toStdString(), one);
        QProcess gz;
        gz.start("gzip", {"-dc", file});
        QVERIFY(gz.waitForFinished(30000));
        QCOMPARE(gz.exitCode(), 0);
        QVERIFY(gz.readAllStandardOutput().toStdString() == in);
    }

    void emptyStreamIsOneEmptyMember()
    {
        const std::string out = compress("", 2, 65536);
        int members = 0;
        QVERIFY(inflateAll(out, members).empty());
        QCOMPARE(members, 1);
    }

    void exactChunkMultiple()
    {
        const std::string in = sample(3 * 4096, 2);
        int members = 0;
        QVERIFY(inflateAll(compress(in, 3, 4096), members) == in);
        QCOMPARE(members, 3);
    }

    // A gzip layer larger than one chunk is several members; libarchive applies it, and the diffID
    // is the tar's whatever the compression.
    void layerWithManyMembersApplies()
    {
        QTemporaryDir tmp;
        const fs::path root(tmp.path().toStdString());
        fs::create_directories(root / "diff" / "d");
        const std::string big = sample(3 * (1 << 20) + 5, 3);
        writeFileAtomic(root / "diff" / "d" / "big.bin", big);
        writeFileAtomic(root / "diff" / "small.txt", "small\n");
        oci::ContentStore store(root / "store");
        exec::LayerWriterOptions o;
        o.whiteouts = exec::WhiteoutFormat::Oci;
        const auto gz = exec::writeLayer(root / "diff", store, o);
        o.compression = oci::media::Compression::Uncompressed;
        const auto plain = exec::writeLayer(root / "diff", store, o);
        QCOMPARE(gz.diffId, plain.diffId);
        int members = 0;
        QVERIFY(inflateAll(readFile(store.blobPath(gz.descriptor.digest)), members).size() == plain.tarSize);
        QVERIFY2(members > 1, "a 3 MiB layer is one member: not compressed in parallel");
        exec::applyLayer(store.blobPath(gz.descriptor.digest), gz.descriptor.mediaType, gz.descriptor.digest,
                         root / "out");
        QVERIFY(readFile(root / "out" / "d" / "big.bin") == big);
        QCOMPARE(readFile(root / "out" / "small.txt"), std::string("small\n"));
    }
};

QTEST_GUILESS_MAIN(TestParallelGzip)
#include "test_parallel_gzip.moc"

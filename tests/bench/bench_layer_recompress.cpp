// Cache export conversion of one large layer (a real tree, /usr/lib/gcc by default: ~240 MB of
// binaries): gzip -> zstd and zstd -> gzip through exec::recompressLayer, against the same
// decompress | recompress done by the gzip and zstd CLIs on the same blobs in the same run, and the
// peak RSS of a conversion (a forked child, so the parent's buffers do not count).
//   bench_layer_recompress [TREE]        (CACHESCOPE_BENCH_DIR: scratch, default /tmp)
#include "exec/layer_recompress.h"
#include "exec/layer_writer.h"
#include "oci/content_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace cachescope;
namespace fs = std::filesystem;
using Compression = oci::media::Compression;

namespace {

double medianSeconds(int runs, const std::function<void()>& work)
{
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        work();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void shell(const std::string& cmd)
{
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "failed: %s\n", cmd.c_str());
        std::exit(1);
    }
}

exec::RecompressResult convert(const fs::path& blob, oci::ContentStore& into, Compression to)
{
    fs::remove_all(into.root());
    exec::RecompressOptions o;
    o.compression = to;
    return exec::recompressLayer(blob, {}, into, o);
}

// Peak RSS in MiB of one conversion in a child process.
long peakRssMiB(const fs::path& blob, const fs::path& storeRoot, Compression to)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        oci::ContentStore into(storeRoot);
        convert(blob, into, to);
        ::_exit(0);
    }
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "conversion child failed\n");
        std::exit(1);
    }
    return usage.ru_maxrss / 1024;
}

} // namespace

int main(int argc, char** argv)
{
    const fs::path tree = argc > 1 ? argv[1] : "/usr/lib/gcc";
    const char* dir = std::getenv("CACHESCOPE_BENCH_DIR");
    const fs::path scratch = fs::path(dir ? dir : "/tmp") / ("bench-layer-recompress-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    const bool haveCli = std::system("command -v zstd >/dev/null && command -v gzip >/dev/null") == 0;

    oci::ContentStore source(scratch / "source");
    exec::LayerWriterOptions wo;
    const auto gz = exec::writeLayer(tree, source, wo);
    wo.compression = Compression::Zstd;
    const auto zs = exec::writeLayer(tree, source, wo);
    const fs::path gzBlob = source.blobPath(gz.descriptor.digest);
    const fs::path zsBlob = source.blobPath(zs.descriptor.digest);
    const double tarMiB = static_cast<double>(gz.tarSize) / (1 << 20);
    std::printf("layer of %s: tar %.0f MiB, gzip %.0f MiB, zstd %.0f MiB, %u cores\n", tree.c_str(), tarMiB,
                static_cast<double>(gz.descriptor.size) / (1 << 20), static_cast<double>(zs.descriptor.size) / (1 << 20),
                std::max(1u, std::thread::hardware_concurrency()));

    oci::ContentStore into(scratch / "converted");
    struct Case {
        const char* name;
        fs::path blob;
        Compression to;
        std::string cli;
    };
    const fs::path out = scratch / "cli.out";
    const std::vector<Case> cases = {
        {"gzip -> zstd", gzBlob, Compression::Zstd, "gzip -dc " + gzBlob.string() + " | zstd -T0 -3 -q -c > " + out.string()},
        {"zstd -> gzip", zsBlob, Compression::Gzip, "zstd -dc -q " + zsBlob.string() + " | gzip -6 -c > " + out.string()},
        {"gzip -> tar ", gzBlob, Compression::Uncompressed, "gzip -dc " + gzBlob.string() + " > " + out.string()},
    };
    for (const auto& c : cases) {
        exec::RecompressResult r;
        const double ours = medianSeconds(3, [&] { r = convert(c.blob, into, c.to); });
        if (r.diffId != gz.diffId) {
            std::fprintf(stderr, "%s: diffID changed\n", c.name);
            return 1;
        }
        std::printf("%s  cachescope %6.2f s  %6.1f MiB/s (tar)", c.name, ours, tarMiB / ours);
        if (haveCli) {
            const double cli = medianSeconds(3, [&] { shell(c.cli); });
            std::printf("   CLI pipe %6.2f s  %6.1f MiB/s   ratio cachescope/CLI time %.2f", cli, tarMiB / cli, ours / cli);
        }
        std::printf("\n");
    }
    std::printf("peak RSS of a conversion: gzip -> zstd %ld MiB, zstd -> gzip %ld MiB (tar %.0f MiB)\n",
                peakRssMiB(gzBlob, scratch / "rss", Compression::Zstd), peakRssMiB(zsBlob, scratch / "rss", Compression::Gzip),
                tarMiB);
    fs::remove_all(scratch);
    return 0;
}

// Benchmark (not a test): pulling from a loopback docker-registry.
//  1. Peak memory while fetching one 1 GB blob (it must stream to disk).
//  2. ~200 MB in 100 blobs, one image: our pullToLayout vs `skopeo copy docker://… oci:…`, same run.
// Usage: bench_registry_pull [--blob-mb N] [--image-mb N] [--blobs N] [--runs N]
#include "oci/content_store.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/registry_client.h"
#include "support/registry_launcher.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/resource.h>

using namespace cachescope;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

long maxRssKb()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

double seconds(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Writes `size` pseudo-random bytes into the store, streaming (1 MiB at a time), hashing as it goes.
oci::Descriptor generateBlob(oci::ContentStore& store, std::int64_t size, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    const fs::path tmp = store.root() / ("gen-" + std::to_string(seed));
    fs::create_directories(store.root());
    std::ofstream out(tmp, std::ios::binary);
    oci::Sha256 hash;
    std::vector<std::uint64_t> chunk(1 << 17); // 1 MiB
    std::int64_t left = size;
    while (left > 0) {
        for (auto& v : chunk)
            v = rng();
        const auto n = static_cast<std::size_t>(std::min<std::int64_t>(left, 1 << 20));
        out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
        hash.update(chunk.data(), n);
        left -= static_cast<std::int64_t>(n);
    }
    out.close();
    oci::Descriptor d;
    d.mediaType = std::string(oci::media::OciLayerGzip);
    d.digest = hash.finish();
    d.size = size;
    fs::create_directories(store.blobPath(d.digest).parent_path());
    fs::rename(tmp, store.blobPath(d.digest));
    return d;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    std::int64_t blobMb = 1024, imageMb = 200;
    int blobCount = 100, runs = 3;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--blob-mb")
            blobMb = args[i + 1].toLongLong();
        else if (args[i] == "--image-mb")
            imageMb = args[i + 1].toLongLong();
        else if (args[i] == "--blobs")
            blobCount = args[i + 1].toInt();
        else if (args[i] == "--runs")
            runs = std::max(1, args[i + 1].toInt());
    }

    test::RegistryLauncher reg;
    if (!reg.start()) {
        std::fprintf(stderr, "bench_registry_pull: %s\n", qPrintable(reg.errorString()));
        return 1;
    }
    std::printf("registry: docker-registry on %s\n", reg.host().c_str());

    try {
        // --- 1. one large blob: memory must not grow with its size -------------------------------
        {
            QTemporaryDir work;
            oci::ContentStore src(work.filePath("src").toStdString());
            const oci::Descriptor big = generateBlob(src, blobMb << 20, 42);
            registry::RegistryClient pusher(reg.host());
            pusher.pushBlob("bench/big", big, src);
            fs::remove(src.blobPath(big.digest));

            oci::ContentStore dst(work.filePath("dst").toStdString());
            registry::RegistryClient client(reg.host());
            client.ping();
            const long before = maxRssKb();
            const auto start = Clock::now();
            client.fetchBlob("bench/big", big, dst);
            const double t = seconds(start);
            const long after = maxRssKb();
            std::printf("1 GB blob: %lld MiB fetched in %.2f s (%.0f MiB/s), verified=%s\n",
                        static_cast<long long>(blobMb), t, static_cast<double>(blobMb) / t,
                        dst.verify(big.digest) ? "yes" : "NO");
            std::printf("1 GB blob: peak RSS before %ld KiB, after %ld KiB, delta %ld KiB\n", before, after, after - before);
        }

        // --- 2. ~200 MB in ~100 blobs: ours vs skopeo --------------------------------------------
        QTemporaryDir work;
        auto layout = oci::OciLayout::create(work.filePath("image").toStdString());
        std::mt19937_64 rng(7);
        const std::int64_t average = (imageMb << 20) / blobCount;
        oci::Manifest manifest;
        manifest.mediaType = std::string(oci::media::OciManifest);
        std::int64_t total = 0;
        for (int i = 0; i < blobCount; ++i) {
            // sizes spread between 0.5x and 1.5x the average
            const std::int64_t size = average / 2 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(average));
            manifest.layers.push_back(generateBlob(layout.blobs(), size, 1000 + static_cast<std::uint64_t>(i)));
            total += size;
        }
        manifest.config = layout.blobs().put(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
                                             std::string(oci::media::OciConfig));
        const std::string manifestBytes = manifest.toJson().dump();
        layout.setTag("latest", layout.blobs().put(manifestBytes, std::string(oci::media::OciManifest)));
        {
            registry::RegistryClient pusher(reg.host());
            const auto start = Clock::now();
            registry::pushLayoutTag(pusher, layout, "latest", "bench/image", "latest");
            std::printf("image: %d blobs, %.1f MiB; pushed in %.2f s\n", blobCount, static_cast<double>(total) / (1 << 20),
                        seconds(start));
        }

        std::vector<double> ours, skopeo;
        for (int run = 0; run < runs; ++run) {
            {
                QTemporaryDir dst;
                auto target = oci::OciLayout::create(dst.filePath("oci").toStdString());
                registry::RegistryClient client(reg.host());
                const auto start = Clock::now();
                registry::pullToLayout(client, "bench/image", "latest", target, "latest");
                ours.push_back(seconds(start));
            }
            {
                QTemporaryDir dst;
                QProcess p;
                p.setProcessChannelMode(QProcess::MergedChannels);
                const auto start = Clock::now();
                p.start("skopeo", {"copy", "--insecure-policy", "--src-tls-verify=false",
                                   QString("docker://%1/bench/image:latest").arg(QString::fromStdString(reg.host())),
                                   "oci:" + dst.filePath("oci") + ":latest"});
                if (!p.waitForFinished(600000) || p.exitCode() != 0) {
                    std::fprintf(stderr, "skopeo copy failed: %s\n", p.readAll().constData());
                    return 1;
                }
                skopeo.push_back(seconds(start));
            }
            std::printf("run %d: cachescope pullToLayout %.2f s, skopeo copy %.2f s\n", run + 1, ours.back(), skopeo.back());
        }
        const double a = median(ours), b = median(skopeo);
        const double mib = static_cast<double>(total) / (1 << 20);
        std::printf("median: cachescope %.2f s (%.0f MiB/s), skopeo %.2f s (%.0f MiB/s); skopeo/cachescope = %.2fx\n", a,
                    mib / a, b, mib / b, b / a);
        std::printf("peak RSS of the whole run: %ld KiB\n", maxRssKb());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_registry_pull: %s\n", e.what());
        return 1;
    }
    return 0;
}

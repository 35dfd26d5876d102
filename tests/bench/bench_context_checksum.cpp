// Context checksum throughput, peak memory and stat-cache re-check (issue 3, Performance).
// Generates a context of 100,000 files / 1 GiB in a temporary directory, then in the same run times
//   - ContentTree::scan + contentKey over the whole context (both cores), no stat cache,
//   - find DIR -type f -print0 | xargs -0 -P2 sha256sum over the same files,
// each twice (page cache cannot be dropped unprivileged: the second, warm run is reported), the
// throughput ratio, the peak RSS of the scan, and a re-check of the unchanged context with the stat
// cache. A timed executable, not a CTest test: ./dev bench runs it.
//   bench_context_checksum [--files N] [--bytes B] [--dir PARENT]
#include "base/error.h"
#include "solver/content_hash.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace cachescope;
using namespace cachescope::solver;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// VmHWM of this process, in MiB; resettable through /proc/self/clear_refs.
double peakRssMiB()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmHWM:"))
            return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    return -1;
}

bool resetPeakRss()
{
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    return static_cast<bool>(out.flush());
}

void generate(const fs::path& root, std::size_t files, std::uint64_t bytes)
{
    const std::size_t perDir = 100;
    const std::uint64_t avg = bytes / files;
    std::uint64_t state = 0x9e3779b97f4a7c15ull, written = 0;
    std::string buf;
    for (std::size_t i = 0; i < files; ++i) {
        const fs::path dir = root / ("d" + std::to_string(i / perDir / 100)) / ("s" + std::to_string(i / perDir % 100));
        if (i % perDir == 0)
            fs::create_directories(dir);
        // Sizes from avg/2 to 3avg/2; the last file takes the remainder so the total is exact.
        std::uint64_t size = avg / 2 + (i * 7919) % (avg + 1);
        if (i == files - 1)
            size = bytes > written ? bytes - written : 0;
        buf.resize(size);
        for (std::size_t k = 0; k + 8 <= size; k += 8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            std::memcpy(buf.data() + k, &state, 8);
        }
        const fs::path p = dir / ("f" + std::to_string(i) + ".bin");
        const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()) || ::close(fd) != 0)
            throw Error(p.string() + ": cannot write");
        written += size;
    }
}

struct ScanRun {
    double seconds = 0;
    double walkSeconds = 0; // ContentTree::scan: directory walk, lstat, xattrs, stat cache load
    oci::Digest key;
    std::size_t hits = 0, hashed = 0;
};

ScanRun scanOnce(const fs::path& root, const fs::path& statCache)
{
    ScanOptions o;
    o.statCacheFile = statCache;
    const auto t0 = Clock::now();
    ContentTree tree = ContentTree::scan(root, o);
    const double walked = secondsSince(t0);
    const ContentKey key = tree.contentKey({});
    if (!statCache.empty())
        tree.saveStatCache();
    ScanRun r;
    r.seconds = secondsSince(t0);
    r.walkSeconds = walked;
    r.key = key.key.digest;
    r.hits = tree.statCacheHits();
    r.hashed = tree.filesHashed();
    return r;
}

double sha256sumOnce(const fs::path& root)
{
    const std::string cmd = "find '" + root.string() + "' -type f -print0 | xargs -0 -P2 sha256sum > /dev/null";
    const auto t0 = Clock::now();
    const int rc = std::system(cmd.c_str());
    if (rc != 0)
        throw Error("sha256sum pipeline failed: " + std::to_string(rc));
    return secondsSince(t0);
}

} // namespace

int main(int argc, char** argv)
{
    std::size_t files = 100'000;
    std::uint64_t bytes = 1ull << 30;
    fs::path parent = fs::temp_directory_path();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--files")
            files = std::stoull(argv[i + 1]);
        else if (a == "--bytes")
            bytes = std::stoull(argv[i + 1]);
        else if (a == "--dir")
            parent = argv[i + 1];
    }
    const fs::path work = parent / ("cachescope-bench-ctx-" + std::to_string(::getpid()));
    const fs::path root = work / "context";
    const fs::path statCache = work / "statcache.bin";
    int status = 0;
    try {
        std::printf("bench_context_checksum: %zu files, %.0f MiB in %s, %u cores\n", files, bytes / 1048576.0,
                    root.c_str(), std::thread::hardware_concurrency());
        auto t0 = Clock::now();
        generate(root, files, bytes);
        std::printf("generated in %.1f s\n", secondsSince(t0));
        const auto generated = Clock::now();
        const double mib = bytes / 1048576.0;

        double sum[2], scan[2];
        oci::Digest key;
        for (int run = 0; run < 2; ++run) {
            sum[run] = sha256sumOnce(root);
            const bool resettable = resetPeakRss();
            const ScanRun s = scanOnce(root, {});
            scan[run] = s.seconds;
            key = s.key;
            std::printf("run %d: sha256sum -P2 %.2f s (%.0f MiB/s) | ContentTree scan+contentKey %.2f s (%.0f MiB/s), "
                        "peak RSS %.1f MiB%s\n",
                        run + 1, sum[run], mib / sum[run], s.seconds, mib / s.seconds, peakRssMiB(),
                        resettable ? "" : " (process peak, reset unsupported)");
        }
        const double ratio = sum[1] / scan[1];
        std::printf("warm: throughput ratio ContentTree / sha256sum = %.2f (goal >= 0.80) %s\n", ratio,
                    ratio >= 0.8 ? "OK" : "BELOW GOAL");
        const double peak = peakRssMiB();
        std::printf("peak RSS of the scan: %.1f MiB (goal < 128 MiB) %s\n", peak, peak < 128 ? "OK" : "ABOVE GOAL");

        // Stat cache: the first scan with it hashes and stores (the files are older than the racy
        // window by now), the re-check reads no file contents.
        // Files changed within the racy window (2 s) before a scan are not stored: wait that out
        // (only a small --files run gets here that fast).
        if (secondsSince(generated) < 2.2)
            std::this_thread::sleep_for(std::chrono::duration<double>(2.2 - secondsSince(generated)));
        const ScanRun fill = scanOnce(root, statCache);
        const ScanRun recheck = scanOnce(root, statCache);
        std::printf("stat cache: fill %.2f s (%zu hashed), re-check of the unchanged context %.2f s, of which the walk "
                    "%.2f s (%zu from the cache, %zu hashed): %.1fx faster than the warm full scan, cache file %.1f MiB\n",
                    fill.seconds, fill.hashed, recheck.seconds, recheck.walkSeconds, recheck.hits, recheck.hashed,
                    scan[1] / recheck.seconds,
                    fs::file_size(statCache) / 1048576.0);
        if (fill.key != key || recheck.key != key) {
            std::printf("ERROR: content keys differ with the stat cache\n");
            status = 1;
        }
        std::printf("content key %s\n", key.str().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_context_checksum: %s\n", e.what());
        status = 1;
    }
    std::error_code ec;
    fs::remove_all(work, ec);
    return status;
}

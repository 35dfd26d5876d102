// Layer writer throughput on a ~200 MB tree (gzip, zstd) against tar | gzip -1 / gzip -6 / zstd
// of the same tree in the same run, and peak RSS of writing a layer holding a 1 GB file.
//   bench_layer_writer [--benchmark_filter=…]      (CACHESCOPE_BENCH_DIR: scratch, default /tmp)
#include "exec/layer_writer.h"
#include "oci/content_store.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace cachescope;
namespace fs = std::filesystem;

namespace {

const fs::path& scratch()
{
    // Fixed at first use: the forked RSS children must write under the parent's directory.
    static const fs::path path = [] {
        const char* dir = std::getenv("CACHESCOPE_BENCH_DIR");
        return fs::path(dir ? dir : "/tmp") / ("bench-layer-writer-" + std::to_string(::getpid()));
    }();
    return path;
}

// Text-like content (compresses ~3-4x, like source trees and binaries mixed).
std::string chunk(std::mt19937_64& rng, std::size_t size)
{
    static const char* words[] = {"layer", "cache", "build", "snapshot", "digest", "overlay", "sandbox",
                                  "export", "import", "record", "manifest", "blob", "key", "step"};
    std::string s;
    s.reserve(size + 16);
    while (s.size() < size) {
        std::uint64_t r = rng();
        s += words[r % 14];
        s += (r >> 8) % 7 == 0 ? '\n' : ' ';
        if ((r >> 16) % 5 == 0)
            s += std::to_string(r >> 40);
    }
    s.resize(size);
    return s;
}

std::uint64_t treeBytes = 0;

const fs::path& tree()
{
    static fs::path root = [] {
        fs::path t = scratch() / "tree";
        std::mt19937_64 rng(42);
        for (int d = 0; d < 40; ++d) {
            fs::create_directories(t / ("dir" + std::to_string(d)));
            for (int f = 0; f < 50; ++f) {
                std::size_t size = 20000 + rng() % 160000; // ~100 KB average, 2,000 files
                std::ofstream(t / ("dir" + std::to_string(d)) / ("file" + std::to_string(f))) << chunk(rng, size);
                treeBytes += size;
            }
        }
        return t;
    }();
    return root;
}

void writer(benchmark::State& state, oci::media::Compression c, int threads)
{
    const fs::path& t = tree();
    for (auto _ : state) {
        fs::remove_all(scratch() / "store");
        oci::ContentStore store(scratch() / "store");
        exec::LayerWriterOptions o;
        o.compression = c;
        o.threads = threads;
        o.whiteouts = exec::WhiteoutFormat::Oci;
        auto r = exec::writeLayer(t, store, o);
        state.counters["ratio"] = double(r.tarSize) / double(r.descriptor.size);
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(treeBytes));
}

void shell(benchmark::State& state, const std::string& pipeline)
{
    const fs::path& t = tree();
    const std::string cmd = "tar -C " + t.string() + " -cf - . | " + pipeline + " > " + (scratch() / "out").string();
    for (auto _ : state)
        if (std::system(cmd.c_str()) != 0)
            state.SkipWithError(("failed: " + cmd).c_str());
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(treeBytes));
}

// Writes a layer with a 1 GB file in a child process and reports the child's peak RSS.
void peakRss(benchmark::State& state, oci::media::Compression c)
{
    fs::path big = scratch() / "big";
    if (!fs::exists(big / "file.bin")) {
        fs::create_directories(big);
        std::mt19937_64 rng(7);
        std::ofstream out(big / "file.bin", std::ios::binary);
        std::string block = chunk(rng, 1 << 20);
        for (int i = 0; i < 1024; ++i) {
            block[static_cast<std::size_t>(i)] = char(rng()); // not one repeated block
            out << block;
        }
    }
    for (auto _ : state) {
        pid_t pid = ::fork();
        if (pid == 0) {
            oci::ContentStore store(scratch() / "big-store");
            exec::LayerWriterOptions o;
            o.compression = c;
            o.whiteouts = exec::WhiteoutFormat::Oci;
            exec::writeLayer(big, store, o);
            ::_exit(0);
        }
        int status = 0;
        struct rusage usage {};
        ::wait4(pid, &status, 0, &usage);
        state.counters["peak_rss_MB"] = double(usage.ru_maxrss) / 1024.0;
        fs::remove_all(scratch() / "big-store");
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * (std::int64_t(1) << 30));
}

} // namespace

BENCHMARK_CAPTURE(writer, gzip_default, oci::media::Compression::Gzip, 0)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
// One gzip worker: the single-threaded compressor this writer had before gzip members went parallel.
BENCHMARK_CAPTURE(writer, gzip_1thread, oci::media::Compression::Gzip, 1)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(writer, zstd_threads, oci::media::Compression::Zstd, 0)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(writer, zstd_1thread, oci::media::Compression::Zstd, 1)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(writer, uncompressed, oci::media::Compression::Uncompressed, 0)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(shell, tar_gzip_1, "gzip -1")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(shell, tar_gzip_6, "gzip -6")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(shell, tar_zstd, "zstd -q -3")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(shell, tar_zstd_T0, "zstd -q -3 -T0")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(peakRss, gzip_1GB_file, oci::media::Compression::Gzip)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(peakRss, zstd_1GB_file, oci::media::Compression::Zstd)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ec;
    fs::remove_all(scratch(), ec);
    return 0;
}

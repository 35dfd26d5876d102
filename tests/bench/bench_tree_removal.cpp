// Removing a build's scratch tree: removeTree (several threads) against std::filesystem::remove_all
// (one thread) on the same trees, in the same run (Google Benchmark). Each iteration removes a fresh
// tree shaped like a build's scratch dir: `dirs` step directories of `files` small files each, removed
// as written or after a sync. The disk under the tree decides the ratio: where freeing blocks waits
// for the device (ext4 mounted with discard, once the blocks are on disk), unlinking on several
// threads overlaps those waits.
//   bench_tree_removal [--benchmark_...]   (CACHESCOPE_BENCH_DIR: where the trees go, default /tmp)
#include "base/tree_removal.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <unistd.h> // getpid

namespace fs = std::filesystem;

namespace {

fs::path scratchTree()
{
    const char* dir = std::getenv("CACHESCOPE_BENCH_DIR");
    return fs::path(dir ? dir : "/tmp") / ("bench-tree-removal-" + std::to_string(::getpid()));
}

void makeTree(const fs::path& root, int dirs, int files)
{
    for (int d = 0; d < dirs; ++d) {
        const fs::path dir = root / ("step-" + std::to_string(d)) / "diff";
        fs::create_directories(dir);
        for (int f = 0; f < files; ++f)
            std::ofstream(dir / ("file" + std::to_string(f))) << "content of file " << f << '\n';
    }
}

template <typename Remove>
void removal(benchmark::State& state, Remove remove)
{
    const int dirs = static_cast<int>(state.range(0));
    const int files = static_cast<int>(state.range(1));
    const bool written = state.range(2) != 0;
    const fs::path root = scratchTree();
    for (auto _ : state) {
        state.PauseTiming();
        fs::remove_all(root);
        makeTree(root, dirs, files);
        if (written)
            ::sync(); // blocks allocated and on disk: freeing them may wait for the device
        state.ResumeTiming();
        remove(root);
        if (fs::exists(root))
            state.SkipWithError("the tree is still there");
    }
    state.counters["entries_per_s"] =
        benchmark::Counter(static_cast<double>(dirs) * (files + 2), benchmark::Counter::kIsIterationInvariantRate);
}

void threaded(benchmark::State& state)
{
    removal(state, [](const fs::path& p) { cachescope::removeTree(p); });
}

void oneThread(benchmark::State& state)
{
    removal(state, [](const fs::path& p) { fs::remove_all(p); });
}

} // namespace

// dirs, files per dir, synced first: a small build (fixture 02: ~40 entries) and a larger one (~2,000
// files), each freshly written (delayed allocation: nothing on disk yet) and written out.
static void shapes(benchmark::internal::Benchmark* b)
{
    for (const auto& [dirs, files] : {std::pair{10, 2}, std::pair{40, 50}})
        for (int synced : {0, 1})
            b->Args({dirs, files, synced});
    b->ArgNames({"dirs", "files", "synced"})->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(oneThread)->Name("remove_all/1_thread")->Apply(shapes);
BENCHMARK(threaded)->Name("removeTree/8_threads")->Apply(shapes);

BENCHMARK_MAIN();

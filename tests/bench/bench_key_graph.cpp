// Parse + key graph build of a generated cache config with 20,000 records and 5,000 layers
// (goal: under 100 ms and under 64 MB). Prints the peak heap of one parse+build (every
// allocation counted) and the process RSS growth, then runs the timed Google Benchmark loops.
#include "cache/cache_config.h"
#include "cache/key_graph.h"
#include "oci/media_types.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <random>
#include <sys/resource.h>

using namespace cachescope;
using namespace cachescope::cache;

// Counting allocator: current and peak bytes of live heap.
namespace {
std::atomic<std::size_t> gLive{0};
std::atomic<std::size_t> gPeak{0};
std::atomic<std::size_t> gCount{0};
std::atomic<bool> gCounting{true}; // off during the timed loops, so they measure the code, not the counter

void noteAlloc(void* p)
{
    if (!p || !gCounting.load(std::memory_order_relaxed))
        return;
    const std::size_t now = gLive += malloc_usable_size(p);
    ++gCount;
    std::size_t peak = gPeak.load();
    while (now > peak && !gPeak.compare_exchange_weak(peak, now)) {
    }
}
} // namespace

// The replacements below pair malloc with free on purpose; GCC sees through operator delete
// and warns about the mix it cannot know is ours on both sides.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n)
{
    void* p = std::malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    noteAlloc(p);
    return p;
}
void operator delete(void* p) noexcept
{
    if (p && gCounting.load(std::memory_order_relaxed))
        gLive -= malloc_usable_size(p);
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
#pragma GCC diagnostic pop

namespace {

constexpr int kRecords = 20000;
constexpr int kLayers = 5000;
constexpr int kRoots = 2000;

std::string hexDigest(std::mt19937_64& rng)
{
    static const char* hex = "0123456789abcdef";
    std::string s = "sha256:";
    for (int i = 0; i < 4; ++i) {
        std::uint64_t v = rng();
        for (int k = 0; k < 16; ++k, v >>= 4)
            s += hex[v & 15];
    }
    return s;
}

struct Generated {
    std::string json;
    std::map<oci::Digest, oci::Descriptor> listed;
};

// A realistic shape: 50 base layers and stages of ~20 layers on them; 2,000 roots (image and
// content keys); the other records form chains (a RUN or COPY on the previous step of a stage,
// with sha256("/") or a COPY selector), a third take a content key as a second input, some
// inputs have two alternatives, 5,000 carry a result. Record positions are shuffled (BuildKit
// sorts by digest), so links point both ways.
Generated generate()
{
    std::mt19937_64 rng(42);
    Generated g;
    std::vector<std::string> blobs(kLayers);
    std::vector<int> parents(kLayers);
    for (int i = 0; i < kLayers; ++i) {
        blobs[static_cast<std::size_t>(i)] = hexDigest(rng);
        if (i < 50)
            parents[static_cast<std::size_t>(i)] = -1;
        else if ((i - 50) % 20 == 0)
            parents[static_cast<std::size_t>(i)] = static_cast<int>(rng() % 50);
        else
            parents[static_cast<std::size_t>(i)] = i - 1;
    }
    // Logical order -> file position.
    std::vector<int> position(kRecords);
    for (int i = 0; i < kRecords; ++i)
        position[static_cast<std::size_t>(i)] = i;
    std::shuffle(position.begin(), position.end(), rng);

    struct Rec {
        std::string digest;
        std::vector<std::vector<std::pair<std::string, int>>> inputs;
        int layer = -1;
    };
    std::vector<Rec> recs(kRecords);
    const std::string slash = oci::Digest::of("/").str();
    std::vector<std::string> copySelectors;
    for (int i = 0; i < 200; ++i)
        copySelectors.push_back(hexDigest(rng));
    int nextLayer = 0;
    for (int i = 0; i < kRecords; ++i) {
        Rec& r = recs[static_cast<std::size_t>(position[static_cast<std::size_t>(i)])];
        r.digest = hexDigest(rng);
        if (i < kRoots)
            continue;
        // Input 0: the previous step (mostly the record just before: long chains).
        const int prev = (rng() % 4 != 0) ? i - 1 : kRoots + static_cast<int>(rng() % static_cast<std::uint64_t>(i - kRoots + 1)) - 1;
        const int parent = prev < kRoots ? static_cast<int>(rng() % kRoots) : prev;
        const std::uint64_t kind = rng() % 10;
        std::string sel = kind < 5 ? slash : (kind < 6 ? copySelectors[rng() % copySelectors.size()] : std::string());
        std::vector<std::pair<std::string, int>> in0{{sel, position[static_cast<std::size_t>(parent)]}};
        if (rng() % 10 == 0) // a second alternative (e.g. both image keys)
            in0.push_back({sel, position[static_cast<std::size_t>(rng() % kRoots)]});
        r.inputs.push_back(std::move(in0));
        if (rng() % 3 == 0) // COPY: content key as input 1
            r.inputs.push_back({{std::string(), position[static_cast<std::size_t>(rng() % kRoots)]}});
        if (nextLayer < kLayers && rng() % 18 < 5)
            r.layer = nextLayer++;
    }
    // Hand out leftover layers so every layer tops exactly one result.
    for (int i = kRoots; i < kRecords && nextLayer < kLayers; ++i) {
        Rec& r = recs[static_cast<std::size_t>(position[static_cast<std::size_t>(i)])];
        if (r.layer < 0)
            r.layer = nextLayer++;
    }

    std::string& j = g.json;
    j.reserve(8 << 20);
    j += "{\"layers\":[";
    for (int i = 0; i < kLayers; ++i) {
        j += i ? ",{\"blob\":\"" : "{\"blob\":\"";
        j += blobs[static_cast<std::size_t>(i)];
        j += '"';
        if (parents[static_cast<std::size_t>(i)] != 0) {
            j += ",\"parent\":";
            j += std::to_string(parents[static_cast<std::size_t>(i)]);
        }
        j += '}';
        oci::Descriptor d;
        d.mediaType = std::string(oci::media::OciLayerGzip);
        d.digest = oci::Digest::parse(blobs[static_cast<std::size_t>(i)]);
        d.size = 1000 + i;
        d.annotations[std::string(oci::media::AnnotationUncompressed)] = hexDigest(rng);
        d.annotations[std::string(oci::media::AnnotationCreatedAt)] = "2026-11-27T15:20:49.414796389Z";
        g.listed.emplace(d.digest, std::move(d));
    }
    j += "],\"records\":[";
    for (int i = 0; i < kRecords; ++i) {
        const Rec& r = recs[static_cast<std::size_t>(i)];
        j += i ? ",{" : "{";
        if (r.layer >= 0) {
            j += "\"layers\":[{\"layer\":" + std::to_string(r.layer) + ",\"createdAt\":\"2026-11-27T15:20:";
            j += std::to_string(10 + i % 50) + "." + std::to_string(100000000 + i) + "Z\"}],";
        }
        j += "\"digest\":\"" + r.digest + "\"";
        if (!r.inputs.empty()) {
            j += ",\"inputs\":[";
            for (std::size_t k = 0; k < r.inputs.size(); ++k) {
                j += k ? ",[" : "[";
                for (std::size_t a = 0; a < r.inputs[k].size(); ++a) {
                    j += a ? ",{" : "{";
                    if (!r.inputs[k][a].first.empty())
                        j += "\"selector\":\"" + r.inputs[k][a].first + "\",";
                    j += "\"link\":" + std::to_string(r.inputs[k][a].second) + "}";
                }
                j += ']';
            }
            j += ']';
        }
        j += '}';
    }
    j += "]}";
    return g;
}

const Generated& generated()
{
    static const Generated g = generate();
    return g;
}

long maxRssKb()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

void BM_ParseConfig(benchmark::State& state)
{
    const auto& g = generated();
    for (auto _ : state) {
        CacheConfig c = parseCacheConfig(g.json, "bench");
        benchmark::DoNotOptimize(c.records.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g.json.size()));
}

void BM_BuildGraph(benchmark::State& state)
{
    const auto& g = generated();
    const CacheConfig c = parseCacheConfig(g.json, "bench");
    for (auto _ : state) {
        KeyGraph graph = KeyGraph::build(c, g.listed, "bench");
        benchmark::DoNotOptimize(graph.itemCount());
    }
}

void BM_ParseAndBuild(benchmark::State& state)
{
    const auto& g = generated();
    for (auto _ : state) {
        CacheConfig c = parseCacheConfig(g.json, "bench");
        KeyGraph graph = KeyGraph::build(c, g.listed, "bench");
        benchmark::DoNotOptimize(graph.itemCount());
    }
}

BENCHMARK(BM_ParseConfig)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildGraph)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseAndBuild)->Unit(benchmark::kMillisecond);

} // namespace

int main(int argc, char** argv)
{
    const auto& g = generated();
    // One measured run before the loops: heap peak above what the input already holds.
    const std::size_t baseLive = gLive.load();
    const long rssBefore = maxRssKb();
    gPeak = baseLive;
    const std::size_t countBefore = gCount.load();
    std::size_t retained = 0;
    std::size_t items = 0, results = 0, links = 0, roots = 0, layers = 0;
    {
        CacheConfig c = parseCacheConfig(g.json, "bench");
        KeyGraph graph = KeyGraph::build(c, g.listed, "bench");
        retained = gLive.load() - baseLive;
        items = graph.itemCount();
        results = graph.resultCount();
        links = graph.linkCount();
        roots = graph.rootCount();
        layers = graph.layerCount();
    }
    const std::size_t peak = gPeak.load() - baseLive;
    const long rssAfter = maxRssKb();
    std::printf("config: %zu bytes JSON, %d records, %d layers -> %zu items, %zu roots, %zu links, %zu results, %zu layer blobs\n",
                g.json.size(), kRecords, kLayers, items, roots, links, results, layers);
    std::printf("parse+build heap: peak %.1f MB above the input, %.1f MB retained (config + graph), %zu allocations\n",
                static_cast<double>(peak) / (1 << 20), static_cast<double>(retained) / (1 << 20), gCount.load() - countBefore);
    std::printf("process max RSS grew by %.1f MB during that run (max RSS now %.1f MB)\n",
                static_cast<double>(rssAfter - rssBefore) / 1024, static_cast<double>(rssAfter) / 1024);
    std::fflush(stdout);

    gCounting = false;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

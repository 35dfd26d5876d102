// Planning and matching time (issue 3, Performance): a generated 300-step, 10-stage Dockerfile against a
// generated 20,000-record cache whose keys match part of it. Everything is in memory (the Dockerfile text,
// the resolved base image, the cache config bytes): the figures exclude I/O. A timed executable: each
// phase is run 15 times and the median reported.
#include "base/error.h"
#include "cache/cache_config.h"
#include "cache/key_graph.h"
#include "dockerfile/parser.h"
#include "dockerfile/stages.h"
#include "oci/media_types.h"
#include "solver/cache_matcher.h"
#include "solver/miss_explainer.h"
#include "solver/op_graph.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace cachescope;
using namespace cachescope::solver;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kStages = 10;
constexpr int kStepsPerStage = 30; // instructions after each FROM: 300 steps
constexpr std::size_t kRecords = 20'000;

std::string generateDockerfile()
{
    std::string df = "ARG VERSION=1\n";
    for (int k = 0; k < kStages; ++k) {
        df += "FROM base:latest AS s" + std::to_string(k) + "\n";
        int n = 0;
        df += "ARG VERSION\n";
        ++n;
        df += "WORKDIR /w" + std::to_string(k) + "\n";
        ++n;
        df += "ENV STAGE=" + std::to_string(k) + "\n";
        ++n;
        if (k == kStages - 1)
            for (int j = 0; j < kStages - 1; ++j, ++n)
                df += "COPY --from=s" + std::to_string(j) + " /w" + std::to_string(j) + " /from" + std::to_string(j) + "\n";
        for (; n < kStepsPerStage; ++n)
            df += n % 5 == 0 ? "WORKDIR /w" + std::to_string(k) + "/d" + std::to_string(n) + "\n"
                             : "RUN echo \"stage " + std::to_string(k) + " step " + std::to_string(n) +
                                   " $VERSION\" >> /log && test -s /log\n";
    }
    return df;
}

struct Generated {
    cache::CacheConfig config;
    std::map<oci::Digest, oci::Descriptor> listed;
    std::size_t matchedRecords = 0;
};

// Records for the first two thirds of every stage's ops (keys equal to the graph's, each with a
// result), then unrelated records up to kRecords, half of them with results.
Generated generateCache(const OpGraph& g)
{
    Generated out;
    const auto addLayer = [&](const std::string& seed) {
        cache::Layer l;
        l.blob = oci::Digest::of("blob " + seed);
        l.parent = -1;
        cache::LayerAnnotations a;
        a.mediaType = std::string(oci::media::OciLayerGzip);
        a.diffId = oci::Digest::of("diff " + seed);
        a.size = 1234;
        a.createdAt = cache::Timestamp::fromNanos(1'700'000'000'000'000'000);
        l.annotations = a;
        oci::Descriptor d;
        d.mediaType = a.mediaType;
        d.digest = l.blob;
        d.size = a.size;
        d.annotations["containerd.io/uncompressed"] = a.diffId.str();
        out.listed[d.digest] = d;
        out.config.layers.push_back(std::move(l));
        return static_cast<int>(out.config.layers.size() - 1);
    };
    std::vector<int> recordOf(g.nodes.size(), -1);
    std::map<int, int> opsInStage, seenInStage;
    for (const auto& n : g.nodes)
        ++opsInStage[n.stage];
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
        const OpNode& n = g.nodes[i];
        if (++seenInStage[n.stage] * 3 > opsInStage[n.stage] * 2)
            continue;
        cache::Record r;
        r.digest = n.cacheMaps[0].record(n.output);
        bool linked = true;
        for (std::size_t in = 0; in < n.inputs.size(); ++in) {
            const int parent = recordOf[static_cast<std::size_t>(n.inputs[in].node)];
            if (parent < 0) {
                linked = false;
                break;
            }
            const auto& dep = n.cacheMaps[0].deps[in];
            r.inputs.push_back({cache::Input{dep.selector.empty() ? std::string() : dep.selector.str(), parent}});
        }
        if (!linked)
            continue;
        if (n.kind != OpKind::Image)
            r.results.push_back(cache::Result{addLayer(r.digest.str()), cache::Timestamp::fromNanos(1'700'000'000'000'000'000)});
        out.config.records.push_back(std::move(r));
        recordOf[i] = static_cast<int>(out.config.records.size() - 1);
    }
    out.matchedRecords = out.config.records.size();
    std::uint64_t x = 88172645463325252ull;
    while (out.config.records.size() < kRecords) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cache::Record r;
        const std::size_t idx = out.config.records.size();
        r.digest = oci::Digest::of("filler " + std::to_string(idx));
        if (idx % 8 != 0) // every eighth is a root
            r.inputs.push_back({cache::Input{"", static_cast<int>(x % idx)}});
        if (idx % 2 == 0)
            r.results.push_back(cache::Result{addLayer(std::to_string(idx)), cache::Timestamp::fromNanos(1'600'000'000'000'000'000)});
        out.config.records.push_back(std::move(r));
    }
    return out;
}

template <typename F>
double medianMs(int runs, F&& f)
{
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

} // namespace

int main()
{
    try {
        const std::string text = generateDockerfile();
        ImageSources images;
        ImageSource base;
        base.manifestDigest = oci::Digest::of("base manifest");
        base.platform.os = "linux";
        base.platform.architecture = "amd64";
        for (int i = 0; i < 5; ++i)
            base.diffIds.push_back(oci::Digest::of("base layer " + std::to_string(i)));
        images.byName["base:latest"] = base;
        dockerfile::BuildOptions bo;
        dockerfile::Platform p;
        p.os = "linux";
        p.architecture = "amd64";
        bo.buildPlatform = p;
        bo.targetPlatform = p;
        bo.resolveImage = [](const std::string& name, const dockerfile::Platform&) {
            dockerfile::BaseImage b;
            b.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
            b.resolvedName = name;
            return b;
        };

        dockerfile::Dockerfile df;
        dockerfile::BuildPlan plan;
        OpGraph graph;
        const double parseMs = medianMs(15, [&] { df = dockerfile::parseDockerfile(text); });
        const double planMs = medianMs(15, [&] { plan = dockerfile::planBuild(df, bo); });
        const double graphMs = medianMs(15, [&] { graph = buildOpGraph(plan, images); });
        std::size_t steps = 0;
        for (const auto& n : graph.nodes)
            steps += n.isStep ? 1 : 0;

        const Generated gen = generateCache(graph);
        const std::string configJson = cache::serializeCacheConfig(gen.config);
        cache::CacheConfig parsed;
        cache::KeyGraph kg;
        const double configMs = medianMs(15, [&] { parsed = cache::parseCacheConfig(configJson, "bench config"); });
        const double keyGraphMs = medianMs(15, [&] { kg = cache::KeyGraph::build(parsed, gen.listed, "bench config"); });

        const ContentKeys keys = contextContentKeys(graph, nullptr);
        const std::vector<MatchSource> sources{MatchSource{"type=local,src=bench", &kg, false}};
        std::vector<NodeMatch> matches;
        const double matchMs = medianMs(15, [&] { matches = matchGraph(graph, keys, sources); });
        std::size_t explained = 0;
        const double explainMs = medianMs(15, [&] {
            const ExplainContext ctx{graph, matches, plan, df, bo.buildArgs, sources.size(), ""};
            explained = 0;
            for (std::size_t n = 0; n < graph.nodes.size(); ++n)
                explained += explainNode(ctx, static_cast<int>(n)).cause.empty() ? 0 : 1;
        });
        std::size_t hits = 0, runs = 0, depends = 0;
        for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
            if (!graph.nodes[n].isStep)
                continue;
            hits += matches[n].evaluation == Evaluation::Hit || matches[n].evaluation == Evaluation::NotEvaluated;
            runs += matches[n].evaluation == Evaluation::Run;
            depends += matches[n].evaluation == Evaluation::Depends;
        }

        std::printf("bench_plan: %d stages, %zu Dockerfile lines, %zu ops (%zu steps); cache %zu records "
                    "(%zu with the graph's keys), %zu layers\n",
                    kStages, static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), graph.nodes.size(),
                    steps, gen.config.records.size(), gen.matchedRecords, gen.config.layers.size());
        std::printf("outcome: %zu steps cached, %zu run, %zu depend on a stage output; %zu explanations\n", hits, runs,
                    depends, explained);
        std::printf("median of 15, no I/O:\n");
        std::printf("  parse Dockerfile        %8.3f ms\n", parseMs);
        std::printf("  plan stages             %8.3f ms\n", planMs);
        std::printf("  op graph + cache keys   %8.3f ms\n", graphMs);
        std::printf("  parse cache config      %8.3f ms (%.1f MB JSON)\n", configMs, configJson.size() / 1e6);
        std::printf("  build key graph         %8.3f ms\n", keyGraphMs);
        std::printf("  match every step        %8.3f ms\n", matchMs);
        std::printf("  explain every op        %8.3f ms\n", explainMs);
        std::printf("  plan + match total      %8.3f ms (parse, plan, op graph, match, explain)\n",
                    parseMs + planMs + graphMs + matchMs + explainMs);
        if (hits == 0 || runs == 0) {
            std::fprintf(stderr, "bench_plan: the generated cache should match part of the build\n");
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_plan: %s\n", e.what());
        return 1;
    }
    return 0;
}

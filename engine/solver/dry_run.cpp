#include "solver/dry_run.h"

#include "solver/build_context.h"
#include "solver/target_graph.h"

#include "base/error.h"
#include "base/files.h"
#include "base/utf8.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/instructions.h"
#include "solver/cache_matcher.h"
#include "solver/file_detail.h"
#include "solver/stat_cache.h"
#include "solver/image_resolver.h"
#include "solver/miss_explainer.h"
#include "solver/op_graph.h"
#include "solver/platform.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

namespace cachescope::solver {

namespace fs = std::filesystem;

namespace {

std::string producerName(const OpGraph& graph, int node)
{
    if (node < 0 || node >= static_cast<int>(graph.nodes.size()))
        return "scratch";
    const OpNode& n = graph.nodes[static_cast<std::size_t>(node)];
    if (!n.displayName.empty())
        return n.displayName;
    switch (n.kind) {
    case OpKind::Image: return "image " + n.imageName;
    case OpKind::Local: return "build context";
    case OpKind::Exec: return "exec op";
    case OpKind::File: return "file op";
    case OpKind::Merge: return "merge op";
    }
    return "op";
}

// Fills what was hashed for a step: the op's CacheMap plaintext and digest and each input's selectors.
void describeKey(StepResult& r, const OpGraph& graph, const OpNode& node)
{
    const CacheMap& cm = node.cacheMaps[0];
    r.keyPlaintext = node.kind == OpKind::Image && !cm.keyPlaintext.empty() ? cm.keyPlaintext : cm.plaintext;
    r.keyDigest = cm.digest.str();
    for (std::size_t i = 0; i < cm.deps.size(); ++i) {
        const CacheMapDep& dep = cm.deps[i];
        StepInput in;
        in.producer = producerName(graph, i < node.inputs.size() ? node.inputs[i].node : -1);
        std::size_t start = 0;
        while (start < dep.selectorPlaintext.size()) {
            const std::size_t end = std::min(dep.selectorPlaintext.find('\0', start), dep.selectorPlaintext.size());
            in.selectorPaths.push_back(dep.selectorPlaintext.substr(start, end - start));
            start = end + 1;
        }
        in.selector = dep.selector.empty() ? std::string() : dep.selector.str();
        in.contentBased = dep.contentBased;
        if (dep.contentBased && dep.contentSelectors.empty())
            in.contentSelectors.push_back("/");
        for (const ContentSelector& sel : dep.contentSelectors)
            in.contentSelectors.push_back(sel.path.empty() ? "/" : sel.path);
        r.inputs.push_back(std::move(in));
    }
}

// JSON strings must be UTF-8: invalid bytes become U+FFFD as Go's encoder writes them.
std::string jsonSafe(const std::string& s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const DecodedRune r = decodeRune(s, i);
        if (r.valid)
            out.append(s, i, r.len);
        else
            appendUtf8(out, U'\uFFFD');
        i += r.len;
    }
    return out;
}

} // namespace

DryRunReport dryRun(const DryRunOptions& options, const LocalCacheStore* local)
{
    if (options.contextDir.empty() || !fs::is_directory(options.contextDir))
        throw Error("build context " + options.contextDir.string() + ": not a directory");
    const fs::path dfPath = options.dockerfile.empty() ? options.contextDir / "Dockerfile" : options.dockerfile;
    if (!fs::is_regular_file(dfPath))
        throw Error("Dockerfile " + dfPath.string() + ": not found");
    dockerfile::ParseOptions po;
    po.fileName = dfPath.filename().string();
    const dockerfile::Dockerfile df = dockerfile::parseDockerfile(readFile(dfPath), po);

    const auto checkCancel = [&] {
        if (options.cancel.stop_requested())
            throw OperationCancelled("dry run of " + options.contextDir.string() + " cancelled");
    };
    checkCancel();

    // Cache import runs while the Dockerfile is planned, as BuildKit starts it in the background.
    std::vector<cache::ImportedCache> imported;
    // The caller's stop token and its registry callback both stop registry transfers (import, images).
    const std::function<bool()> cancelled = [token = options.cancel, also = options.registryOptions.cancelled] {
        return token.stop_requested() || (also && also());
    };
    std::jthread importer([&] {
        imported = cache::importSourcesReusing(options.cacheFrom, options.preImported, cache::defaultProviderFactory(cancelled));
    });

    registry::RegistryOptions resolveOptions = options.registryOptions;
    resolveOptions.cancelled = cancelled;
    ImageResolver resolver(options.buildContexts, resolveOptions);
    TargetGraph target = planTargetGraph(df, po.fileName, options.target, options.buildArgs, options.platform, resolver);
    const dockerfile::BuildPlan& plan = target.plan;
    const OpGraph& graph = target.graph;

    std::optional<ContentTree> context;
    const fs::path dataDir = options.dataDir.empty() ? defaultDataDir() : options.dataDir;
    if (graph.context >= 0)
        context.emplace(scanBuildContext(options.contextDir, readDockerIgnore(options.contextDir),
                                         options.keepHistory ? StatCache::defaultFile(options.contextDir, dataDir)
                                                             : fs::path(),
                                         options.cancel));
    const ContentKeys keys = contextContentKeys(graph, context ? &*context : nullptr);
    if (context && options.keepHistory) {
        try {
            context->saveStatCache();
        } catch (const Error&) {
            // Only a cache: the next check hashes again.
        }
    }

    importer.join();
    checkCancel();
    const std::vector<MatchSource> sources = matchSources(imported, local);
    const std::vector<NodeMatch> matches = matchGraph(graph, keys, sources);
    std::optional<ContextHistory> history;
    if (options.keepHistory)
        history.emplace(dataDir, options.contextDir, dfPath);
    ContextFileDetail fileDetail(std::move(history), imported, sources);
    if (context)
        fileDetail.addCurrent(graph, keys, *context);

    DryRunReport report;
    report.dockerfile = dfPath.string();
    report.target = plan.target >= 0 ? plan.stages[static_cast<std::size_t>(plan.target)].name : "";
    report.platform = target.targetPlatform.str();
    std::string failed;
    for (const auto& c : imported) {
        report.sources.push_back(SourceResult{c.spec.raw, c.ok, c.error, c.recordCount()});
        if (!c.ok)
            failed += (failed.empty() ? "" : "; ") + c.error;
    }
    PlatformProbe platforms(graph, keys, sources, toOciPlatform(target.targetPlatform));
    const ExplainContext ectx{graph, matches, plan, df, options.buildArgs, sources.size(), failed, &platforms};

    // Steps in plan order: the FROM vertex, then each instruction's nodes (COPY --link has two).
    std::map<std::pair<int, int>, std::vector<int>> byInstruction;
    for (std::size_t n = 0; n < graph.nodes.size(); ++n)
        if (graph.nodes[n].isStep)
            byInstruction[{graph.nodes[n].stage, graph.nodes[n].instruction}].push_back(static_cast<int>(n));
    std::set<int> shownImages;
    for (const dockerfile::PlannedStep& ps : plan.steps()) {
        checkCancel();
        const auto& st = plan.stages[static_cast<std::size_t>(ps.stage)];
        if (ps.instruction < 0) {
            // The image vertex is printed once however many stages use it.
            int node = -1;
            for (std::size_t n = 0; n < graph.nodes.size(); ++n)
                if (graph.nodes[n].kind == OpKind::Image && graph.nodes[n].imageName == st.baseName)
                    node = static_cast<int>(n);
            if (node >= 0 && !shownImages.insert(node).second)
                continue;
            StepResult r;
            r.name = ps.displayName;
            r.stage = st.name;
            r.isFrom = true;
            if (node >= 0) {
                const NodeMatch& m = matches[static_cast<std::size_t>(node)];
                r.recordDigest = graph.nodes[static_cast<std::size_t>(node)].cacheMaps[0].record().str();
                describeKey(r, graph, graph.nodes[static_cast<std::size_t>(node)]);
                if (!sources.empty()) {
                    if (m.manifestKeyFound && m.chainKeyFound)
                        r.explanation = "both image keys (manifest digest, layer chain) are in the cache";
                    else if (m.chainKeyFound) {
                        const auto other = platforms.otherPlatform(node);
                        r.explanation = "the manifest digest is new" +
                                        (other ? " (its manifest key is cached for " + other->platform + ")" : std::string()) +
                                        ", but the layer-chain key matched: not a miss";
                    }
                    else if (const auto other = platforms.otherPlatform(node)) {
                        r.cause = "platform-differs";
                        r.explanation = platformDiffers("base image " + st.baseName, *other, platforms.target());
                    }
                    else if (m.manifestKeyFound)
                        r.explanation = "the manifest key matched";
                    else {
                        r.cause = "base-image-changed";
                        r.explanation = "base image changed: neither image key is in any cache source";
                    }
                }
            }
            report.steps.push_back(std::move(r));
            continue;
        }
        for (int n : byInstruction[{ps.stage, ps.instruction}]) {
            const OpNode& node = graph.nodes[static_cast<std::size_t>(n)];
            const NodeMatch& m = matches[static_cast<std::size_t>(n)];
            StepResult r;
            r.name = node.displayName;
            r.stage = st.name;
            r.recordDigest = node.cacheMaps[0].record(node.output).str();
            describeKey(r, graph, node);
            r.cached = m.evaluation == Evaluation::Hit || m.evaluation == Evaluation::NotEvaluated;
            r.evaluated = m.evaluation != Evaluation::NotEvaluated;
            r.dependsOnStage = m.evaluation == Evaluation::Depends;
            if (m.served && m.evaluation == Evaluation::Hit) {
                r.source = m.served->source;
                r.alsoIn = m.alsoIn;
            }
            const Explanation e = explainNode(ectx, n);
            r.cause = e.cause;
            r.explanation = e.text;
            if (auto d = fileDetail.forNode(graph, keys, matches, n, context ? &*context : nullptr)) {
                r.changedFiles = std::move(d->files);
                r.changedFilesComparedWith = std::move(d->comparedWith);
                if (r.cause == "context-changed" && !r.changedFiles.empty()) {
                    std::string list;
                    for (std::size_t k = 0; k < r.changedFiles.size() && k < 5; ++k)
                        list += (k ? "; " : "") + describeChange(r.changedFiles[k]);
                    if (r.changedFiles.size() > 5)
                        list += "; " + std::to_string(r.changedFiles.size() - 5) + " more";
                    r.explanation += ": " + list;
                }
            }
            report.steps.push_back(std::move(r));
        }
    }
    checkCancel();
    fileDetail.record(); // a history that cannot be written costs only the next build's file detail
    return report;
}

nlohmann::ordered_json dryRunJson(const DryRunReport& report)
{
    nlohmann::ordered_json j;
    j["dockerfile"] = report.dockerfile;
    j["target"] = report.target;
    j["platform"] = report.platform;
    j["steps"] = nlohmann::ordered_json::array();
    for (const auto& s : report.steps) {
        nlohmann::ordered_json o;
        o["name"] = s.name;
        o["stage"] = s.stage;
        o["from"] = s.isFrom;
        o["cached"] = s.cached;
        o["evaluated"] = s.evaluated;
        o["dependsOnStageOutput"] = s.dependsOnStage;
        o["source"] = s.source.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.source);
        o["alsoIn"] = s.alsoIn;
        o["recordDigest"] = s.recordDigest;
        o["cause"] = s.cause;
        o["explanation"] = s.explanation;
        // Added after the first report format; readers of the older fields are unaffected.
        o["keyPlaintext"] = jsonSafe(s.keyPlaintext);
        o["keyDigest"] = s.keyDigest;
        o["changedFiles"] = nlohmann::ordered_json::array();
        for (const ChangedFile& f : s.changedFiles) {
            nlohmann::ordered_json c;
            c["path"] = f.path;
            c["change"] = f.change;
            c["oldType"] = f.oldType.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.oldType);
            c["newType"] = f.newType.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.newType);
            c["oldSize"] = f.oldSize ? nlohmann::ordered_json(*f.oldSize) : nlohmann::ordered_json(nullptr);
            c["newSize"] = f.newSize ? nlohmann::ordered_json(*f.newSize) : nlohmann::ordered_json(nullptr);
            c["oldMode"] = f.oldMode ? nlohmann::ordered_json(*f.oldMode) : nlohmann::ordered_json(nullptr);
            c["newMode"] = f.newMode ? nlohmann::ordered_json(*f.newMode) : nlohmann::ordered_json(nullptr);
            if (!f.oldLink.empty() || !f.newLink.empty()) {
                c["oldLink"] = f.oldLink;
                c["newLink"] = f.newLink;
            }
            c["contentChanged"] = f.contentChanged;
            c["modeChanged"] = f.modeChanged;
            o["changedFiles"].push_back(std::move(c));
        }
        o["changedFilesComparedWith"] = s.changedFilesComparedWith;
        o["inputs"] = nlohmann::ordered_json::array();
        for (const StepInput& in : s.inputs) {
            nlohmann::ordered_json i;
            i["producer"] = jsonSafe(in.producer);
            i["selectorPaths"] = nlohmann::ordered_json::array();
            for (const auto& p : in.selectorPaths)
                i["selectorPaths"].push_back(jsonSafe(p));
            i["selector"] = in.selector.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(in.selector);
            i["contentBased"] = in.contentBased;
            i["contentSelectors"] = nlohmann::ordered_json::array();
            for (const auto& p : in.contentSelectors)
                i["contentSelectors"].push_back(jsonSafe(p));
            o["inputs"].push_back(std::move(i));
        }
        j["steps"].push_back(std::move(o));
    }
    j["sources"] = nlohmann::ordered_json::array();
    for (const auto& s : report.sources) {
        nlohmann::ordered_json o;
        o["spec"] = s.spec;
        o["ok"] = s.ok;
        o["error"] = s.error;
        o["records"] = s.records;
        j["sources"].push_back(std::move(o));
    }
    return j;
}

std::string dryRunText(const DryRunReport& report)
{
    std::ostringstream out;
    for (const auto& s : report.sources)
        out << (s.ok ? "source " : "source FAILED ") << s.spec << (s.ok ? "" : ": " + s.error) << "\n";
    int i = 1;
    for (const auto& s : report.steps) {
        out << "#" << i << " " << s.name << "\n";
        if (s.isFrom) {
            if (!s.explanation.empty())
                out << "#" << i << " " << s.explanation << "\n";
        } else if (s.cached) {
            out << "#" << i << " CACHED";
            if (!s.source.empty())
                out << " from " << s.source;
            if (!s.alsoIn.empty()) {
                out << " (also in";
                for (const auto& a : s.alsoIn)
                    out << " " << a;
                out << ")";
            }
            if (!s.evaluated)
                out << " (" << s.explanation << ")";
            out << "\n";
        } else {
            out << "#" << i << (s.dependsOnStage ? " DEPENDS " : " RUN ") << s.explanation << "\n";
            if (!s.changedFiles.empty())
                out << "#" << i << "   files changed since " << s.changedFilesComparedWith << ":\n";
            for (const ChangedFile& f : s.changedFiles)
                out << "#" << i << "     " << describeChange(f) << "\n";
        }
        ++i;
    }
    return out.str();
}

} // namespace cachescope::solver

#include "build/build_session.h"

#include "solver/build_context.h"
#include "solver/file_detail.h"
#include "solver/stat_cache.h"
#include "solver/target_graph.h"

#include "base/error.h"
#include "base/files.h"
#include "base/tree_removal.h"
#include "build/build_history.h"
#include "build/image_writer.h"
#include "build/local_store.h"
#include "cache/cache_exporter.h"
#include "cache/cache_importer.h"
#include "cache/inline_cache_export.h"
#include "cache/default_providers.h"
#include "cache/reexport_graph.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/instructions.h"
#include "exec/file_op_exec.h"
#include "exec/layer_apply.h"
#include "exec/layer_writer.h"
#include "exec/path_subset.h"
#include "exec/sandbox.h"
#include "exec/snapshot_mode.h"
#include "exec/step_root.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/reference.h"
#include "solver/cache_matcher.h"
#include "solver/content_hash.h"
#include "solver/image_resolver.h"
#include "solver/miss_explainer.h"
#include "solver/op_graph.h"
#include "solver/platform.h"

#include <algorithm>
#include <condition_variable>
#include <fcntl.h>
#include <future>
#include <mutex>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

namespace cachescope::build {

namespace fs = std::filesystem;
using namespace solver;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds since(Clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

struct LayerRef {
    oci::Descriptor desc;
    oci::Digest diffId;
};

struct NodeState {
    bool done = false;
    enum class Kind { None, Image, Context, Cached, Ran } kind = Kind::None;
    std::vector<LayerRef> layers; // bottom first
    std::optional<exec::Snapshot> files;
    int source = -1;              // match source of a cached result
    cache::ItemId item = -1;      // its item in that source's key graph
    std::string image;            // Image: the name as the Dockerfile used it
    bool inProgress = false;      // a thread is realizing it (others wait)
    bool failed = false;
};

class Cancelled : public Error {
public:
    Cancelled() : Error("build cancelled") {}
};

std::string randomHex()
{
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

// Streams blob `d` of the OCI layout at `dir` into the store, verified.
void copyLayoutBlob(const fs::path& dir, const oci::Descriptor& d, oci::ContentStore& store, const std::string& what)
{
    const fs::path src = dir / "blobs" / std::string(d.digest.algorithm()) / std::string(d.digest.hex());
    std::ifstream in(src, std::ios::binary);
    if (!in)
        throw Error(what + ": layer " + d.digest.str() + " is missing from " + dir.string());
    auto w = store.openWriter(d.digest, d.size);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0)
            w->write(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    try {
        w->commit();
    } catch (const Error& e) {
        throw Error(what + ": " + e.what());
    }
}

bool traversableByAll(const fs::path& dir)
{
    std::error_code ec;
    for (fs::path p = fs::absolute(dir, ec); !p.empty(); p = p.parent_path()) {
        const auto st = fs::status(p, ec);
        if (!ec && (st.permissions() & fs::perms::others_exec) == fs::perms::none)
            return false;
        if (p == p.parent_path())
            break;
    }
    return true;
}

class Runner {
public:
    Runner(const BuildOptions& o, const EventSink& sink, BuildResult& result)
        : o_(o), sink_(sink), result_(result)
    {
    }

    void run();

private:
    void emit(const BuildEvent& e)
    {
        std::lock_guard<std::mutex> lock(sinkMutex_);
        if (sink_)
            sink_(e);
    }
    // For registry transfers: the build's stop token or the caller's own callback.
    std::function<bool()> cancelled() const
    {
        return [token = o_.cancel, also = o_.registryOptions.cancelled] {
            return token.stop_requested() || (also && also());
        };
    }
    void checkCancel() const
    {
        if (exportingAfterFailure_ ? o_.cancel.stop_requested() : stop_.stop_requested())
            throw Cancelled();
    }
    int vertexOf(int n) const
    {
        const auto it = vertexByNode_.find(n);
        return it == vertexByNode_.end() ? 0 : it->second;
    }
    StepOutcome* outcome(int vertex)
    {
        return vertex > 0 ? &result_.steps[static_cast<std::size_t>(vertex - 1)] : nullptr;
    }

    void plan();
    void realize(int n);
    void realizeNode(int n);
    void realizeInputs(const OpNode& node);
    void markCached(int n);
    void execute(int n);
    void runExec(int n, const ExecOp& op, const fs::path& stepDir, std::uint64_t& bytes);
    void runFile(int n, const FileOp& op, const fs::path& stepDir, std::uint64_t& bytes);
    const exec::Snapshot& ensureFiles(int n);
    // The content key of `selectors` over a stage's output files (COPY --from, RUN --mount=from=).
    ContentKey stageContentKey(int stageNode, const std::vector<ContentSelector>& selectors);
    // Only the paths a file op copies out of a cached stage or an image, unpacked into the scratch
    // dir; nullopt when the whole tree is needed (see the definition).
    std::optional<exec::Snapshot> copiedPathsOnly(const FileOp& op, std::size_t inputIndex, int in);
    // Where each prefix of `layers`, applied in order, is kept (by chain ID): [k] holds the first k+1.
    std::vector<fs::path> chainDirs(const std::vector<LayerRef>& layers) const;
    // How many of the first `count` layers are a base image's (the longest resolved image they start
    // with, shorter than `count`), or 0.
    std::size_t baseImageDepth(const std::vector<LayerRef>& layers, std::size_t count) const;
    // The dir of the first `count` layers (chainDirs), unpacked first when missing.
    fs::path unpackedChain(const std::vector<LayerRef>& layers, const std::vector<fs::path>& dirs, std::size_t count);
    void ensureBlobs(int n);
    void fetchBlob(int n, const oci::Descriptor& d);
    int localRecord(int n, std::vector<int>* imageAlternatives = nullptr);
    void recordResults();
    void writeOutputs(const cache::ExportGraph& graph);
    cache::ExportGraph exportGraph(bool failed);
    // Where an export finds the blobs of imported match source `source` without pulling them now
    // (type=local and type=registry caches); null for other sources.
    std::shared_ptr<cache::LayerSource> importedLayerSource(int source);
    // The results of imported record `item` of match source `source`, in the imported order: `loaded`
    // in the place of the result this build loaded, the record's other usable results as variants
    // (see ExportResult). Without `loaded` (a step matched but never loaded, NotEvaluated) its best
    // usable result stands in for it with its imported blobs, as BuildKit's exporter takes the best
    // matched record of a key it did not load (solver/exporter.go getBestResult); with no lazy
    // source for those blobs (inline caches) the record stays key-only.
    void addImportedResults(cache::ExportRecord& record, int source, cache::ItemId item,
                            std::optional<cache::ExportResult> loaded);
    void exportCaches(const cache::ExportGraph& graph, bool failed);
    void exportAfterFailure();
    bool wantsInlineCache() const;
    std::vector<LayerRef> layersOf(int n) const
    {
        return n < 0 ? std::vector<LayerRef>{} : states_[static_cast<std::size_t>(n)].layers;
    }

    const BuildOptions& o_;
    const EventSink& sink_;
    BuildResult& result_;

    fs::path dataDir_;
    fs::path workDir_;
    std::optional<BuildSshAgents> ssh_; // for the build's lifetime: key-file agents stop with it
    std::unique_ptr<LocalStore> store_;
    std::unique_ptr<ImageResolver> resolver_;
    dockerfile::BuildPlan plan_;
    dockerfile::Dockerfile dockerfile_;
    OpGraph graph_;
    std::vector<cache::ImportedCache> imported_;
    std::vector<MatchSource> sources_;
    std::map<std::string, std::unique_ptr<cache::BlobProvider>> providers_;
    ContentKeys content_;
    std::string contextManifest_; // JSON of this build's context manifest ("" without context inputs)
    std::vector<NodeMatch> matches_;
    std::vector<NodeState> states_;
    std::map<int, int> vertexByNode_;
    std::vector<std::vector<int>> nodesOfVertex_;
    std::map<int, std::vector<int>> localRecords_;
    std::map<int, std::shared_ptr<cache::LayerSource>> importedLayerSources_; // by match source
    dockerfile::DockerIgnore ignore_;
    exec::SnapshotMode mode_ = exec::SnapshotMode::Copy;
    int stepCounter_ = 0;

    // Threads: independent inputs (stages) are realized in parallel, up to the core count. All state
    // above is guarded by mutex_; a thread releases it only while a step runs (sandbox, file op,
    // layer write), so bookkeeping stays serial. Events go out under their own mutex.
    std::mutex mutex_;
    std::condition_variable done_;
    std::mutex sinkMutex_;
    unsigned active_ = 1;
    unsigned maxThreads_ = std::max(1u, std::thread::hardware_concurrency());
    // Requested by the caller's cancel, and by the first step that fails: steps of other stages
    // running in parallel stop at once instead of finishing work the failed build cannot use.
    std::stop_source stop_;
    bool exportingAfterFailure_ = false;

    // Runs f with mutex_ released (the caller holds it).
    template <class F>
    void unlocked(F&& f)
    {
        mutex_.unlock();
        try {
            f();
        } catch (...) {
            mutex_.lock();
            throw;
        }
        mutex_.lock();
    }
};

void Runner::plan()
{
    const fs::path dfPath = o_.dockerfile.empty() ? o_.contextDir / "Dockerfile" : o_.dockerfile;
    if (o_.contextDir.empty() || !fs::is_directory(o_.contextDir))
        throw Error("build context " + o_.contextDir.string() + ": not a directory");
    if (!fs::is_regular_file(dfPath))
        throw Error("Dockerfile " + dfPath.string() + ": not found");
    dockerfile::ParseOptions po;
    po.fileName = dfPath.filename().string();
    dockerfile_ = dockerfile::parseDockerfile(readFile(dfPath), po);
    ignore_ = readDockerIgnore(o_.contextDir);

    resolver_ = std::make_unique<ImageResolver>(o_.buildContexts, o_.registryOptions);
    TargetGraph target = planTargetGraph(dockerfile_, po.fileName, o_.target, o_.buildArgs, o_.platform, *resolver_);
    plan_ = std::move(target.plan);
    graph_ = std::move(target.graph);

    // Vertices in plan order, as the dry run lists them.
    std::map<std::pair<int, int>, std::vector<int>> byInstruction;
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n)
        if (graph_.nodes[n].isStep)
            byInstruction[{graph_.nodes[n].stage, graph_.nodes[n].instruction}].push_back(static_cast<int>(n));
    std::set<int> shownImages;
    for (const dockerfile::PlannedStep& ps : plan_.steps()) {
        const auto& st = plan_.stages[static_cast<std::size_t>(ps.stage)];
        std::vector<int> nodes;
        if (ps.instruction < 0) {
            int node = -1;
            for (std::size_t n = 0; n < graph_.nodes.size(); ++n)
                if (graph_.nodes[n].kind == OpKind::Image && graph_.nodes[n].imageName == st.baseName)
                    node = static_cast<int>(n);
            if (node >= 0 && !shownImages.insert(node).second)
                continue;
            if (node >= 0)
                nodes.push_back(node);
            StepOutcome s;
            s.vertex = static_cast<int>(result_.steps.size()) + 1;
            s.name = ps.displayName;
            s.stage = st.name;
            if (node >= 0)
                s.key = graph_.nodes[static_cast<std::size_t>(node)].cacheMaps[0].record().str();
            result_.steps.push_back(s);
            nodesOfVertex_.push_back(nodes);
            if (node >= 0)
                vertexByNode_[node] = s.vertex;
            continue;
        }
        for (int n : byInstruction[{ps.stage, ps.instruction}]) {
            const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
            StepOutcome s;
            s.vertex = static_cast<int>(result_.steps.size()) + 1;
            s.name = node.displayName;
            s.stage = st.name;
            s.key = node.cacheMaps[0].record(node.output).str();
            result_.steps.push_back(s);
            nodesOfVertex_.push_back({n});
            vertexByNode_[n] = s.vertex;
        }
    }
}

void Runner::run()
{
    const auto t0 = Clock::now();
    dataDir_ = o_.dataDir.empty() ? defaultDataDir() : o_.dataDir;
    fs::create_directories(dataDir_ / "tmp");
    FileLock lock(dataDir_ / "local-cache.lock");
    // Step roots must be reachable by a RUN user other than root (bubblewrap resolves the root it is
    // handed through its path): when a parent of the data dir is closed to others (a 0700 home or
    // temp dir), the steps work under the system temp dir instead.
    workDir_ = (traversableByAll(dataDir_) ? dataDir_ / "tmp" : fs::temp_directory_path()) /
               ("cachescope-build-" + randomHex());
    fs::create_directories(workDir_);
    fs::permissions(workDir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    struct Cleanup {
        fs::path dir;
        ~Cleanup() { removeTree(dir); } // thousands of files: unlinked on several threads
    } cleanup{workDir_};
    ssh_.emplace(o_.sshAgents); // bad key files fail the build before anything runs

    // Import in the background while the Dockerfile is planned (as BuildKit does).
    std::jthread importer([&] {
        imported_ = cache::importSourcesReusing(o_.cacheFrom, o_.preImported, cache::defaultProviderFactory(cancelled()));
    });
    store_ = std::make_unique<LocalStore>(dataDir_);
    plan();
    std::optional<ContentTree> context;
    if (graph_.context >= 0)
        context.emplace(scanBuildContext(o_.contextDir, ignore_, StatCache::defaultFile(o_.contextDir, dataDir_)));
    content_ = contextContentKeys(graph_, context ? &*context : nullptr);
    if (context) {
        // The file list behind the context keys: kept in the history and carried by --cache-to exports.
        contextManifest_ = recordBuildManifest(dataDir_, o_.contextDir,
                                               o_.dockerfile.empty() ? o_.contextDir / "Dockerfile" : o_.dockerfile,
                                               graph_, content_, *context);
        try {
            context->saveStatCache();
        } catch (const Error&) {
            // Only a cache: the next build hashes again.
        }
    }
    result_.timings.planTime = since(t0);
    importer.join();
    result_.timings.importTime = since(t0);
    for (const auto& c : imported_)
        emit(SourceImported{c.spec.raw, c.ok, c.error, c.recordCount()});
    sources_ = matchSources(imported_, o_.noCache ? nullptr : store_.get());
    if (o_.noCache)
        sources_.clear();
    matches_ = matchGraph(graph_, content_, sources_);
    states_.assign(graph_.nodes.size(), NodeState{});
    for (const auto& s : result_.steps)
        emit(StepPlanned{s.vertex, s.name, s.key});

    mode_ = exec::detectSnapshotMode();
    const std::stop_callback forwardCancel(o_.cancel, [this] { stop_.request_stop(); });
    const auto tExec = Clock::now();
    std::exception_ptr failure;
    try {
        if (graph_.target >= 0) {
            std::lock_guard<std::mutex> lock(mutex_);
            realize(graph_.target);
        }
    } catch (...) {
        failure = std::current_exception();
    }
    result_.timings.executeTime = since(tExec);
    // The content checksums the steps depend on (COPY sources), for history diffs.
    for (std::size_t v = 0; v < nodesOfVertex_.size(); ++v)
        for (int n : nodesOfVertex_[v])
            for (const auto& ck : content_.byNode[static_cast<std::size_t>(n)])
                if (ck)
                    result_.steps[v].contentKey = ck->key.record.str();
    // Whatever finished is recorded, also when the build failed or was cancelled.
    recordResults();
    if (failure) {
        if (!o_.cancel.stop_requested())
            exportAfterFailure();
        std::rethrow_exception(failure);
    }
    for (auto& s : result_.steps)
        if (s.state == StepOutcome::State::Pending) {
            s.state = StepOutcome::State::NotEvaluated;
            emit(StepCached{s.vertex, ""});
        }
    const auto tExport = Clock::now();
    const cache::ExportGraph graph =
        !o_.cacheTo.empty() || wantsInlineCache() ? exportGraph(false) : cache::ExportGraph{};
    writeOutputs(graph);
    exportCaches(graph, false);
    result_.timings.exportTime = since(tExport);
    if (graph_.target >= 0)
        for (const auto& l : layersOf(graph_.target))
            result_.finalDiffIds.push_back(l.diffId.str());
    result_.timings.total = since(t0);
}

void Runner::markCached(int n)
{
    NodeState& st = states_[static_cast<std::size_t>(n)];
    const NodeMatch& m = matches_[static_cast<std::size_t>(n)];
    const cache::KeyGraph& g = *sources_[static_cast<std::size_t>(m.servedSource)].graph;
    const cache::ResultChain* r = g.bestUsableResult(m.servedItem);
    if (!r)
        throw Error("internal: a hit without a usable result");
    for (const oci::Descriptor& d : g.chainLayers(*r)) {
        LayerRef l{d, {}};
        const std::string u = d.annotation("containerd.io/uncompressed");
        if (!u.empty())
            l.diffId = oci::Digest::parse(u);
        st.layers.push_back(std::move(l));
    }
    st.kind = NodeState::Kind::Cached;
    st.source = m.servedSource;
    st.item = m.servedItem;
    st.done = true;
    if (StepOutcome* s = outcome(vertexOf(n)); s && s->state == StepOutcome::State::Pending) {
        s->state = StepOutcome::State::Cached;
        s->source = m.served ? m.served->source : "";
        emit(StepCached{s->vertex, s->source});
    }
}

void Runner::realize(int n)
{
    if (n < 0)
        return;
    NodeState& st = states_[static_cast<std::size_t>(n)];
    while (st.inProgress) {
        std::unique_lock<std::mutex> lock(mutex_, std::adopt_lock);
        done_.wait(lock);
        lock.release();
    }
    if (st.done)
        return;
    if (st.failed)
        throw Error(graph_.nodes[static_cast<std::size_t>(n)].displayName + ": failed in another stage");
    st.inProgress = true;
    try {
        realizeNode(n);
    } catch (...) {
        stop_.request_stop(); // the build has failed: stages running beside this one stop too
        st.inProgress = false;
        st.failed = !st.done;
        done_.notify_all();
        throw;
    }
    st.inProgress = false;
    done_.notify_all();
}

void Runner::realizeInputs(const OpNode& node)
{
    std::vector<int> pending;
    for (const OpInput& in : node.inputs)
        if (in.node >= 0 && !states_[static_cast<std::size_t>(in.node)].done &&
            std::find(pending.begin(), pending.end(), in.node) == pending.end())
            pending.push_back(in.node);
    std::vector<std::future<void>> others;
    std::vector<int> here;
    for (std::size_t i = 0; i < pending.size(); ++i) {
        if (i == 0 || active_ >= maxThreads_) {
            here.push_back(pending[i]);
            continue;
        }
        ++active_;
        const int in = pending[i];
        others.push_back(std::async(std::launch::async, [this, in] {
            std::lock_guard<std::mutex> lock(mutex_);
            struct Release {
                unsigned& active;
                ~Release() { --active; }
            } release{active_};
            realize(in);
        }));
    }
    // The error to report: the first real one (a stage that failed), not the cancellations it caused.
    std::exception_ptr first;
    bool firstIsCancel = false;
    auto keep = [&](std::exception_ptr e) {
        bool cancel = false;
        try {
            std::rethrow_exception(e);
        } catch (const Cancelled&) {
            cancel = true;
        } catch (...) {
        }
        if (!first || (firstIsCancel && !cancel)) {
            first = e;
            firstIsCancel = cancel;
        }
    };
    try {
        for (int in : here)
            realize(in);
    } catch (...) {
        keep(std::current_exception());
    }
    if (!others.empty()) {
        mutex_.unlock();
        for (auto& f : others) {
            try {
                f.get();
            } catch (...) {
                keep(std::current_exception());
            }
        }
        mutex_.lock();
    }
    if (first)
        std::rethrow_exception(first);
}

void Runner::realizeNode(int n)
{
    NodeState& st = states_[static_cast<std::size_t>(n)];
    checkCancel();
    const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    if (node.kind == OpKind::Image) {
        const ResolvedImage* img = nullptr;
        for (const auto& [name, r] : resolver_->resolved())
            if (name == node.imageName)
                img = &r;
        if (!img)
            throw Error("image " + node.imageName + " was not resolved");
        for (std::size_t i = 0; i < img->layers.size(); ++i)
            st.layers.push_back(LayerRef{img->layers[i], i < img->source.diffIds.size() ? img->source.diffIds[i]
                                                                                        : oci::Digest()});
        st.kind = NodeState::Kind::Image;
        st.image = node.imageName;
        st.done = true;
        if (StepOutcome* s = outcome(vertexOf(n)); s && s->state == StepOutcome::State::Pending) {
            s->state = StepOutcome::State::Ran;
            emit(StepStarted{s->vertex});
            emit(StepFinished{s->vertex, {}, 0});
        }
        return;
    }
    if (node.kind == OpKind::Local) {
        st.kind = NodeState::Kind::Context;
        st.files = exec::Snapshot{{exec::SnapshotLayer{o_.contextDir, exec::WhiteoutFormat::Overlay}}};
        st.done = true;
        return;
    }
    if (matches_[static_cast<std::size_t>(n)].usable) {
        markCached(n);
        return;
    }
    realizeInputs(node);
    // Content keys computed while the inputs were realized may have made this step a hit.
    if (matches_[static_cast<std::size_t>(n)].usable) {
        markCached(n);
        return;
    }
    // Content (slow) keys of stage outputs, now that they exist. As BuildKit does, they are computed
    // whether or not a cache source could use them now: the records kept and exported carry them, so
    // that a later build whose stage gives the same files hits. Here, the step may hit after all.
    bool changed = false;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        const OpInput& in = node.inputs[i];
        const CacheMapDep& dep = node.cacheMaps[0].deps[i];
        if (in.origin != ContentOrigin::Stage || !dep.contentBased || content_.byNode[static_cast<std::size_t>(n)][i] ||
            matches_[static_cast<std::size_t>(n)].inputDefinitionMatched[i])
            continue;
        content_.byNode[static_cast<std::size_t>(n)][i] = stageContentKey(in.node, dep.contentSelectors);
        changed = true;
    }
    if (changed && !sources_.empty()) {
        matches_ = matchGraph(graph_, content_, sources_);
        if (matches_[static_cast<std::size_t>(n)].usable) {
            markCached(n);
            return;
        }
    }
    execute(n);
}

void Runner::execute(int n)
{
    checkCancel();
    NodeState& st = states_[static_cast<std::size_t>(n)];
    const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    const int vertex = vertexOf(n);
    StepOutcome* s = outcome(vertex);
    if (s) {
        std::string why;
        if (o_.noCache) {
            why = "--no-cache: every step runs";
        } else {
            std::string failed;
            for (const auto& c : imported_)
                if (!c.ok)
                    failed += (failed.empty() ? "" : "; ") + c.error;
            const ExplainContext ectx{graph_, matches_, plan_, dockerfile_, o_.buildArgs, sources_.size(), failed};
            why = explainNode(ectx, n).text;
        }
        emit(StepMissed{vertex, why});
        emit(StepStarted{vertex});
    }
    const auto t0 = Clock::now();
    const fs::path stepDir = workDir_ / ("step-" + std::to_string(++stepCounter_));
    std::uint64_t bytes = 0;
    try {
        if (const auto* e = std::get_if<ExecOp>(&node.op)) {
            runExec(n, *e, stepDir, bytes);
        } else if (const auto* f = std::get_if<FileOp>(&node.op)) {
            runFile(n, *f, stepDir, bytes);
        } else if (const auto* m = std::get_if<MergeOp>(&node.op)) {
            exec::Snapshot files;
            for (std::int64_t i : m->inputs) {
                const int in = node.inputs[static_cast<std::size_t>(i)].node;
                for (const auto& l : layersOf(in))
                    st.layers.push_back(l);
                for (const auto& l : ensureFiles(in).layers)
                    files.layers.push_back(l);
            }
            st.files = std::move(files);
        } else {
            throw Error("internal: unexpected op");
        }
    } catch (const exec::ExecError& e) {
        if (s)
            s->state = StepOutcome::State::Failed;
        result_.exitCode = e.exitCode();
        result_.logTail = e.tail();
        throw Error((s ? s->name + ": " : "") + e.what());
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        if (stop_.stop_requested())
            throw Cancelled(); // stopped because of a cancel or another stage's failure
        if (s)
            s->state = StepOutcome::State::Failed;
        throw Error((s ? s->name + ": " : "") + e.what());
    }
    st.kind = NodeState::Kind::Ran;
    st.done = true;
    if (s) {
        s->state = StepOutcome::State::Ran;
        s->duration = since(t0);
        s->bytes = bytes;
        emit(StepFinished{vertex, s->duration, bytes});
    }
}

void Runner::runExec(int n, const ExecOp& op, const fs::path& stepDir, std::uint64_t& bytes)
{
    NodeState& st = states_[static_cast<std::size_t>(n)];
    const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    int parent = -1;
    exec::ExecSpec spec;
    spec.args = op.meta.args;
    spec.env = op.meta.env;
    spec.cwd = op.meta.cwd.empty() ? "/" : op.meta.cwd;
    spec.user = op.meta.user;
    if (!op.meta.hostname.empty())
        spec.hostname = op.meta.hostname;
    spec.network = op.network == NetMode::None   ? exec::NetworkMode::None
                   : op.network == NetMode::Host ? exec::NetworkMode::Host
                                                 : exec::NetworkMode::Default;
    for (const auto& h : op.meta.extraHosts)
        spec.extraHosts.push_back(exec::ExtraHost{h.host, h.ip});
    exec::CacheMountStore cacheMounts(dataDir_ / "cache-mounts");
    std::vector<fs::path> keep;
    for (const Mount& m : op.mounts) {
        if (m.dest == "/") {
            if (m.input >= 0)
                parent = node.inputs[static_cast<std::size_t>(m.input)].node;
            continue;
        }
        switch (m.mountType) {
        case MountType::Cache: {
            exec::CacheMount c;
            c.id = m.cacheOpt ? m.cacheOpt->id : m.dest;
            c.target = m.dest;
            c.readOnly = m.readonly;
            if (m.cacheOpt)
                c.sharing = m.cacheOpt->sharing == CacheSharing::Private  ? exec::CacheSharing::Private
                            : m.cacheOpt->sharing == CacheSharing::Locked ? exec::CacheSharing::Locked
                                                                          : exec::CacheSharing::Shared;
            spec.mounts.push_back(c);
            break;
        }
        case MountType::Tmpfs:
            spec.mounts.push_back(exec::TmpfsMount{m.dest, static_cast<std::uint64_t>(m.tmpfsSize.value_or(0))});
            break;
        case MountType::Bind: {
            fs::path src;
            if (m.input >= 0) {
                const int in = node.inputs[static_cast<std::size_t>(m.input)].node;
                realize(in);
                const fs::path flat = stepDir.string() + "-bind-" + std::to_string(keep.size());
                if (graph_.nodes[static_cast<std::size_t>(in)].kind == OpKind::Local)
                    src = o_.contextDir;
                else {
                    // A read-only mount may share the snapshot's inodes; a writable one gets a copy.
                    exec::SnapshotView(ensureFiles(in))
                        .materialize(flat, m.readonly ? exec::CopyMode::Link : exec::CopyMode::Copy);
                    src = flat;
                }
            } else {
                src = stepDir.string() + "-empty-" + std::to_string(keep.size());
                fs::create_directories(src);
            }
            keep.push_back(src);
            if (!m.selector.empty())
                src /= fs::path(m.selector).relative_path();
            spec.mounts.push_back(exec::BindMount{src, m.dest, m.readonly});
            break;
        }
        case MountType::Secret:
            spec.mounts.push_back(secretMountFor(m, o_.secrets));
            break;
        case MountType::Ssh:
            spec.mounts.push_back(sshMountFor(m, ssh_->agents()));
            break;
        }
    }
    for (const SecretEnv& se : op.secretenv)
        spec.mounts.push_back(secretEnvFor(se, o_.secrets));
    const exec::Snapshot parentFiles = parent >= 0 ? ensureFiles(parent) : exec::Snapshot{};
    const exec::StepRoot root = exec::StepRoot::prepare(parentFiles, stepDir, mode_);
    exec::SandboxOptions so;
    so.cacheMounts = &cacheMounts;
    so.cancel = stop_.get_token();
    const int vertex = vertexOf(n);
    const auto t0 = Clock::now();
    so.onLog = [&](exec::LogStream stream, std::string_view line) {
        emit(StepLog{vertex, stream == exec::LogStream::Stderr, std::string(line),
                     std::chrono::duration<double>(Clock::now() - t0).count()});
    };
    exec::SnapshotLayer diff;
    exec::LayerWriteResult w;
    oci::ContentStore& content = store_->content();
    unlocked([&] {
        exec::runInSandbox(spec, root, so);
        diff = root.finish();
        exec::LayerWriterOptions wo;
        wo.whiteouts = diff.format;
        wo.cancel = stop_.get_token();
        w = exec::writeLayer(diff.dir, content, wo);
    });
    st.layers = layersOf(parent);
    st.layers.push_back(LayerRef{w.descriptor, w.diffId});
    st.files = parentFiles.with(diff);
    bytes = static_cast<std::uint64_t>(w.descriptor.size);
}

void Runner::runFile(int n, const FileOp& op, const fs::path& stepDir, std::uint64_t& bytes)
{
    NodeState& st = states_[static_cast<std::size_t>(n)];
    const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    std::vector<exec::FileOpInput> inputs;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        const OpInput& in = node.inputs[i];
        exec::FileOpInput fi;
        if (auto partial = copiedPathsOnly(op, i, in.node))
            fi.tree = std::move(*partial);
        else
            fi.tree = ensureFiles(in.node);
        if (graph_.nodes[static_cast<std::size_t>(in.node)].kind == OpKind::Local) {
            fi.contextOwners = true;
            if (!ignore_.empty())
                fi.excluded = [this](const std::string& rel, bool) { return ignore_.excluded(rel); };
        }
        inputs.push_back(std::move(fi));
    }
    const int base = !op.actions.empty() && op.actions[0].input >= 0
                         ? node.inputs[static_cast<std::size_t>(op.actions[0].input)].node
                         : -1;
    const fs::path diffDir = stepDir / "diff";
    exec::LayerWriteResult w;
    oci::ContentStore& content = store_->content();
    unlocked([&] {
        const exec::FileOpResult r = exec::runFileOp(op, inputs, diffDir);
        exec::LayerWriterOptions wo;
        wo.whiteouts = exec::WhiteoutFormat::Overlay;
        wo.owners = r.owners;
        wo.cancel = stop_.get_token();
        w = exec::writeLayer(diffDir, content, wo);
    });
    const exec::Snapshot baseFiles = base >= 0 ? ensureFiles(base) : exec::Snapshot{};
    st.layers = layersOf(base);
    st.layers.push_back(LayerRef{w.descriptor, w.diffId});
    st.files = baseFiles.with(exec::SnapshotLayer{diffDir, exec::WhiteoutFormat::Overlay});
    bytes = static_cast<std::uint64_t>(w.descriptor.size);
}

void Runner::fetchBlob(int n, const oci::Descriptor& d)
{
    oci::ContentStore& store = store_->content();
    if (store.has(d.digest))
        return;
    checkCancel();
    const NodeState& st = states_[static_cast<std::size_t>(n)];
    emit(BlobProgress{d.digest.str(), 0, static_cast<std::uint64_t>(d.size)});
    if (st.kind == NodeState::Kind::Image) {
        const ResolvedImage& img = resolver_->resolved().at(st.image);
        if (!img.layoutDir.empty()) {
            copyLayoutBlob(img.layoutDir, d, store, "image " + st.image);
        } else {
            registry::RegistryClient client(img.registryHost, o_.registryOptions);
            client.fetchBlob(img.registryRepo, d, store);
        }
    } else if (st.kind == NodeState::Kind::Cached) {
        const MatchSource& src = sources_[static_cast<std::size_t>(st.source)];
        if (src.local)
            throw Error("local cache: blob " + d.digest.str() + " is missing from the content store");
        const cache::CacheSpec* spec = nullptr;
        for (const auto& c : imported_)
            if (c.spec.raw == src.spec)
                spec = &c.spec;
        // Streamed into the store (never whole in memory) for local layouts and registries.
        if (spec && spec->type == "local") {
            copyLayoutBlob(spec->attr("src"), d, store, spec->displayName());
            result_.bytesPulled += static_cast<std::uint64_t>(d.size);
            emit(BlobProgress{d.digest.str(), static_cast<std::uint64_t>(d.size), static_cast<std::uint64_t>(d.size)});
            return;
        }
        if (spec && spec->type == "registry") {
            const registry::Reference ref = registry::Reference::parse(spec->attr("ref"));
            registry::RegistryOptions ro = o_.registryOptions;
            if (spec->attr("registry.insecure") == "true")
                ro.insecure = true;
            registry::RegistryClient client(ref.apiHost(), ro);
            client.fetchBlob(ref.path, d, store);
            result_.bytesPulled += static_cast<std::uint64_t>(d.size);
            emit(BlobProgress{d.digest.str(), static_cast<std::uint64_t>(d.size), static_cast<std::uint64_t>(d.size)});
            return;
        }
        auto& provider = providers_[src.spec];
        if (!provider) {
            for (const auto& c : imported_)
                if (c.spec.raw == src.spec)
                    provider = cache::defaultProviderFactory(cancelled()).create(c.spec);
            if (!provider)
                throw Error("cache source " + src.spec + " is gone");
        }
        const std::string bytes = provider->readBlob(d, static_cast<std::size_t>(-1));
        store.putExpected(d.digest, bytes);
    } else {
        throw Error("layer " + d.digest.str() + " is not in the content store");
    }
    result_.bytesPulled += static_cast<std::uint64_t>(d.size);
    emit(BlobProgress{d.digest.str(), static_cast<std::uint64_t>(d.size), static_cast<std::uint64_t>(d.size)});
}

void Runner::ensureBlobs(int n)
{
    if (n < 0)
        return;
    const NodeState& st = states_[static_cast<std::size_t>(n)];
    if (st.kind == NodeState::Kind::Ran) {
        // Its own layer is in the store; the ones below come from its inputs.
        for (const OpInput& in : graph_.nodes[static_cast<std::size_t>(n)].inputs)
            ensureBlobs(in.node);
        return;
    }
    for (const auto& l : st.layers)
        fetchBlob(n, l.desc);
}

ContentKey Runner::stageContentKey(int stageNode, const std::vector<ContentSelector>& selectors)
{
    const exec::Snapshot& files = ensureFiles(stageNode);
    const fs::path flat = workDir_ / ("content-" + std::to_string(++stepCounter_));
    // Only scanned: linked, and only the selected paths when they are plain ones.
    std::vector<std::string> paths;
    bool wildcard = false;
    for (const ContentSelector& sel : selectors) {
        paths.push_back(sel.path);
        wildcard = wildcard || sel.wildcard;
    }
    const auto subset = wildcard ? std::nullopt : exec::PathSubset::of(paths);
    exec::SnapshotView(files).materialize(flat, exec::CopyMode::Link, subset ? &*subset : nullptr);
    if (subset && subset->crossesSymlink(flat)) {
        removeTree(flat);
        exec::SnapshotView(files).materialize(flat, exec::CopyMode::Link);
    }
    ScanOptions so;
    so.mode = ScanMode::Snapshot;
    ContentTree tree = ContentTree::scan(flat, std::move(so));
    return tree.contentKey(selectors);
}

std::optional<exec::Snapshot> Runner::copiedPathsOnly(const FileOp& op, std::size_t inputIndex, int in)
{
    if (in < 0)
        return std::nullopt;
    realize(in);
    const NodeState& st = states_[static_cast<std::size_t>(in)];
    if (st.files || (st.kind != NodeState::Kind::Cached && st.kind != NodeState::Kind::Image) || st.layers.empty() ||
        fs::exists(chainDirs(st.layers).back()))
        return std::nullopt; // nothing to save: the whole tree is there already
    // Only as the source of copies of plain paths: a wildcard or the root needs the whole tree.
    std::vector<std::string> paths;
    for (const FileAction& a : op.actions) {
        if (a.input == static_cast<std::int64_t>(inputIndex))
            return std::nullopt;
        if (a.secondaryInput != static_cast<std::int64_t>(inputIndex))
            continue;
        const auto* copy = std::get_if<FileActionCopy>(&a.action);
        if (!copy)
            return std::nullopt;
        paths.push_back(copy->src);
    }
    const auto subset = exec::PathSubset::of(paths);
    if (!subset)
        return std::nullopt;
    ensureBlobs(in);
    exec::LayerApplyOptions options;
    options.keep = [&subset](const std::string& entry) { return subset->keeps(entry); };
    const fs::path dir = workDir_ / ("copied-" + std::to_string(++stepCounter_));
    try {
        fs::create_directories(dir);
        for (const LayerRef& l : st.layers) {
            checkCancel();
            exec::applyLayer(store_->content().blobPath(l.desc.digest), l.desc.mediaType, l.desc.digest, dir, options);
        }
    } catch (const Cancelled&) {
        throw;
    } catch (const Error&) {
        removeTree(dir);
        return std::nullopt; // a hardlink to a file left out, say: the whole unpack decides
    }
    if (subset->crossesSymlink(dir)) {
        removeTree(dir);
        return std::nullopt;
    }
    return exec::Snapshot{{exec::SnapshotLayer{dir, exec::WhiteoutFormat::Overlay}}};
}

std::vector<fs::path> Runner::chainDirs(const std::vector<LayerRef>& layers) const
{
    std::vector<oci::Digest> diffIds;
    for (const LayerRef& l : layers)
        diffIds.push_back(l.diffId.empty() ? l.desc.digest : l.diffId);
    std::vector<fs::path> dirs;
    for (const oci::Digest& id : chainIds(diffIds))
        dirs.push_back(dataDir_ / "snapshots" / std::string(id.hex()));
    return dirs;
}

std::size_t Runner::baseImageDepth(const std::vector<LayerRef>& layers, std::size_t count) const
{
    const auto id = [](const oci::Descriptor& blob, const oci::Digest& diffId) { return diffId.empty() ? blob.digest : diffId; };
    std::size_t best = 0;
    for (const auto& [name, img] : resolver_->resolved()) {
        const std::size_t depth = img.layers.size();
        if (depth <= best || depth >= count)
            continue;
        bool prefix = true;
        for (std::size_t i = 0; i < depth && prefix; ++i)
            prefix = id(img.layers[i], i < img.source.diffIds.size() ? img.source.diffIds[i] : oci::Digest()) ==
                     id(layers[i].desc, layers[i].diffId);
        if (prefix)
            best = depth;
    }
    return best;
}

fs::path Runner::unpackedChain(const std::vector<LayerRef>& layers, const std::vector<fs::path>& dirs,
                               std::size_t count)
{
    const fs::path& dir = dirs[count - 1];
    if (fs::exists(dir))
        return dir;
    // Start from the longest chain below this one that is already unpacked, linked rather than
    // copied, so that a base image shared by several stages is unpacked once.
    std::size_t from = 0;
    for (std::size_t k = count - 1; k > 0 && from == 0; --k)
        if (fs::exists(dirs[k - 1]))
            from = k;
    if (from == 0)
        if (const std::size_t base = baseImageDepth(layers, count); base > 0) {
            unpackedChain(layers, dirs, base);
            from = base;
        }
    const fs::path tmp = dataDir_ / "snapshots" / ("tmp-" + randomHex());
    try {
        if (from > 0) // applying a layer replaces entries, never writes into them: links are safe
            exec::SnapshotView(exec::Snapshot{{exec::SnapshotLayer{dirs[from - 1]}}}).materialize(tmp, exec::CopyMode::Link);
        else
            fs::create_directories(tmp);
        for (std::size_t i = from; i < count; ++i) {
            checkCancel();
            exec::applyLayer(store_->content().blobPath(layers[i].desc.digest), layers[i].desc.mediaType,
                             layers[i].desc.digest, tmp);
        }
        fs::rename(tmp, dir);
    } catch (...) {
        removeTree(tmp);
        if (!fs::exists(dir))
            throw;
    }
    return dir;
}

const exec::Snapshot& Runner::ensureFiles(int n)
{
    static const exec::Snapshot scratch;
    if (n < 0)
        return scratch;
    realize(n);
    NodeState& st = states_[static_cast<std::size_t>(n)];
    if (st.files)
        return *st.files;
    // An image or a cache hit: its layers are pulled now (the lazy rule) and applied in order onto
    // one directory, kept by chain ID for later builds.
    ensureBlobs(n);
    if (st.layers.empty()) {
        st.files = exec::Snapshot{};
        return *st.files;
    }
    const fs::path dir = unpackedChain(st.layers, chainDirs(st.layers), st.layers.size());
    // Whiteouts were applied: the directory is a plain tree, usable as an overlay lower.
    st.files = exec::Snapshot{{exec::SnapshotLayer{dir, exec::WhiteoutFormat::Overlay}}};
    return *st.files;
}

int Runner::localRecord(int n, std::vector<int>* imageAlternatives)
{
    if (const auto it = localRecords_.find(n); it != localRecords_.end()) {
        if (imageAlternatives)
            *imageAlternatives = it->second;
        return it->second.empty() ? -1 : it->second[0];
    }
    const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    std::vector<int> recs;
    if (node.kind == OpKind::Local) {
        // random key: never recorded
    } else if (node.inputs.empty()) {
        for (const CacheMap& cm : node.cacheMaps)
            recs.push_back(store_->addRecord(cm.record(node.output), {}));
    } else {
        std::vector<std::vector<LocalStore::Link>> inputs;
        bool complete = true;
        const CacheMap& cm = node.cacheMaps[0];
        for (std::size_t i = 0; i < node.inputs.size(); ++i) {
            std::vector<LocalStore::Link> alts;
            std::vector<int> parents;
            localRecord(node.inputs[i].node, &parents);
            const std::string sel = cm.deps[i].selector.empty() ? std::string() : cm.deps[i].selector.str();
            for (int p : parents)
                alts.push_back({p, sel});
            if (const auto& ck = content_.byNode[static_cast<std::size_t>(n)][i])
                alts.push_back({store_->addRecord(ck->key.record, {}), ""});
            if (alts.empty())
                complete = false;
            inputs.push_back(std::move(alts));
        }
        if (complete)
            recs.push_back(store_->addRecord(cm.record(node.output), inputs));
    }
    localRecords_[n] = recs;
    if (imageAlternatives)
        *imageAlternatives = recs;
    return recs.empty() ? -1 : recs[0];
}

void Runner::recordResults()
{
    if (!store_)
        return;
    try {
        for (std::size_t n = 0; n < states_.size(); ++n) {
            const NodeState& st = states_[n];
            if (!st.done || st.layers.empty() || graph_.nodes[n].kind == OpKind::Local)
                continue;
            bool present = true;
            for (const auto& l : st.layers)
                present = present && store_->content().has(l.desc.digest) && !l.diffId.empty();
            if (!present)
                continue;
            std::vector<oci::Descriptor> descs;
            for (const auto& l : st.layers) {
                oci::Descriptor d = l.desc;
                d.annotations["containerd.io/uncompressed"] = l.diffId.str();
                descs.push_back(std::move(d));
            }
            const int rec = localRecord(static_cast<int>(n));
            if (rec >= 0)
                store_->addResult(rec, descs);
        }
        store_->save();
    } catch (const std::exception& e) {
        // The build's own outcome matters more; the store stays as it was on disk.
        emit(StepLog{0, true, std::string("local cache not updated: ") + e.what(), 0});
    }
}

void Runner::writeOutputs(const cache::ExportGraph& graph)
{
    if (o_.outputs.empty())
        return;
    const int target = graph_.target;
    if (target >= 0)
        ensureBlobs(target);
    ImageInput img;
    img.config = plan_.target >= 0 ? plan_.stages[static_cast<std::size_t>(plan_.target)].image : dockerfile::ImageConfig{};
    const auto& platform = plan_.target >= 0 ? plan_.stages[static_cast<std::size_t>(plan_.target)].platform
                                             : dockerfile::Platform{};
    img.os = platform.os.empty() ? "linux" : platform.os;
    img.architecture = platform.architecture;
    img.variant = platform.variant;
    for (const auto& l : layersOf(target)) {
        img.layers.push_back(l.desc);
        img.diffIds.push_back(l.diffId);
    }
    for (const auto& s : result_.steps)
        img.history.push_back(s.name);
    if (wantsInlineCache()) {
        std::vector<oci::Descriptor> layers;
        for (const auto& l : layersOf(target)) {
            oci::Descriptor d = l.desc;
            d.annotations["containerd.io/uncompressed"] = l.diffId.str();
            layers.push_back(std::move(d));
        }
        img.inlineCache = cache::inlineCacheValue(graph, layers);
    }
    for (const OutputSpec& out : o_.outputs) {
        if (out.type == "oci") {
            result_.imageManifest =
                writeOciImage(img, store_->content(), out.dest, out.name.empty() ? "latest" : out.name).str();
        } else if (out.type == "registry") {
            // Written as a layout in the work dir first, then pushed: blobs, then the manifest under its tag.
            const registry::Reference ref = registry::Reference::parse(out.name);
            const fs::path layoutDir = workDir_ / "push";
            result_.imageManifest = writeOciImage(img, store_->content(), layoutDir, "push").str();
            registry::RegistryOptions ro = o_.registryOptions;
            registry::RegistryClient client(ref.apiHost(), ro);
            try {
                registry::pushLayoutTag(client, oci::OciLayout::open(layoutDir), "push", ref.path,
                                        ref.tag.empty() ? "latest" : ref.tag);
            } catch (const Error& e) {
                throw Error("--output type=registry,name=" + out.name + ": " + e.what());
            }
        } else {
            throw Error("--output type=" + out.type + " is not supported (type=oci,dest=DIR or type=registry,name=REF)");
        }
    }
}

bool Runner::wantsInlineCache() const
{
    for (const auto& spec : o_.cacheTo)
        if (spec.type == "inline")
            return true;
    // BuildKit's other switch for it.
    const auto it = o_.buildArgs.find("BUILDKIT_INLINE_CACHE");
    return it != o_.buildArgs.end() && (it->second == "1" || it->second == "true");
}

// The keys of every step that finished, with the layers of its result. After a failure there is no
// final result: every finished step counts as on the final chain, so mode=min keeps them too.
cache::ExportGraph Runner::exportGraph(bool failed)
{
    cache::ExportGraph eg;
    std::map<int, std::vector<int>> recs; // node -> its export records (images: both keys)
    std::map<std::string, int> contentRoots;
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const cache::Timestamp createdAt = cache::Timestamp::fromNanos(now);
    auto source = std::make_shared<cache::StoreLayerSource>(dataDir_);
    // A cache hit loaded lazily keeps its blobs where they are: a target that lacks one gets it from
    // the imported cache (mounted across repositories on the same registry, as BuildKit does), and
    // nothing is pulled for a target that has it. Other blobs are fetched into the store first.
    const auto sourceOf = [&](int n, const oci::Descriptor& d) -> std::shared_ptr<cache::LayerSource> {
        if (store_->content().has(d.digest))
            return source;
        const NodeState& st = states_[static_cast<std::size_t>(n)];
        if (st.kind == NodeState::Kind::Cached && st.source >= 0 && !sources_[static_cast<std::size_t>(st.source)].local)
            if (auto s = importedLayerSource(st.source))
                return s;
        fetchBlob(n, d);
        return source;
    };
    const std::vector<LayerRef> finalLayers = failed ? std::vector<LayerRef>{} : layersOf(graph_.target);
    // The blobs the steps that ran wrote: the export's compression applies to them.
    std::set<oci::Digest> created;
    for (const NodeState& st : states_)
        if (st.done && st.kind == NodeState::Kind::Ran && !st.layers.empty())
            created.insert(st.layers.back().desc.digest);
    std::function<const std::vector<int>&(int)> recordOf = [&](int n) -> const std::vector<int>& {
        if (const auto it = recs.find(n); it != recs.end())
            return it->second;
        const OpNode& node = graph_.nodes[static_cast<std::size_t>(n)];
        std::vector<int> out;
        if (node.kind == OpKind::Local) {
        } else if (node.inputs.empty()) {
            for (const CacheMap& cm : node.cacheMaps)
                out.push_back(eg.add(cache::ExportRecord{cm.record(node.output).str(), {}, {}, false}));
        } else {
            cache::ExportRecord r;
            r.digest = node.cacheMaps[0].record(node.output).str();
            bool complete = true;
            for (std::size_t i = 0; i < node.inputs.size(); ++i) {
                std::vector<cache::ExportLink> alts;
                const CacheMapDep& dep = node.cacheMaps[0].deps[i];
                const std::string sel = dep.selector.empty() ? std::string() : dep.selector.str();
                for (int p : recordOf(node.inputs[i].node))
                    alts.push_back({p, sel});
                if (const auto& ck = content_.byNode[static_cast<std::size_t>(n)][i]) {
                    const std::string d = ck->key.record.str();
                    auto it = contentRoots.find(d);
                    if (it == contentRoots.end())
                        it = contentRoots.emplace(d, eg.add(cache::ExportRecord{d, {}, {}, false})).first;
                    alts.push_back({it->second, ""});
                }
                complete = complete && !alts.empty();
                r.inputs.push_back(std::move(alts));
            }
            if (complete) {
                const NodeState& st = states_[static_cast<std::size_t>(n)];
                if (st.done && !st.layers.empty()) {
                    cache::ExportResult res;
                    res.createdAt = createdAt;
                    res.preexisting = st.kind == NodeState::Kind::Cached;
                    for (const auto& l : st.layers)
                        res.layers.push_back(cache::ExportLayer{
                            cache::exportLayerDescriptor(l.desc.mediaType, l.desc.digest, l.desc.size, l.diffId, createdAt),
                            sourceOf(n, l.desc), created.count(l.desc.digest) > 0});
                    const bool imported =
                        st.kind == NodeState::Kind::Cached && st.source >= 0 && !sources_[static_cast<std::size_t>(st.source)].local;
                    if (imported)
                        addImportedResults(r, st.source, st.item, std::move(res));
                    else
                        r.results.push_back(std::move(res));
                    // On the final result's chain: its layers are a prefix of the final layers.
                    r.finalChain = failed || st.layers.size() <= finalLayers.size();
                    for (std::size_t k = 0; !failed && r.finalChain && k < st.layers.size(); ++k)
                        r.finalChain = st.layers[k].desc.digest == finalLayers[k].desc.digest;
                } else if (const StepOutcome* s = outcome(vertexOf(n)); s && s->state == StepOutcome::State::NotEvaluated) {
                    // Matched in an imported cache, never loaded: its record carries the imported result.
                    const NodeMatch& m = matches_[static_cast<std::size_t>(n)];
                    if (m.usable && m.servedSource >= 0 && !sources_[static_cast<std::size_t>(m.servedSource)].local)
                        addImportedResults(r, m.servedSource, m.servedItem, std::nullopt);
                }
                // After a failure there is no final result; every finished step is exported as one.
                r.finalResult = failed || n == graph_.target;
                out.push_back(eg.add(std::move(r)));
            }
        }
        return recs.emplace(n, std::move(out)).first->second;
    };
    for (std::size_t n = 0; n < states_.size(); ++n)
        if (states_[n].done)
            recordOf(static_cast<int>(n));
    return eg;
}

std::shared_ptr<cache::LayerSource> Runner::importedLayerSource(int source)
{
    auto& s = importedLayerSources_[source];
    if (!s)
        for (const auto& c : imported_)
            if (c.spec.raw == sources_[static_cast<std::size_t>(source)].spec &&
                (c.spec.type == "local" || c.spec.type == "registry"))
                s = cache::layerSourceFor(c, o_.registryOptions);
    return s;
}

void Runner::addImportedResults(cache::ExportRecord& record, int source, cache::ItemId item,
                                std::optional<cache::ExportResult> loaded)
{
    const cache::KeyGraph& g = *sources_[static_cast<std::size_t>(source)].graph;
    const cache::ResultChain* best = g.bestUsableResult(item);
    if (!best)
        throw Error("internal: cached step without a usable imported result");
    // A variant's blobs stay where they are: one is fetched only if an export picks it. Without a
    // lazy source (inline caches) there is no variant to offer.
    const std::shared_ptr<cache::LayerSource> lazy = importedLayerSource(source);
    if (!loaded && !lazy)
        return;
    for (const cache::ResultChain& r : g.item(item).results) {
        if (&r == best && loaded) {
            loaded->imported = true;
            record.results.push_back(std::move(*loaded));
            continue;
        }
        if (!lazy || !g.resultUsable(r))
            continue;
        cache::ExportResult imported;
        imported.createdAt = r.createdAt;
        imported.preexisting = true;
        imported.imported = true;
        imported.variant = &r != best;
        for (auto& d : g.chainLayers(r))
            imported.layers.push_back(cache::ExportLayer{std::move(d), lazy});
        record.results.push_back(std::move(imported));
    }
}

void Runner::exportCaches(const cache::ExportGraph& eg, bool failed)
{
    for (const cache::CacheExportSpec& spec : o_.cacheTo) {
        if (spec.type == "inline") {
            result_.cacheExports.push_back(
                o_.outputs.empty() ? "inline cache export: not written (it lives in the image: give --output)"
                                   : "inline cache export: written into the image config");
            continue;
        }
        if (failed && !spec.exportOnFailure)
            continue;
        cache::ExportGraph g = eg;
        cache::applyExportMode(g, spec.mode, spec.compression);
        cache::CacheExportOptions eo;
        eo.registry = o_.registryOptions;
        eo.contentStore = &store_->content(); // converted blobs stay for the next export
        if (!eo.registry.cancelled)
            eo.registry.cancelled = [token = o_.cancel] { return token.stop_requested(); };
        // A cancel stops a local export between blobs too; index.json is written last, so the target
        // keeps its previous tag.
        eo.progress = [this](const std::string& line) {
            emit(StepLog{0, false, line, 0});
            if (o_.cancel.stop_requested())
                throw Cancelled();
        };
        eo.contextManifest = contextManifest_;
        const cache::CacheExportReport r = cache::exportCache(g, spec, eo);
        if (o_.cancel.stop_requested())
            throw Cancelled(); // also when ignore-error=true turned the cancel into a warning
        std::string line = r.target + ": ";
        if (r.skipped)
            line += "skipped (nothing to export)";
        else if (!r.warning.empty())
            line += "not written: " + r.warning;
        else {
            line += std::to_string(r.records) + " records, " + std::to_string(r.layers) + " layers";
            if (r.converted + r.reused > 0)
                line += " (" + spec.compression.name() + ": " + std::to_string(r.converted) + " converted, " +
                        std::to_string(r.reused) + " reused)";
        }
        result_.cacheExports.push_back(line);
        emit(StepLog{0, false, line, 0});
    }
}

// --cache-to …,export-on-failure=true: the steps that finished before the failure are exported;
// a failure of this export is reported next to the build's own error, never instead of it.
void Runner::exportAfterFailure()
{
    if (std::none_of(o_.cacheTo.begin(), o_.cacheTo.end(), [](const auto& s) { return s.exportOnFailure; }))
        return;
    // The stop that ended the steps must not end the export: only the caller's cancel does.
    exportingAfterFailure_ = true;
    try {
        exportCaches(exportGraph(true), true);
    } catch (const std::exception& e) {
        result_.cacheExports.push_back(std::string("export after the failure did not complete: ") + e.what());
        emit(StepLog{0, true, result_.cacheExports.back(), 0});
    }
}

} // namespace

std::size_t BuildResult::stepsCached() const
{
    std::size_t n = 0;
    for (const auto& s : steps)
        n += s.state == StepOutcome::State::Cached || s.state == StepOutcome::State::NotEvaluated;
    return n;
}

std::size_t BuildResult::stepsRun() const
{
    std::size_t n = 0;
    for (const auto& s : steps)
        n += s.state == StepOutcome::State::Ran && !s.name.empty() && s.name.find(" FROM ") == std::string::npos;
    return n;
}

OutputSpec parseOutputSpec(const std::string& text)
{
    OutputSpec out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
        if (part.empty())
            continue;
        const auto eq = part.find('=');
        if (eq == std::string::npos)
            throw Error("--output " + text + ": \"" + part + "\" is not key=value");
        const std::string k = part.substr(0, eq), v = part.substr(eq + 1);
        if (k == "type")
            out.type = v;
        else if (k == "dest")
            out.dest = v;
        else if (k == "push" || k == "registry.insecure")
            continue;
        else if (k == "name" || k == "tag")
            out.name = v;
        else
            throw Error("--output " + text + ": unknown key \"" + k + "\"");
    }
    if (out.type == "oci") {
        if (out.dest.empty())
            throw Error("--output " + text + ": dest=DIR is required");
    } else if (out.type == "registry") {
        if (out.name.empty())
            throw Error("--output " + text + ": name=REF is required");
        try {
            registry::Reference::parse(out.name);
        } catch (const Error& e) {
            throw Error("--output " + text + ": " + e.what());
        }
    } else {
        throw Error("--output " + text + ": type must be oci (type=oci,dest=DIR) or registry (type=registry,name=REF)");
    }
    return out;
}

BuildSession::BuildSession(BuildOptions options, EventSink sink) : options_(std::move(options)), sink_(std::move(sink)) {}

BuildResult BuildSession::run()
{
    BuildResult result;
    const auto t0 = Clock::now();
    const auto started = std::chrono::system_clock::now();
    try {
        Runner r(options_, sink_, result);
        r.run();
        result.ok = true;
    } catch (const std::exception& e) {
        result.ok = false;
        result.error = e.what();
    }
    result.timings.ok = result.ok;
    result.timings.error = result.error;
    result.timings.total = since(t0);
    // Every build, ok or failed, leaves a record for the History view; one not written is only logged.
    if (const std::string warning = recordBuildInHistory(options_, result, started); !warning.empty() && sink_)
        sink_(StepLog{0, true, warning, 0});
    if (sink_)
        sink_(result.timings);
    return result;
}

} // namespace cachescope::build

#include "solver/op_graph.h"

#include "base/error.h"
#include "solver/go_path.h"

#include <algorithm>
#include <charconv>

namespace cachescope::solver {

namespace {

using dockerfile::BaseKind;
using dockerfile::CopyInstruction;
using dockerfile::InstructionKind;
using dockerfile::PlannedInstruction;
using dockerfile::PlannedStage;
using dockerfile::RunInstruction;
using dockerfile::RunMount;


std::optional<std::uint32_t> parseId(const std::string& s)
{
    if (s == "root")
        return 0u;
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
        return std::nullopt;
    return v;
}

UserOpt userOpt(const std::string& s)
{
    if (const auto id = parseId(s))
        return UserOpt::byId(*id);
    return UserOpt::byName(s);
}

class Converter {
public:
    Converter(const dockerfile::BuildPlan& plan, const ImageSources& images, const std::string& file)
        : plan_(plan), images_(images), file_(file)
    {
    }

    OpGraph run()
    {
        g_.stageOutput.assign(plan_.stages.size(), -1);
        for (int s : plan_.dispatchOrder) {
            const PlannedStage& st = plan_.stages[static_cast<std::size_t>(s)];
            if (!st.reachable || !st.dispatched)
                continue;
            convertStage(st);
        }
        if (plan_.target >= 0)
            g_.target = g_.stageOutput[static_cast<std::size_t>(plan_.target)];
        return std::move(g_);
    }

private:
    [[noreturn]] void fail(const PlannedInstruction& pi, const std::string& what) const
    {
        throw Error(file_ + ":" + std::to_string(pi.instruction.range.startLine) + ": " + what);
    }

    int add(OpNode n)
    {
        g_.nodes.push_back(std::move(n));
        return static_cast<int>(g_.nodes.size()) - 1;
    }

    int imageNode(const PlannedStage& st)
    {
        const auto known = imageNodes_.find(st.baseName);
        if (known != imageNodes_.end())
            return known->second;
        const auto it = images_.byName.find(st.baseName);
        if (it == images_.byName.end())
            throw Error(file_ + ": image \"" + st.baseName + "\" was not resolved");
        OpNode n;
        n.kind = OpKind::Image;
        n.op = it->second;
        n.cacheMaps = cacheMaps(it->second);
        n.displayName = st.fromDisplayName;
        n.stage = st.index;
        n.imageName = st.baseName;
        const int id = add(std::move(n));
        imageNodes_[st.baseName] = id;
        return id;
    }

    int contextNode()
    {
        if (g_.context >= 0)
            return g_.context;
        LocalSource local;
        local.name = "context";
        local.sessionId = "cachescope-dry-run";
        OpNode n;
        n.kind = OpKind::Local;
        n.op = local;
        n.cacheMaps = {cacheMap(local)};
        n.displayName = "[internal] load build context";
        g_.context = add(std::move(n));
        return g_.context;
    }

    // Output node of a plan stage used as a source; -1 for scratch.
    int sourceStage(int stage)
    {
        if (stage < 0)
            return -1;
        const PlannedStage& src = plan_.stages[static_cast<std::size_t>(stage)];
        if (src.dockerfileStage < 0 && src.baseKind == BaseKind::Image && src.baseImage.hasLayers &&
            g_.stageOutput[static_cast<std::size_t>(stage)] < 0)
            g_.stageOutput[static_cast<std::size_t>(stage)] = imageNode(src);
        return g_.stageOutput[static_cast<std::size_t>(stage)];
    }

    void convertStage(const PlannedStage& st)
    {
        int state = -1;
        if (st.baseKind == BaseKind::Stage)
            state = g_.stageOutput[static_cast<std::size_t>(st.baseStage)];
        else if (st.baseKind == BaseKind::Image && st.baseImage.hasLayers)
            state = imageNode(st);
        const Platform platform = toOciPlatform(st.platform);
        for (std::size_t i = 0; i < st.instructions.size(); ++i) {
            const PlannedInstruction& pi = st.instructions[i];
            switch (pi.instruction.kind) {
            case InstructionKind::Run:
                state = run(st, static_cast<int>(i), pi, state, platform);
                break;
            case InstructionKind::Copy:
            case InstructionKind::Add:
                state = copy(st, static_cast<int>(i), pi, state);
                break;
            case InstructionKind::Workdir:
                if (pi.isStep)
                    state = workdir(st, static_cast<int>(i), pi, state);
                break;
            default:
                break;
            }
        }
        g_.stageOutput[static_cast<std::size_t>(st.index)] = state;
    }

    OpNode step(const PlannedStage& st, int instruction, const PlannedInstruction& pi, OpKind kind)
    {
        OpNode n;
        n.kind = kind;
        n.stage = st.index;
        n.instruction = instruction;
        n.displayName = pi.displayName;
        n.isStep = true;
        return n;
    }

    static ContentOrigin originOf(const OpGraph& g, int node, int stage)
    {
        if (node < 0)
            return ContentOrigin::None;
        const OpNode& n = g.nodes[static_cast<std::size_t>(node)];
        if (n.kind == OpKind::Local)
            return ContentOrigin::Context;
        if (n.kind == OpKind::File && n.inputs.empty() && stage < 0)
            return ContentOrigin::Inline;
        return ContentOrigin::Stage;
    }

    void finish(OpNode& n, const std::vector<int>& inputNodes, const std::vector<int>& inputStages)
    {
        for (std::size_t i = 0; i < inputNodes.size(); ++i) {
            OpInput in;
            in.node = inputNodes[i];
            in.stage = inputStages[i];
            const bool content = i < n.cacheMaps[0].deps.size() && n.cacheMaps[0].deps[i].contentBased;
            in.origin = content ? originOf(g_, in.node, in.stage) : ContentOrigin::None;
            n.inputs.push_back(in);
        }
    }

    // A one-action file op on scratch (heredoc files, cache mount directories).
    int scratchFile(FileActionKind action)
    {
        FileOp op;
        op.numInputs = 0;
        op.actions.push_back(FileAction{-1, -1, 0, std::move(action)});
        OpNode n;
        n.kind = OpKind::File;
        n.cacheMaps = {cacheMap(op)};
        n.op = std::move(op);
        return add(std::move(n));
    }

    int run(const PlannedStage& st, int index, const PlannedInstruction& pi, int state, const Platform& platform)
    {
        const RunInstruction& r = pi.instruction.as<RunInstruction>();
        ExecOp op;
        op.meta.args = pi.runArgs;
        op.meta.env = pi.before.env.toStrings();
        op.meta.cwd = pi.before.cwd;
        op.meta.user = pi.before.user.value_or("");
        op.meta.removeMountStubsRecursive = true;
        op.platform = platform;
        op.network = r.network == dockerfile::NetworkMode::None   ? NetMode::None
                     : r.network == dockerfile::NetworkMode::Host ? NetMode::Host
                                                                  : NetMode::Unset;
        op.security = r.security == dockerfile::SecurityMode::Insecure ? SecurityMode::Insecure : SecurityMode::Sandbox;

        // Mounts with the node (and plan stage) they read; inputs are numbered after sorting by dest.
        struct Pending {
            Mount mount;
            int node = -1;
            int stage = -1;
        };
        std::vector<Pending> pending;
        Pending root;
        root.mount = rootMount();
        root.node = state;
        pending.push_back(root);
        for (std::size_t i = 0; i < pi.mounts.size(); ++i) {
            const RunMount& m = pi.mounts[i];
            const int srcStage = i < pi.sourceStages.size() ? pi.sourceStages[i] : -1;
            std::string target = m.target;
            if (!target.empty() && target.front() != '/')
                target = goPathJoin("/", goPathJoin(pi.before.cwd, target));
            Pending p;
            p.mount.dest = goPathClean(target);
            p.mount.output = SkipOutput;
            switch (m.type) {
            case dockerfile::MountType::Bind:
                p.mount.mountType = MountType::Bind;
                p.mount.readonly = m.readOnly;
                p.mount.selector = m.source;
                if (m.from.empty()) {
                    p.node = contextNode();
                } else {
                    p.node = sourceStage(srcStage);
                    p.stage = srcStage;
                }
                break;
            case dockerfile::MountType::Cache: {
                p.mount.mountType = MountType::Cache;
                CacheOpt c;
                c.id = "/" + (m.id.empty() ? m.target : m.id);
                c.sharing = m.sharing == dockerfile::CacheSharing::Private  ? CacheSharing::Private
                            : m.sharing == dockerfile::CacheSharing::Locked ? CacheSharing::Locked
                                                                            : CacheSharing::Shared;
                p.mount.cacheOpt = c;
                if (!m.from.empty()) {
                    p.node = sourceStage(srcStage);
                    p.stage = srcStage;
                    p.mount.selector = m.source;
                } else if (m.uid || m.gid || m.mode) {
                    FileActionMkDir dir;
                    dir.path = "/cache";
                    dir.mode = static_cast<std::int32_t>(m.mode.value_or(0755));
                    ChownOpt owner;
                    owner.user = UserOpt::byId(m.uid.value_or(0));
                    owner.group = UserOpt::byId(m.gid.value_or(0));
                    dir.owner = owner;
                    p.node = scratchFile(dir);
                    p.mount.selector = "cache";
                }
                break;
            }
            case dockerfile::MountType::Tmpfs:
                p.mount.mountType = MountType::Tmpfs;
                p.mount.tmpfsSize = m.sizeLimit;
                break;
            case dockerfile::MountType::Secret: {
                if (m.env)
                    op.secretenv.push_back(SecretEnv{m.id, *m.env, !m.required});
                if (m.env && m.target.empty())
                    continue;
                p.mount.mountType = MountType::Secret;
                p.mount.output = 0;
                if (m.target.empty())
                    p.mount.dest = "/run/secrets/" + m.id;
                p.mount.secretOpt = SecretOpt{m.id, m.uid.value_or(0), m.gid.value_or(0), m.mode.value_or(0400), !m.required};
                break;
            }
            case dockerfile::MountType::Ssh:
                p.mount.mountType = MountType::Ssh;
                p.mount.output = 0;
                if (m.target.empty())
                    p.mount.dest = "/run/buildkit/ssh_agent." + std::to_string(sshCount_);
                p.mount.sshOpt = SshOpt{m.id, m.uid.value_or(0), m.gid.value_or(0), m.mode.value_or(0600), !m.required};
                if (m.target.empty())
                    op.meta.env.push_back("SSH_AUTH_SOCK=" + p.mount.dest);
                ++sshCount_;
                break;
            }
            pending.push_back(std::move(p));
        }
        if (pi.runScript) {
            FileActionMkFile f;
            f.path = "/" + pi.runScript->name;
            f.mode = 0755;
            f.data = pi.runScript->data;
            Pending p;
            p.node = scratchFile(f);
            p.mount.dest = "/dev/pipes/";
            p.mount.output = SkipOutput;
            p.mount.readonly = true;
            pending.push_back(std::move(p));
        }
        // The LLB client sorts mounts by destination (the root "/" sorts first).
        std::stable_sort(pending.begin() + 1, pending.end(),
                         [](const Pending& a, const Pending& b) { return a.mount.dest < b.mount.dest; });
        std::vector<int> inputNodes, inputStages;
        for (Pending& p : pending) {
            if (p.node < 0) {
                p.mount.input = NoInput;
            } else {
                const auto found = std::find(inputNodes.begin(), inputNodes.end(), p.node);
                if (found == inputNodes.end()) {
                    inputNodes.push_back(p.node);
                    inputStages.push_back(p.stage);
                    p.mount.input = static_cast<std::int64_t>(inputNodes.size()) - 1;
                } else {
                    p.mount.input = found - inputNodes.begin();
                }
            }
            op.mounts.push_back(p.mount);
        }
        op.numInputs = static_cast<int>(inputNodes.size());
        OpNode n = step(st, index, pi, OpKind::Exec);
        n.cacheMaps = {cacheMap(op)};
        n.op = std::move(op);
        finish(n, inputNodes, inputStages);
        return add(std::move(n));
    }

    FileActionCopy copyAction(const CopyInstruction& c, const std::string& src, const std::string& dest, bool heredoc,
                              const PlannedInstruction& pi)
    {
        FileActionCopy a;
        a.src = src;
        a.dest = dest;
        if (!heredoc) {
            a.followSymlink = a.dirCopyContents = a.allowWildcard = a.allowEmptyWildcard = true;
            a.attemptUnpackDockerCompatibility = c.isAdd && c.unpack.value_or(true);
        }
        a.createDestPath = true;
        if (!c.chown.empty())
            a.owner = parseChown(c.chown);
        if (!c.chmod.empty()) {
            std::uint32_t mode = 0;
            const auto [p, ec] = std::from_chars(c.chmod.data(), c.chmod.data() + c.chmod.size(), mode, 8);
            if (ec == std::errc() && p == c.chmod.data() + c.chmod.size()) {
                if (mode > 07777)
                    fail(pi, "invalid --chmod " + c.chmod);
                a.mode = static_cast<std::int32_t>(mode);
            } else {
                a.mode = 0;
                a.modeStr = c.chmod;
            }
        }
        a.excludePatterns = c.excludes;
        return a;
    }

    static bool isRemote(const std::string& src)
    {
        return src.starts_with("http://") || src.starts_with("https://") || src.starts_with("git@") ||
               src.find(".git#") != std::string::npos || src.ends_with(".git");
    }

    int copy(const PlannedStage& st, int index, const PlannedInstruction& pi, int state)
    {
        const CopyInstruction& c = pi.instruction.as<CopyInstruction>();
        const std::string dest = dockerfile::pathRelativeToWorkingDir(pi.before.cwd, c.dest);
        const bool link = c.link && c.chmod.empty() && state >= 0;
        const int base = link ? -1 : state;

        // Op inputs: the destination state first (unless scratch), then the sources.
        std::vector<int> inputNodes, inputStages;
        if (base >= 0) {
            inputNodes.push_back(base);
            inputStages.push_back(-1);
        }
        int fromNode = -1, fromStage = -1;
        if (!c.from.empty()) {
            fromStage = pi.sourceStages.empty() ? -1 : pi.sourceStages[0];
            fromNode = sourceStage(fromStage);
        } else if (!c.sources.empty()) {
            fromNode = contextNode();
        }
        struct Src {
            std::string path;
            std::int64_t input;
            bool heredoc;
            std::vector<std::string> include; // COPY --parents
        };
        std::vector<Src> srcs;
        if (!c.sources.empty()) {
            std::int64_t in = NoInput;
            if (fromNode >= 0) {
                inputNodes.push_back(fromNode);
                inputStages.push_back(fromStage);
                in = static_cast<std::int64_t>(inputNodes.size()) - 1;
            }
            for (const std::string& s : c.sources) {
                if (isRemote(s))
                    fail(pi, std::string(c.isAdd ? "ADD" : "COPY") + " " + s +
                                 ": remote sources (http, git) are not modelled by CacheScope's dry run");
                if (!c.parents) {
                    srcs.push_back(Src{goPathJoin("/", s), in, false, {}});
                    continue;
                }
                // dockerfile2llb: "dir/./rest" copies rest with its parents below dir; without the
                // pivot the whole path keeps its parents (source "/"), as an include pattern.
                const auto pivot = s.find("/./");
                const std::string from = pivot == std::string::npos ? "/" : s.substr(0, pivot);
                const std::string pattern = goPathJoin("/", pivot == std::string::npos ? s : s.substr(pivot + 3));
                srcs.push_back(Src{goPathJoin("/", from), in, false, {pattern.substr(1)}});
            }
        }
        for (const dockerfile::InlineFile& f : c.sourceContents) {
            FileActionMkFile mk;
            mk.path = "/" + f.name;
            mk.mode = 0644;
            mk.data = f.data;
            inputNodes.push_back(scratchFile(mk));
            inputStages.push_back(-1);
            srcs.push_back(Src{"/" + f.name, static_cast<std::int64_t>(inputNodes.size()) - 1, true, {}});
        }
        FileOp op;
        op.numInputs = static_cast<int>(inputNodes.size());
        for (std::size_t i = 0; i < srcs.size(); ++i) {
            FileAction a;
            a.input = i == 0 ? (base >= 0 ? 0 : NoInput) : op.numInputs + static_cast<std::int64_t>(i) - 1;
            a.secondaryInput = srcs[i].input;
            a.output = i + 1 == srcs.size() ? 0 : -1;
            FileActionCopy copy = copyAction(c, srcs[i].path, dest, srcs[i].heredoc, pi);
            copy.includePatterns = srcs[i].include;
            a.action = std::move(copy);
            op.actions.push_back(std::move(a));
        }
        OpNode n = step(st, index, pi, OpKind::File);
        n.cacheMaps = {cacheMap(op)};
        n.op = std::move(op);
        finish(n, inputNodes, inputStages);
        const int copyNode = add(std::move(n));
        if (!link)
            return copyNode;
        // COPY --link: the copy ran on scratch; a merge stacks it onto the stage.
        MergeOp merge{{0, 1}};
        OpNode m = step(st, index, pi, OpKind::Merge);
        m.displayName = pi.linkDisplayName;
        m.cacheMaps = {cacheMap(merge)};
        m.op = merge;
        finish(m, {state, copyNode}, {-1, -1});
        return add(std::move(m));
    }

    int workdir(const PlannedStage& st, int index, const PlannedInstruction& pi, int state)
    {
        FileActionMkDir mk;
        mk.path = dockerfile::normalizeWorkdir(pi.before.cwd, pi.instruction.as<dockerfile::WorkdirInstruction>().path);
        mk.mode = 0755;
        mk.makeParents = true;
        if (pi.before.user && !pi.before.user->empty())
            mk.owner = parseChown(*pi.before.user);
        FileOp op;
        op.numInputs = state >= 0 ? 1 : 0;
        op.actions.push_back(FileAction{state >= 0 ? 0 : NoInput, -1, 0, mk});
        OpNode n = step(st, index, pi, OpKind::File);
        n.cacheMaps = {cacheMap(op)};
        n.op = std::move(op);
        if (state >= 0)
            finish(n, {state}, {-1});
        return add(std::move(n));
    }

    const dockerfile::BuildPlan& plan_;
    const ImageSources& images_;
    const std::string& file_;
    OpGraph g_;
    std::map<std::string, int> imageNodes_;
    int sshCount_ = 0;
};

} // namespace

ChownOpt parseChown(const std::string& spec)
{
    ChownOpt c;
    const auto colon = spec.find(':');
    c.user = userOpt(spec.substr(0, colon));
    if (colon != std::string::npos)
        c.group = userOpt(spec.substr(colon + 1));
    return c;
}

OpGraph buildOpGraph(const dockerfile::BuildPlan& plan, const ImageSources& images, const std::string& dockerfileName)
{
    return Converter(plan, images, dockerfileName).run();
}

} // namespace cachescope::solver

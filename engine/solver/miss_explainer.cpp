#include "solver/miss_explainer.h"

namespace cachescope::solver {

namespace {

std::string nameOf(const OpGraph& g, int node)
{
    const OpNode& n = g.nodes[static_cast<std::size_t>(node)];
    return n.displayName.empty() ? std::string("an internal step") : n.displayName;
}

std::string unquote(std::string v)
{
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        return v.substr(1, v.size() - 2);
    return v;
}

// Build args given on the command line that this RUN's environment carries with a value other than
// the Dockerfile's default.
std::string changedBuildArgs(const ExplainContext& ctx, const OpNode& node)
{
    const auto& stage = ctx.plan.stages[static_cast<std::size_t>(node.stage)];
    const auto& pi = stage.instructions[static_cast<std::size_t>(node.instruction)];
    std::string out;
    for (const auto& [key, value] : ctx.buildArgs) {
        const auto inEnv = pi.before.env.get(key);
        if (!inEnv || *inEnv != value)
            continue;
        std::optional<std::string> declared;
        bool found = false;
        const auto consider = [&](const dockerfile::ArgInstruction& arg) {
            for (const auto& a : arg.args)
                if (a.key == key) {
                    found = true;
                    declared = a.defaultValue ? std::optional(unquote(*a.defaultValue)) : std::nullopt;
                }
        };
        for (const auto& g : ctx.dockerfile.globalArgs)
            consider(g);
        if (stage.dockerfileStage >= 0)
            for (const auto& ins : ctx.dockerfile.stages[static_cast<std::size_t>(stage.dockerfileStage)].instructions)
                if (ins.kind == dockerfile::InstructionKind::Arg)
                    consider(ins.as<dockerfile::ArgInstruction>());
        if (!found || (declared && *declared == value))
            continue;
        out += (out.empty() ? "" : ", ") + std::string("build arg ") + key + "=" + value +
               (declared ? " (Dockerfile default: " + *declared + ")" : " (declared without a default)");
    }
    return out;
}

std::string copySources(const ExplainContext& ctx, const OpNode& node)
{
    const auto& pi = ctx.plan.stages[static_cast<std::size_t>(node.stage)].instructions[static_cast<std::size_t>(node.instruction)];
    std::string out;
    if (pi.instruction.isCopyOrAdd())
        for (const auto& s : pi.instruction.as<dockerfile::CopyInstruction>().sources)
            out += (out.empty() ? "" : ", ") + s;
    else
        for (const auto& m : pi.mounts)
            if (m.type == dockerfile::MountType::Bind && m.from.empty())
                out += (out.empty() ? "" : ", ") + (m.source.empty() ? std::string(".") : m.source);
    return out;
}

} // namespace

std::string platformDiffers(const std::string& what, const PlatformMatch& match, const Platform& target)
{
    return "platform differs: " + what + " is cached for " + match.platform +
           (match.source.empty() ? std::string() : " (in " + match.source + ")") + ", this build is for " +
           target.str();
}

Explanation explainNode(const ExplainContext& ctx, int n)
{
    const OpNode& node = ctx.graph.nodes[static_cast<std::size_t>(n)];
    const NodeMatch& m = ctx.matches[static_cast<std::size_t>(n)];
    switch (m.evaluation) {
    case Evaluation::Hit:
        return {};
    case Evaluation::NotEvaluated:
        return {"not-evaluated", "not evaluated: every step that uses its result is cached (BuildKit shows it CACHED)"};
    case Evaluation::Depends: {
        std::string stages;
        if (!m.unknown)
            return {"stage-output", "evaluated only if a later step that depends on a stage output misses; if that "
                                    "step is cached, this one is not evaluated (CACHED), otherwise it " +
                                        std::string(m.usable ? "is loaded from cache" : "runs")};
        for (int i : m.pendingInputs) {
            const OpInput& in = node.inputs[static_cast<std::size_t>(i)];
            if (in.origin == ContentOrigin::Stage && in.stage >= 0) {
                const auto& st = ctx.plan.stages[static_cast<std::size_t>(in.stage)];
                stages += (stages.empty() ? "" : ", ") + (st.name.empty() ? st.baseName : st.name);
            }
        }
        if (!stages.empty())
            return {"stage-output", "depends on the output of stage " + stages +
                                        ", known only after it runs: cached if its files come out identical "
                                        "(content key), otherwise it runs"};
        for (int i : m.pendingInputs)
            return {"stage-output", "depends on " + nameOf(ctx.graph, node.inputs[static_cast<std::size_t>(i)].node) +
                                        ", whose outcome is known only after a stage runs"};
        return {"stage-output", "depends on a stage output known only after it runs"};
    }
    case Evaluation::Run:
        break;
    }
    if (ctx.usableSources == 0)
        return {"no-source", ctx.sourcesNote.empty() ? "no cache source given (--cache-from)"
                                                     : "no cache source could be used: " + ctx.sourcesNote};
    if (m.keyFound && m.hasResult && !m.usable)
        return {"blob-missing", "a cache record matches, but its layer blob " +
                                    (m.missingBlob.empty() ? std::string("(unknown)") : m.missingBlob) +
                                    " is missing or not listed by the source: it runs"};
    if (m.keyFound && !m.usable)
        return {"key-only", "the cache knows this step's key but holds no result for it (exported with mode=min, "
                            "or a stage outside the exported image): it runs because a later step needs its files"};
    // No candidate: a parent missed (consequence), or this step is the point of divergence.
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        const OpInput& in = node.inputs[i];
        const OpNode& parent = ctx.graph.nodes[static_cast<std::size_t>(in.node)];
        const NodeMatch& pm = ctx.matches[static_cast<std::size_t>(in.node)];
        if (parent.kind == OpKind::Image && !pm.keyFound) {
            if (ctx.platforms)
                if (const auto other = ctx.platforms->otherPlatform(in.node))
                    return {"platform-differs",
                            platformDiffers("base image " + parent.imageName, *other, ctx.platforms->target())};
            return {"base-image-changed", "base image " + parent.imageName + " changed: neither its manifest key (" +
                                              parent.cacheMaps[0].record().str() + ") nor its layer-chain key is in any cache source"};
        }
        if (parent.kind == OpKind::Local) {
            if (!m.inputContentFound[i])
                return {"context-changed", "context files changed: the content of " + copySources(ctx, node) +
                                               " differs from every cached build (content key " +
                                               (node.cacheMaps[0].deps[i].contentBased ? "not found" : "unknown") + ")"};
            continue;
        }
        if (!pm.keyFound && !m.inputDefinitionMatched[i] && !m.inputContentFound[i])
            return {"upstream", "consequence of the miss at " + nameOf(ctx.graph, in.node)};
    }
    if (node.kind == OpKind::Exec) {
        if (ctx.platforms)
            if (const auto other = ctx.platforms->otherPlatform(n))
                return {"platform-differs", platformDiffers("this RUN", *other, ctx.platforms->target())};
        const std::string args = changedBuildArgs(ctx, node);
        if (!args.empty())
            return {"build-arg-changed", args + " is in this RUN's environment, and no cached RUN has it"};
        return {"definition-changed", "this RUN (command, environment, working dir, user, mounts or platform) matches "
                                      "no cached step on top of the same parent"};
    }
    return {"definition-changed", "this step's definition (paths, flags, owner) matches no cached step on top of "
                                  "the same parent"};
}

} // namespace cachescope::solver

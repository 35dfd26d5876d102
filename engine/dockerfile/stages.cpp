#include "dockerfile/stages.h"

#include "dockerfile/shell_lex.h"
#include "dockerfile/text_util.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <set>

namespace cachescope::dockerfile {
namespace {

const char* const kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const std::set<std::string> kNonEnvArgs = {"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"};

// One command of a stage as dispatched: a Dockerfile instruction or an ONBUILD trigger.
struct Command {
    Instruction instruction;
    int sourceIndex = -1;
    bool onbuild = false;
    std::vector<int> sources; // COPY --from: one; RUN: one per mount (-1 = none)
};

// A dispatch state: one per FROM, plus one per image/scratch named by COPY --from or RUN --mount.
struct State {
    PlannedStage plan;
    const Stage* stage = nullptr; // null for unregistered states
    bool unregistered = false;
    bool resolved = false;
    bool onbuildInit = false;
    std::vector<Command> commands;
    std::vector<int> deps;        // stages this one copies or mounts from
    int cmdIndex = 0;
    bool cmdIsOnbuild = false;
    bool platformSet = false;
    bool cmdSet = false;          // CMD given in this stage (ENTRYPOINT then keeps it)
    SourceRange range;
};

// Adds or replaces in place, as the image config's Env list is maintained.
void configAddEnv(std::vector<std::string>& env, const std::string& k, const std::string& v)
{
    for (std::string& e : env) {
        const auto eq = e.find('=');
        if (e.substr(0, eq) == k) {
            e = k + "=" + v;
            return;
        }
    }
    env.push_back(k + "=" + v);
}

std::string uppercaseCmd(const std::string& s)
{
    const auto sp = s.find(' ');
    if (sp == std::string::npos)
        return toUpperAscii(s);
    return toUpperAscii(s.substr(0, sp)) + s.substr(sp);
}

std::string summarizeHeredoc(const std::string& doc)
{
    std::string d(trimSpace(doc));
    std::string norm;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (d[i] == '\r' && i + 1 < d.size() && d[i + 1] == '\n')
            continue;
        norm += d[i];
    }
    const auto nl = norm.find('\n');
    if (nl == std::string::npos)
        return norm;
    return norm.substr(0, nl) + "...";
}

std::optional<Platform> platformFromEnv(const EnvList& env)
{
    Platform p;
    p.os.clear();
    p.architecture.clear();
    bool set = false;
    for (const auto& [k, v] : env.entries()) {
        if (k == "TARGETPLATFORM") {
            try {
                return Platform::parse(v);
            } catch (const Error&) {
                continue;
            }
        }
        if (k == "TARGETOS") {
            p.os = v;
            set = true;
        } else if (k == "TARGETARCH") {
            p.architecture = v;
            set = true;
        } else if (k == "TARGETVARIANT") {
            p.variant = v;
            set = true;
        }
    }
    if (!set)
        return std::nullopt;
    return p;
}

std::string formatTargetPlatform(const Platform& base, std::optional<Platform> target)
{
    if (!target)
        return "";
    if (target->os.empty())
        target->os = base.os;
    if (target->architecture.empty())
        target->architecture = base.architecture;
    Platform p = *target;
    try {
        p = Platform::parse(target->os + "/" + target->architecture + (target->variant.empty() ? "" : "/" + target->variant));
    } catch (const Error&) {
    }
    if (p.os == base.os && p.architecture != base.architecture)
        return "->" + p.architecture + (p.variant.empty() ? "" : "/" + p.variant);
    if (p.os != base.os)
        return "->" + p.strAll();
    return "";
}

class Planner {
public:
    Planner(const Dockerfile& df, const BuildOptions& opt) : df_(df), opt_(opt), lex_(df.escapeToken()) {}

    BuildPlan run()
    {
        setupPlatforms();
        std::string targetName = opt_.target;
        if (targetName.empty())
            targetName = df_.stages.back().from.stageName;
        globalArgs_ = defaultArgs(targetName);
        buildMetaArgs();
        buildDispatchStates();
        const int target = resolveTarget();
        buildDependencyGraph();
        resolveStages(target);
        dispatchStages();

        BuildPlan plan;
        plan.target = target;
        plan.globalArgs = globalArgs_;
        plan.dispatchOrder = dispatchOrder_;
        for (State& s : states_)
            plan.stages.push_back(std::move(s.plan));
        return plan;
    }

private:
    [[noreturn]] void failAt(int line, const std::string& what) const { throwAt(df_.fileName, line, what); }

    void setupPlatforms()
    {
        if (opt_.buildPlatform)
            buildPlatform_ = *opt_.buildPlatform;
        else if (opt_.targetPlatform)
            buildPlatform_ = *opt_.targetPlatform;
        targetPlatform_ = opt_.targetPlatform.value_or(buildPlatform_);
    }

    EnvList defaultArgs(const std::string& targetName) const
    {
        const std::pair<std::string, std::string> defaults[] = {
            {"BUILDPLATFORM", buildPlatform_.str()},
            {"BUILDOS", buildPlatform_.os},
            {"BUILDOSVERSION", buildPlatform_.osVersion},
            {"BUILDARCH", buildPlatform_.architecture},
            {"BUILDVARIANT", buildPlatform_.variant},
            {"TARGETPLATFORM", targetPlatform_.strAll()},
            {"TARGETOS", targetPlatform_.os},
            {"TARGETOSVERSION", targetPlatform_.osVersion},
            {"TARGETARCH", targetPlatform_.architecture},
            {"TARGETVARIANT", targetPlatform_.variant},
            {"TARGETSTAGE", targetName},
        };
        EnvList env;
        for (const auto& [k, v] : defaults) {
            const auto it = opt_.buildArgs.find(k);
            env.set(k, it != opt_.buildArgs.end() ? it->second : v);
        }
        return env;
    }

    void buildMetaArgs()
    {
        for (std::size_t i = 0; i < df_.globalArgs.size(); ++i) {
            for (const ArgDecl& a : df_.globalArgs[i].args) {
                std::optional<std::string> value;
                if (const auto it = opt_.buildArgs.find(a.key); it != opt_.buildArgs.end()) {
                    value = it->second;
                } else if (a.defaultValue) {
                    try {
                        value = lex_.processWord(*a.defaultValue, globalArgs_);
                    } catch (const Error& e) {
                        failAt(df_.globalArgRanges[i].startLine, e.what());
                    }
                }
                if (value)
                    globalArgs_.set(a.key, *value);
            }
        }
    }

    void addState(State st)
    {
        st.plan.index = static_cast<int>(states_.size());
        if (const auto it = byName_.find(st.plan.baseName); it != byName_.end() && !st.unregistered) {
            st.plan.baseKind = BaseKind::Stage;
            st.plan.baseStage = it->second;
        }
        if (!st.plan.declaredName.empty())
            byName_[st.plan.declaredName] = st.plan.index;
        states_.push_back(std::move(st));
    }

    std::optional<int> findByName(const std::string& name) const
    {
        const auto it = byName_.find(toLowerAscii(name));
        if (it == byName_.end())
            return std::nullopt;
        return it->second;
    }

    void buildDispatchStates()
    {
        for (std::size_t i = 0; i < df_.stages.size(); ++i) {
            const Stage& s = df_.stages[i];
            State st;
            st.stage = &s;
            st.range = s.range;
            st.plan.dockerfileStage = static_cast<int>(i);
            st.plan.declaredName = s.from.stageName;
            try {
                st.plan.baseName = lex_.processWord(s.from.baseName, globalArgs_);
            } catch (const Error& e) {
                failAt(s.range.startLine, e.what());
            }
            if (st.plan.baseName.empty())
                failAt(s.range.startLine, "base name (" + s.from.baseName + ") should not be blank");
            if (!s.from.platform.empty()) {
                std::string p;
                try {
                    p = lex_.processWord(s.from.platform, globalArgs_);
                } catch (const Error& e) {
                    failAt(s.range.startLine, std::string("failed to process arguments for platform: ") + e.what());
                }
                if (p.empty())
                    failAt(s.range.startLine, "empty platform value from expression " + s.from.platform);
                try {
                    st.plan.platform = Platform::parse(p);
                } catch (const Error& e) {
                    failAt(s.range.startLine, "failed to parse platform " + s.from.platform + ": " + e.what());
                }
                st.platformSet = true;
            }
            st.plan.name = s.from.stageName.empty() ? "stage-" + std::to_string(i) : s.from.stageName;
            st.plan.baseKind = st.plan.baseName == "scratch" ? BaseKind::Scratch : BaseKind::Image;
            addState(std::move(st));
            State& added = states_.back();
            int total = (added.plan.baseName != "scratch" && added.plan.baseKind != BaseKind::Stage) ? 1 : 0;
            for (const Instruction& ins : s.instructions)
                if (ins.kind == InstructionKind::Add || ins.kind == InstructionKind::Copy ||
                    ins.kind == InstructionKind::Run || ins.kind == InstructionKind::Workdir)
                    ++total;
            added.plan.totalSteps = total;
        }
    }

    int resolveTarget() const
    {
        if (opt_.target.empty())
            return static_cast<int>(states_.size()) - 1;
        if (const auto i = findByName(opt_.target))
            return *i;
        throw Error("target stage \"" + opt_.target + "\" could not be found");
    }

    // An image or scratch state for `--from=<image>` / `from=` of a mount / a mount without from.
    int addUnregistered(const std::string& baseName, SourceRange range)
    {
        State st;
        st.unregistered = true;
        st.range = range;
        st.plan.baseName = baseName;
        st.plan.baseKind = baseName == "scratch" ? BaseKind::Scratch : BaseKind::Image;
        addState(std::move(st));
        return static_cast<int>(states_.size()) - 1;
    }

    // Which states a command reads from (BuildKit's toCommand + detectRunMount).
    std::vector<int> commandSources(const Instruction& ins)
    {
        std::vector<int> sources;
        if (ins.kind == InstructionKind::Copy) {
            const std::string& from = ins.as<CopyInstruction>().from;
            if (from.empty())
                return sources;
            ShellLex plain(df_.escapeToken());
            std::string expanded;
            try {
                expanded = plain.processWord(from, EnvList());
            } catch (const Error& e) {
                failAt(ins.range.startLine, e.what());
            }
            if (expanded != from)
                failAt(ins.range.startLine, "variable expansion is not supported for --from, define a new stage with "
                                            "FROM using ARG from global scope as a workaround");
            int index = -1;
            const auto [p, ec] = std::from_chars(from.data(), from.data() + from.size(), index);
            if (ec == std::errc() && p == from.data() + from.size()) {
                if (index < 0 || index >= static_cast<int>(states_.size()))
                    failAt(ins.range.startLine, "invalid stage index " + from);
                sources.push_back(index);
            } else if (const auto named = findByName(from)) {
                sources.push_back(*named);
            } else {
                sources.push_back(addUnregistered(from, ins.range));
            }
        } else if (ins.kind == InstructionKind::Run) {
            // Every mount gets a source state; one without `from` names scratch (BuildKit does not look
            // at the type here because it may still contain a variable).
            for (const RunMount& m : ins.as<RunInstruction>().mounts) {
                const std::string from = m.from.empty() ? "scratch" : m.from;
                if (const auto named = findByName(from))
                    sources.push_back(*named);
                else
                    sources.push_back(addUnregistered(from, ins.range));
            }
        }
        return sources;
    }

    void buildDependencyGraph()
    {
        const std::size_t registered = states_.size();
        for (std::size_t i = 0; i < registered; ++i) {
            const Stage& s = *states_[i].stage;
            for (std::size_t j = 0; j < s.instructions.size(); ++j) {
                Command c;
                c.instruction = s.instructions[j];
                c.sourceIndex = static_cast<int>(j);
                c.sources = commandSources(c.instruction);
                for (int src : c.sources)
                    states_[i].deps.push_back(src);
                states_[i].commands.push_back(std::move(c));
            }
        }
        checkCircular();
        if (states_.size() == 1)
            states_[0].plan.name.clear();
    }

    void checkCircular() const
    {
        std::set<int> visited;
        std::set<int> onPath;
        std::function<std::optional<int>(int)> visit = [&](int s) -> std::optional<int> {
            if (visited.count(s))
                return std::nullopt;
            visited.insert(s);
            onPath.insert(s);
            for (int d : states_[s].deps) {
                if (onPath.count(d))
                    return s;
                if (auto r = visit(d))
                    return r;
            }
            onPath.erase(s);
            return std::nullopt;
        };
        for (std::size_t s = 0; s < states_.size(); ++s)
            if (visit(static_cast<int>(s)))
                failAt(states_[s].range.startLine, "circular dependency detected on stage: " + states_[s].plan.name);
    }

    std::set<int> reachableFrom(int target) const
    {
        std::set<int> out;
        std::function<void(int)> add = [&](int s) {
            if (!out.insert(s).second)
                return;
            if (states_[s].plan.baseStage >= 0)
                add(states_[s].plan.baseStage);
            for (int d : states_[s].deps)
                add(d);
        };
        add(target);
        return out;
    }

    void resolveBase(State& st)
    {
        st.resolved = true;
        const Platform platform = st.platformSet ? st.plan.platform : targetPlatform_;
        if (st.plan.baseKind == BaseKind::Scratch) {
            st.plan.baseImage.hasLayers = false;
            st.plan.platform = targetPlatform_;
            if (st.unregistered)
                st.plan.dispatched = true;
            return;
        }
        if (opt_.resolveImage) {
            try {
                st.plan.baseImage = opt_.resolveImage(st.plan.baseName, platform);
            } catch (const Error& e) {
                failAt(st.range.startLine, e.what());
            }
        }
        if (st.plan.baseImage.resolvedName.empty())
            st.plan.baseImage.resolvedName = st.plan.baseName;
        st.plan.platform = platform;
        if (st.plan.baseImage.hasLayers)
            st.plan.fromDisplayName = prefixCommand(st, "FROM " + st.plan.baseImage.resolvedName, platform, nullptr);
        if (st.unregistered)
            st.plan.dispatched = true;
    }

    void resolveStages(int target)
    {
        for (;;) {
            reachable_ = reachableFrom(target);
            for (std::size_t i = 0; i < states_.size(); ++i) {
                State& st = states_[i];
                const bool reach = opt_.allStages || reachable_.count(static_cast<int>(i));
                if (st.plan.baseStage < 0 && !st.plan.dispatched && !st.resolved && reach)
                    resolveBase(st);
            }
            bool newDeps = false;
            for (int s : std::vector<int>(reachable_.begin(), reachable_.end()))
                newDeps |= initOnbuild(states_[s]);
            if (!newDeps)
                break;
        }
    }

    // Turns the base's ONBUILD triggers into the first commands of the stage.
    bool initOnbuild(State& st)
    {
        if (st.onbuildInit)
            return false;
        st.onbuildInit = true;
        std::vector<std::string> triggers;
        if (st.plan.baseStage < 0) {
            triggers = st.plan.baseImage.config.onBuild;
        } else {
            for (const Command& c : states_[st.plan.baseStage].commands)
                if (c.instruction.kind == InstructionKind::Onbuild)
                    triggers.push_back(c.instruction.as<OnbuildInstruction>().expression);
        }
        if (triggers.empty())
            return false;
        bool newDeps = false;
        std::vector<Command> cmds;
        for (const std::string& t : triggers) {
            const Node node = parseInstructionLine(t, '\\', df_.fileName, st.range.startLine);
            Command c;
            c.instruction = parseInstruction(node, df_.fileName, true);
            c.instruction.range = st.range;
            c.onbuild = true;
            c.sources = commandSources(c.instruction);
            if (!c.sources.empty())
                newDeps = true;
            for (int src : c.sources)
                st.deps.push_back(src);
            cmds.push_back(std::move(c));
        }
        st.plan.totalSteps += static_cast<int>(cmds.size());
        cmds.insert(cmds.end(), std::make_move_iterator(st.commands.begin()), std::make_move_iterator(st.commands.end()));
        st.commands = std::move(cmds);
        return newDeps;
    }

    std::string prefixCommand(State& st, const std::string& str, const Platform& platform, const EnvList* env)
    {
        if (st.plan.totalSteps == 0)
            return str;
        std::string out = "[";
        if (opt_.multiPlatform)
            out += platform.strAll() + (env ? formatTargetPlatform(platform, platformFromEnv(*env)) : "") + " ";
        if (!st.plan.name.empty())
            out += st.plan.name + " ";
        ++st.cmdIndex;
        const int width = 1 + static_cast<int>(std::log10(static_cast<double>(st.plan.totalSteps)));
        std::string idx = std::to_string(st.cmdIndex);
        if (static_cast<int>(idx.size()) < width)
            idx.insert(0, static_cast<std::size_t>(width) - idx.size(), ' ');
        out += idx + "/" + std::to_string(st.plan.totalSteps) + "] ";
        if (st.cmdIsOnbuild)
            out += "ONBUILD ";
        return out + str;
    }

    // ---- dispatch ----

    void dispatchStages()
    {
        for (std::size_t i = 0; i < states_.size(); ++i) {
            State& st = states_[i];
            if (!opt_.allStages && (!reachable_.count(static_cast<int>(i)) || st.plan.dispatched))
                continue;
            if (st.plan.dispatched)
                continue;
            dispatchStage(st);
        }
        for (std::size_t i = 0; i < states_.size(); ++i)
            states_[i].plan.reachable = reachable_.count(static_cast<int>(i)) != 0;
    }

    void dispatchStage(State& st)
    {
        StepState state;
        ImageConfig& img = st.plan.image;
        if (st.plan.baseStage >= 0) {
            const PlannedStage& base = states_[st.plan.baseStage].plan;
            state = base.finalState;
            img = base.image;
            img.onBuild.clear();
            st.plan.platform = base.platform;
        } else if (st.plan.baseKind == BaseKind::Scratch || !st.plan.baseImage.hasLayers) {
            img = st.plan.baseKind == BaseKind::Scratch ? ImageConfig{} : st.plan.baseImage.config;
            if (st.plan.baseKind == BaseKind::Scratch) {
                img.workingDir = "/";
                img.env = {std::string("PATH=") + kDefaultPath};
            }
        } else {
            img = st.plan.baseImage.config;
        }
        img.onBuild.clear(); // triggers were turned into commands
        st.plan.dispatched = true;
        dispatchOrder_.push_back(st.plan.index);

        bool hasPath = false;
        for (const std::string& e : img.env)
            if (e.substr(0, e.find('=')) == "PATH")
                hasPath = true;
        if (!hasPath && st.plan.platform.os != "windows")
            img.env.push_back(std::string("PATH=") + kDefaultPath);
        for (const std::string& e : img.env) {
            const auto eq = e.find('=');
            state.env.set(e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
        }
        if (!img.workingDir.empty()) {
            img.workingDir = normalizeWorkdir(img.workingDir, img.workingDir);
            state.cwd = img.workingDir;
        }
        if (!img.user.empty())
            state.user = img.user;
        state.shell = img.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : img.shell;

        for (Command& c : st.commands) {
            PlannedInstruction pi;
            pi.sourceIndex = c.sourceIndex;
            pi.onbuild = c.onbuild;
            pi.sourceStages = c.sources;
            pi.before = state;
            st.cmdIsOnbuild = c.onbuild;
            pi.instruction = c.instruction;
            try {
                dispatchCommand(st, state, pi);
            } catch (const Error& e) {
                const std::string what = e.what();
                if (startsWith(what, df_.fileName + ":"))
                    throw;
                failAt(c.instruction.range.startLine, what);
            }
            st.plan.instructions.push_back(std::move(pi));
        }
        st.plan.finalState = state;
    }

    std::string expand(const std::string& word, const EnvList& env) const { return lex_.processWord(word, env); }

    void dispatchCommand(State& st, StepState& state, PlannedInstruction& pi)
    {
        Instruction& ins = pi.instruction;
        ImageConfig& img = st.plan.image;
        const EnvList& env = state.env;
        const Platform& platform = st.plan.platform;
        switch (ins.kind) {
        case InstructionKind::Env: {
            auto& vars = ins.as<EnvInstruction>().vars;
            for (KeyValue& kv : vars) {
                kv.key = expand(kv.key, env);
                kv.value = expand(kv.value, env);
            }
            for (const KeyValue& kv : vars) {
                state.env.set(kv.key, kv.value);
                configAddEnv(img.env, kv.key, kv.value);
            }
            break;
        }
        case InstructionKind::Label: {
            for (KeyValue& kv : ins.as<LabelInstruction>().labels) {
                kv.key = expand(kv.key, env);
                kv.value = expand(kv.value, env);
                bool replaced = false;
                for (auto& l : img.labels)
                    if (l.first == kv.key) {
                        l.second = kv.value;
                        replaced = true;
                    }
                if (!replaced)
                    img.labels.emplace_back(kv.key, kv.value);
            }
            break;
        }
        case InstructionKind::Arg:
            dispatchArg(state, ins.as<ArgInstruction>());
            break;
        case InstructionKind::Run:
            dispatchRun(st, state, pi);
            break;
        case InstructionKind::Copy:
        case InstructionKind::Add:
            dispatchCopy(st, state, pi);
            break;
        case InstructionKind::Workdir: {
            auto& w = ins.as<WorkdirInstruction>();
            w.path = expand(w.path, env);
            const std::string wd = normalizeWorkdir(img.workingDir, w.path);
            img.workingDir = wd;
            state.cwd = wd;
            if (wd != "/") {
                pi.isStep = true;
                pi.displayName = prefixCommand(st, uppercaseCmd(displayWord(ins.code, env, false)), platform, &env);
                pi.stepIndex = st.cmdIndex;
            }
            break;
        }
        case InstructionKind::User: {
            auto& u = ins.as<UserInstruction>();
            u.user = expand(u.user, env);
            state.user = u.user;
            img.user = u.user;
            break;
        }
        case InstructionKind::Shell:
            img.shell = ins.as<ShellInstruction>().shell;
            state.shell = img.shell;
            break;
        case InstructionKind::Volume: {
            for (std::string& v : ins.as<VolumeInstruction>().volumes) {
                v = expand(v, env);
                if (v.empty())
                    throw Error("VOLUME specified can not be an empty string");
                img.volumes.push_back(v);
            }
            break;
        }
        case InstructionKind::StopSignal: {
            auto& s = ins.as<StopSignalInstruction>();
            s.signal = expand(s.signal, env);
            img.stopSignal = s.signal;
            break;
        }
        case InstructionKind::Expose: {
            std::vector<std::string> ports;
            for (const std::string& p : ins.as<ExposeInstruction>().ports)
                for (std::string& w : lex_.processWords(p, env))
                    ports.push_back(std::move(w));
            ins.as<ExposeInstruction>().ports = ports;
            img.exposedPorts.insert(img.exposedPorts.end(), ports.begin(), ports.end());
            break;
        }
        case InstructionKind::Cmd: {
            const CommandLine& cl = ins.as<CmdInstruction>().command;
            img.cmd = withShell(state, cl);
            st.cmdSet = true;
            break;
        }
        case InstructionKind::Entrypoint: {
            const CommandLine& cl = ins.as<EntrypointInstruction>().command;
            img.entrypoint = withShell(state, cl);
            if (!st.cmdSet)
                img.cmd.clear();
            break;
        }
        case InstructionKind::Healthcheck:
            img.healthcheck = ins.as<HealthcheckInstruction>().test;
            break;
        case InstructionKind::Onbuild:
            img.onBuild.push_back(ins.as<OnbuildInstruction>().expression);
            break;
        case InstructionKind::Maintainer:
            img.maintainer = ins.as<MaintainerInstruction>().maintainer;
            break;
        }
    }

    static std::vector<std::string> withShell(const StepState& state, const CommandLine& cl)
    {
        if (!cl.prependShell)
            return cl.args;
        std::vector<std::string> out = state.shell;
        std::string joined;
        for (std::size_t i = 0; i < cl.args.size(); ++i)
            joined += (i ? " " : "") + cl.args[i];
        out.push_back(joined);
        return out;
    }

    void dispatchArg(StepState& state, ArgInstruction& a)
    {
        for (ArgDecl& arg : a.args) {
            const auto given = opt_.buildArgs.find(arg.key);
            const bool hasValue = given != opt_.buildArgs.end();
            std::optional<std::string> value = arg.defaultValue;
            if (!value && !hasValue) {
                // A re-declared global ARG (or a predefined platform ARG) takes the global value.
                if (auto g = globalArgs_.get(arg.key))
                    value = *g;
            } else if (hasValue) {
                value = given->second;
            } else {
                value = lex_.processWord(*value, state.env);
            }
            arg.defaultValue = value; // now the effective value
            if (value && !kNonEnvArgs.count(arg.key))
                state.env.set(arg.key, *value);
        }
    }

    // BuildKit's processCmdEnv: the instruction text with variables substituted; the text as written
    // when substitution fails.
    std::string displayWord(const std::string& text, const EnvList& env, bool runStyle) const
    {
        ShellLex lex(df_.escapeToken());
        if (runStyle) {
            lex.rawQuotes = true;
            lex.skipUnsetEnv = true;
        }
        try {
            return lex.processWord(text, env);
        } catch (const Error&) {
            return text;
        }
    }

    void dispatchRun(State& st, StepState& state, PlannedInstruction& pi)
    {
        RunInstruction& r = pi.instruction.as<RunInstruction>();
        const EnvList& env = state.env;
        const WordExpander expander = [&](const std::string& w) { return lex_.processWord(w, env); };
        r.mounts.clear();
        for (const std::string& spec : r.mountSpecs)
            r.mounts.push_back(parseRunMount(spec, &expander));
        pi.mounts = r.mounts;
        for (std::size_t i = 0; i < r.mounts.size() && i < pi.sourceStages.size(); ++i)
            if (r.mounts[i].from.empty() && r.mounts[i].type != MountType::Cache)
                pi.sourceStages[i] = -1; // reads the build context (bind) or nothing

        // meta.args: heredocs are fed to the shell (a lone "#!" heredoc becomes a script file).
        std::vector<std::string> args = r.command.args;
        if (!r.heredocs.empty()) {
            if (args.size() != 1 || !r.command.prependShell)
                throw Error("parsing produced an invalid run command");
            if (parseHeredocWord(args[0])) {
                const InlineFile& f = r.heredocs[0];
                const std::string data = f.chomp ? chompHeredocContent(f.data) : f.data;
                if (st.plan.platform.os != "windows" && startsWith(data, "#!")) {
                    pi.runScript = InlineFile{f.name, data, f.chomp, f.expand};
                    args = {cleanPath("/dev/pipes/" + f.name)};
                } else {
                    args = {data};
                }
            } else {
                std::string joined = args[0];
                for (const InlineFile& f : r.heredocs)
                    joined += "\n" + f.data + f.name;
                args = {joined};
            }
        }
        pi.runArgs = withShell(state, CommandLine{args, r.command.prependShell});

        std::string name = pi.instruction.code;
        if (!r.heredocs.empty() && r.command.prependShell && r.command.args.size() == 1 &&
            parseHeredocWord(r.command.args[0]))
            name += " (" + summarizeHeredoc(r.heredocs[0].data) + ")";
        // Secret env values are shown masked, to say where the value comes from.
        EnvList shown = env;
        for (const RunMount& m : r.mounts)
            if (m.type == MountType::Secret && m.env)
                shown.set(*m.env, "****");
        pi.isStep = true;
        pi.displayName = prefixCommand(st, uppercaseCmd(displayWord(name, shown, true)), st.plan.platform, &env);
        pi.stepIndex = st.cmdIndex;
    }

    void dispatchCopy(State& st, StepState& state, PlannedInstruction& pi)
    {
        CopyInstruction& c = pi.instruction.as<CopyInstruction>();
        const EnvList& env = state.env;
        c.chown = expand(c.chown, env);
        if (c.isAdd)
            c.checksum = expand(c.checksum, env);
        for (std::string& s : c.sources)
            s = expand(s, env);
        c.dest = expand(c.dest, env);
        ShellLex raw('\\');
        raw.skipProcessQuotes = true;
        for (InlineFile& f : c.sourceContents)
            if (f.expand)
                f.data = raw.processWord(f.data, env);

        if (!c.isAdd && !pi.sourceStages.empty()) {
            const State& src = states_[pi.sourceStages[0]];
            if (!src.plan.dispatched)
                throw Error("cannot copy from stage \"" + c.from + "\", it needs to be defined before current stage \"" +
                            st.plan.name + "\"");
        }
        const std::string name = uppercaseCmd(displayWord(pi.instruction.code, env, false));
        pi.isStep = true;
        pi.displayName = prefixCommand(st, name, st.plan.platform, &env);
        pi.stepIndex = st.cmdIndex;
        if (c.link && c.chmod.empty()) {
            // BuildKit names the scratch copy and the merge vertex with the same step number.
            --st.cmdIndex;
            pi.displayName = prefixCommand(st, name, st.plan.platform, &env);
            --st.cmdIndex;
            pi.linkDisplayName = prefixCommand(st, "LINK " + name, st.plan.platform, &env);
        }
    }

    const Dockerfile& df_;
    const BuildOptions& opt_;
    ShellLex lex_;
    Platform buildPlatform_;
    Platform targetPlatform_;
    EnvList globalArgs_;
    std::vector<State> states_;
    std::map<std::string, int> byName_;
    std::set<int> reachable_;
    std::vector<int> dispatchOrder_;
};

} // namespace

std::vector<PlannedStep> BuildPlan::steps() const
{
    std::vector<PlannedStep> out;
    for (int s : dispatchOrder) {
        const PlannedStage& st = stages[s];
        if (!st.fromDisplayName.empty() && st.dockerfileStage >= 0)
            out.push_back({s, -1, st.fromDisplayName});
        for (std::size_t i = 0; i < st.instructions.size(); ++i)
            if (st.instructions[i].isStep)
                out.push_back({s, static_cast<int>(i), st.instructions[i].displayName});
    }
    return out;
}

std::string normalizeWorkdir(const std::string& current, const std::string& path)
{
    if (path.empty())
        throw Error("cannot normalize empty path");
    if (path[0] == '/')
        return cleanPath(path);
    return cleanPath("/" + current + "/" + path);
}

std::string pathRelativeToWorkingDir(const std::string& cwd, const std::string& path)
{
    std::string p = path;
    std::string joined;
    if (!p.empty() && p[0] == '/') {
        joined = cleanPath(p);
    } else {
        if (p.empty() || p == ".")
            p = "./";
        joined = cleanPath(cwd + "/" + p);
    }
    // Keep what the trailing characters say: a directory destination.
    if (p.size() > 1 && p.back() == '/' && joined.back() != '/')
        joined += "/";
    else if (p == "./" && joined.back() != '/')
        joined += "/";
    else if (p.size() >= 2 && p.substr(p.size() - 2) == "/.") {
        if (joined != "/")
            joined += "/";
        joined += ".";
    }
    return joined;
}

BuildPlan planBuild(const Dockerfile& dockerfile, const BuildOptions& options)
{
    if (dockerfile.stages.empty())
        throw Error(dockerfile.fileName + ": dockerfile contains no stages to build");
    return Planner(dockerfile, options).run();
}

} // namespace cachescope::dockerfile

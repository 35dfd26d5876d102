#include "dockerfile/instructions.h"

#include "dockerfile/text_util.h"

#include <charconv>
#include <map>

namespace cachescope::dockerfile {
namespace {

class InstructionError : public std::exception {
public:
    explicit InstructionError(std::string m) : msg(std::move(m)) {}
    const char* what() const noexcept override { return msg.c_str(); }
    std::string msg;
};

// The `--name[=value]` flags an instruction accepts (BuildKit's BFlags).
class Flags {
public:
    Flags(std::string instruction, const std::vector<std::string>& args) : instruction_(std::move(instruction)), args_(args) {}

    void addBool(const std::string& name) { defs_[name] = Kind::Bool; }
    void addString(const std::string& name) { defs_[name] = Kind::String; }
    void addStrings(const std::string& name) { defs_[name] = Kind::Strings; }

    void parse()
    {
        for (const std::string& arg : args_) {
            if (!startsWith(arg, "--"))
                fail("flag " + arg + " should start with --");
            if (arg == "--")
                return;
            std::string name = arg.substr(2);
            std::optional<std::string> value;
            if (const auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name.resize(eq);
            }
            const auto def = defs_.find(name);
            if (def == defs_.end())
                fail("unknown flag --" + name + " for " + instruction_);
            if (used_.count(name) && def->second != Kind::Strings)
                fail("duplicate flag --" + name + " for " + instruction_);
            auto& slot = used_[name];
            switch (def->second) {
            case Kind::Bool: {
                if (value && value->empty())
                    fail("missing a value on flag --" + name + " for " + instruction_);
                const std::string lower = toLowerAscii(value.value_or(""));
                if (lower.empty() || lower == "true")
                    slot = {"true"};
                else if (lower == "false")
                    slot = {"false"};
                else
                    fail("expecting boolean value for flag --" + name + " of " + instruction_ + ", not: " + *value);
                break;
            }
            case Kind::String:
                if (!value)
                    fail("missing a value on flag --" + name + " for " + instruction_);
                slot = {*value};
                break;
            case Kind::Strings:
                if (!value)
                    fail("missing a value on flag --" + name + " for " + instruction_);
                slot.push_back(*value);
                break;
            }
        }
    }

    bool used(const std::string& name) const { return used_.count(name) != 0; }
    std::string string(const std::string& name, const std::string& def = "") const
    {
        const auto it = used_.find(name);
        return it == used_.end() ? def : it->second.front();
    }
    bool isTrue(const std::string& name) const { return string(name, "false") == "true"; }
    std::optional<bool> optionalBool(const std::string& name) const
    {
        if (!used(name))
            return std::nullopt;
        return isTrue(name);
    }
    std::vector<std::string> strings(const std::string& name) const
    {
        const auto it = used_.find(name);
        return it == used_.end() ? std::vector<std::string>{} : it->second;
    }

private:
    enum class Kind { Bool, String, Strings };
    [[noreturn]] static void fail(const std::string& m) { throw InstructionError(m); }

    std::string instruction_;
    const std::vector<std::string>& args_;
    std::map<std::string, Kind> defs_;
    std::map<std::string, std::vector<std::string>> used_;
};

[[noreturn]] void fail(const std::string& m)
{
    throw InstructionError(m);
}

// Go's time.ParseDuration, only for validation: [-+]?(number unit)+ with units ns us µs ms s m h.
std::optional<double> parseGoDuration(std::string_view s)
{
    if (s == "0")
        return 0.0;
    std::size_t i = 0;
    bool neg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= s.size())
        return std::nullopt;
    double total = 0;
    while (i < s.size()) {
        const std::size_t start = i;
        while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            ++i;
        if (i == start)
            return std::nullopt;
        double n = 0;
        try {
            n = std::stod(std::string(s.substr(start, i - start)));
        } catch (const std::exception&) {
            return std::nullopt;
        }
        const std::size_t u = i;
        while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            ++i;
        const std::string_view unit = s.substr(u, i - u);
        double scale = 0;
        if (unit == "ns") scale = 1e-9;
        else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e-6;
        else if (unit == "ms") scale = 1e-3;
        else if (unit == "s") scale = 1;
        else if (unit == "m") scale = 60;
        else if (unit == "h") scale = 3600;
        else return std::nullopt;
        total += n * scale;
    }
    return neg ? -total : total;
}

std::string checkInterval(const std::string& flag, const std::string& value)
{
    if (value.empty())
        return value;
    const auto d = parseGoDuration(value);
    if (!d)
        fail("time: invalid duration \"" + value + "\"");
    if (*d != 0 && *d < 0.001)
        fail("Interval \"" + flag + "\" cannot be less than 1ms");
    return value;
}

std::vector<KeyValue> keyValues(const Node& node, const std::string& name)
{
    if (node.args.empty())
        fail(name + " requires at least one argument");
    if (node.args.size() % 3 != 0)
        fail(name + " has too many arguments");
    std::vector<KeyValue> out;
    for (std::size_t j = 0; j < node.args.size(); j += 3) {
        if (node.args[j].empty())
            fail(name + " names can not be blank");
        out.push_back({node.args[j], node.args[j + 1], node.args[j + 2].empty()});
    }
    return out;
}

void exactlyOne(const Node& node, const std::string& name)
{
    if (node.args.size() != 1)
        fail(name + " requires exactly one argument");
}

void atLeastOne(const Node& node, const std::string& name)
{
    if (node.args.empty())
        fail(name + " requires at least one argument");
}

CommandLine commandLine(const Node& node)
{
    CommandLine cl;
    cl.prependShell = !node.json;
    if (node.json) {
        cl.args = node.args;
    } else if (!node.args.empty()) {
        // Shell form: the words are joined again with spaces (there is only one for RUN/CMD/ENTRYPOINT).
        std::string joined;
        for (std::size_t i = 0; i < node.args.size(); ++i)
            joined += (i ? " " : "") + node.args[i];
        cl.args = {joined};
    }
    return cl;
}

void parseSourcesAndDest(const Node& node, const std::string& name, CopyInstruction& c)
{
    if (node.args.size() < 2)
        fail(name + " requires at least two arguments, but only one was provided. Destination could not be determined.");
    c.dest = node.args.back();
    if (parseHeredocWord(c.dest))
        fail(name + " cannot accept a heredoc as a destination");
    std::map<std::string, const Heredoc*> byName;
    for (const Heredoc& h : node.heredocs)
        byName[h.name] = &h;
    for (std::size_t i = 0; i + 1 < node.args.size(); ++i) {
        const std::string& src = node.args[i];
        std::optional<Heredoc> marker;
        if (!node.json)
            marker = parseHeredocWord(src);
        if (marker) {
            const auto it = byName.find(marker->name);
            std::string content = it == byName.end() ? std::string() : it->second->content;
            if (marker->chomp)
                content = chompHeredocContent(content);
            c.sourceContents.push_back({marker->name, content, marker->chomp, marker->expand});
        } else {
            c.sources.push_back(src);
        }
    }
}

bool validStageName(const std::string& s)
{
    if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (char ch : s)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
            return false;
    return true;
}

std::string stripOnbuildPrefix(const std::string& original)
{
    // (?i)^\s*ONBUILD\s*
    std::string_view s = trimLeftSpace(original);
    if (s.size() >= 7 && equalsIgnoreCase(s.substr(0, 7), "onbuild"))
        s = trimLeftSpace(s.substr(7));
    return std::string(s);
}

Instruction typeInstruction(const Node& node, bool labs)
{
    Instruction ins{};
    ins.code = std::string(trimSpace(node.original));
    ins.range = node.range;
    ins.comments = node.comments;
    const std::string& k = node.keyword;
    const std::string upper = toUpperAscii(k);
    Flags flags(upper, node.flags);

    if (k == "run") {
        ins.kind = InstructionKind::Run;
        RunInstruction r;
        flags.addStrings("mount");
        flags.addString("network");
        if (labs) {
            flags.addString("security");
            flags.addStrings("device");
        }
        flags.parse();
        r.command = commandLine(node);
        for (const Heredoc& h : node.heredocs)
            r.heredocs.push_back({h.name, h.content, h.chomp, h.expand});
        r.mountSpecs = flags.strings("mount");
        for (const std::string& spec : r.mountSpecs)
            r.mounts.push_back(parseRunMount(spec, nullptr));
        const std::string net = flags.string("network", "default");
        r.networkSet = flags.used("network");
        if (net == "default") r.network = NetworkMode::Default;
        else if (net == "none") r.network = NetworkMode::None;
        else if (net == "host") r.network = NetworkMode::Host;
        else fail("unsupported network mode \"" + net + "\"");
        const std::string sec = flags.string("security", "sandbox");
        r.securitySet = flags.used("security");
        if (sec == "sandbox") r.security = SecurityMode::Sandbox;
        else if (sec == "insecure") r.security = SecurityMode::Insecure;
        else fail("unsupported security mode \"" + sec + "\"");
        ins.data = std::move(r);
    } else if (k == "copy" || k == "add") {
        const bool isAdd = k == "add";
        ins.kind = isAdd ? InstructionKind::Add : InstructionKind::Copy;
        CopyInstruction c;
        c.isAdd = isAdd;
        if (node.args.size() < 2)
            fail(upper + " requires at least two arguments, but only one was provided. Destination could not be determined.");
        flags.addString("chown");
        flags.addString("chmod");
        flags.addBool("link");
        if (isAdd) {
            flags.addBool("keep-git-dir");
            flags.addString("checksum");
            flags.addBool("unpack");
        } else {
            flags.addString("from");
            if (labs)
                flags.addBool("parents");
        }
        if (labs)
            flags.addStrings("exclude");
        flags.parse();
        parseSourcesAndDest(node, upper, c);
        c.chown = flags.string("chown");
        c.chmod = flags.string("chmod");
        c.link = flags.isTrue("link");
        c.excludes = flags.strings("exclude");
        if (isAdd) {
            c.keepGitDir = flags.optionalBool("keep-git-dir");
            c.checksum = flags.string("checksum");
            c.unpack = flags.optionalBool("unpack");
        } else {
            c.from = flags.string("from");
            c.parents = flags.isTrue("parents");
        }
        ins.data = std::move(c);
    } else if (k == "env") {
        ins.kind = InstructionKind::Env;
        flags.parse();
        ins.data = EnvInstruction{keyValues(node, "ENV")};
    } else if (k == "label") {
        ins.kind = InstructionKind::Label;
        flags.parse();
        ins.data = LabelInstruction{keyValues(node, "LABEL")};
    } else if (k == "arg") {
        ins.kind = InstructionKind::Arg;
        atLeastOne(node, "ARG");
        flags.parse();
        ArgInstruction a;
        for (const std::string& word : node.args) {
            const auto eq = word.find('=');
            if (eq == std::string::npos) {
                a.args.push_back({word, std::nullopt});
            } else {
                if (eq == 0)
                    fail("ARG names can not be blank");
                a.args.push_back({word.substr(0, eq), word.substr(eq + 1)});
            }
        }
        ins.data = std::move(a);
    } else if (k == "expose") {
        ins.kind = InstructionKind::Expose;
        atLeastOne(node, "EXPOSE");
        flags.parse();
        ins.data = ExposeInstruction{node.args};
    } else if (k == "user") {
        ins.kind = InstructionKind::User;
        exactlyOne(node, "USER");
        flags.parse();
        ins.data = UserInstruction{node.args[0]};
    } else if (k == "workdir") {
        ins.kind = InstructionKind::Workdir;
        exactlyOne(node, "WORKDIR");
        flags.parse();
        ins.data = WorkdirInstruction{node.args[0]};
    } else if (k == "shell") {
        ins.kind = InstructionKind::Shell;
        flags.parse();
        if (node.args.empty())
            fail("SHELL requires at least one argument");
        if (!node.json)
            fail("SHELL requires the arguments to be in JSON form");
        ins.data = ShellInstruction{node.args};
    } else if (k == "volume") {
        ins.kind = InstructionKind::Volume;
        atLeastOne(node, "VOLUME");
        flags.parse();
        VolumeInstruction v;
        for (const std::string& a : node.args) {
            const std::string t(trimSpace(a));
            if (t.empty())
                fail("VOLUME specified can not be an empty string");
            v.volumes.push_back(t);
        }
        ins.data = std::move(v);
    } else if (k == "stopsignal") {
        ins.kind = InstructionKind::StopSignal;
        exactlyOne(node, "STOPSIGNAL"); // BuildKit does not look at flags here
        ins.data = StopSignalInstruction{node.args[0]};
    } else if (k == "maintainer") {
        ins.kind = InstructionKind::Maintainer;
        exactlyOne(node, "MAINTAINER");
        flags.parse();
        ins.data = MaintainerInstruction{node.args[0]};
    } else if (k == "cmd") {
        ins.kind = InstructionKind::Cmd;
        flags.parse();
        ins.data = CmdInstruction{commandLine(node)};
    } else if (k == "entrypoint") {
        ins.kind = InstructionKind::Entrypoint;
        flags.parse();
        ins.data = EntrypointInstruction{commandLine(node)};
    } else if (k == "healthcheck") {
        ins.kind = InstructionKind::Healthcheck;
        atLeastOne(node, "HEALTHCHECK");
        HealthcheckInstruction h;
        const std::string type = toUpperAscii(node.args[0]);
        const std::vector<std::string> rest(node.args.begin() + 1, node.args.end());
        if (type == "NONE") {
            if (!rest.empty())
                fail("HEALTHCHECK NONE takes no arguments");
            h.test = {"NONE"}; // BuildKit does not look at flags here either
        } else {
            flags.addString("interval");
            flags.addString("timeout");
            flags.addString("start-period");
            flags.addString("start-interval");
            flags.addString("retries");
            flags.parse();
            if (type != "CMD")
                fail("Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
            if (rest.empty())
                fail("Missing command after HEALTHCHECK CMD");
            if (node.json) {
                h.test = {"CMD"};
                h.test.insert(h.test.end(), rest.begin(), rest.end());
            } else {
                h.test = {"CMD-SHELL", rest[0]};
            }
            h.interval = checkInterval("interval", flags.string("interval"));
            h.timeout = checkInterval("timeout", flags.string("timeout"));
            h.startPeriod = checkInterval("start-period", flags.string("start-period"));
            h.startInterval = checkInterval("start-interval", flags.string("start-interval"));
            if (flags.used("retries")) {
                const std::string v = flags.string("retries");
                long long n = 0;
                auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
                if (ec != std::errc() || p != v.data() + v.size())
                    fail("strconv.ParseInt: parsing \"" + v + "\": invalid syntax");
                if (n < 0)
                    fail("--retries cannot be negative (" + v + ")");
                h.retries = static_cast<int>(n);
            }
        }
        ins.data = std::move(h);
    } else if (k == "onbuild") {
        ins.kind = InstructionKind::Onbuild;
        atLeastOne(node, "ONBUILD");
        flags.parse();
        const std::string trigger = toUpperAscii(trimSpace(node.args[0]));
        if (trigger == "ONBUILD")
            fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trigger == "MAINTAINER" || trigger == "FROM")
            fail(trigger + " isn't allowed as an ONBUILD trigger");
        OnbuildInstruction o;
        o.expression = stripOnbuildPrefix(node.original);
        for (const Heredoc& h : node.heredocs)
            o.expression += "\n" + h.content + h.name;
        ins.data = std::move(o);
    } else {
        fail("unknown instruction: " + toUpperAscii(node.keywordAsWritten));
    }
    return ins;
}

bool labsRequested(const ParseOptions& options, const Directives& d)
{
    return options.labs || (d.hasSyntax && d.syntax.find("labs") != std::string::npos);
}

} // namespace

std::string_view instructionName(InstructionKind k)
{
    switch (k) {
    case InstructionKind::Run: return "RUN";
    case InstructionKind::Copy: return "COPY";
    case InstructionKind::Add: return "ADD";
    case InstructionKind::Env: return "ENV";
    case InstructionKind::Label: return "LABEL";
    case InstructionKind::Arg: return "ARG";
    case InstructionKind::Expose: return "EXPOSE";
    case InstructionKind::User: return "USER";
    case InstructionKind::Workdir: return "WORKDIR";
    case InstructionKind::Shell: return "SHELL";
    case InstructionKind::Volume: return "VOLUME";
    case InstructionKind::StopSignal: return "STOPSIGNAL";
    case InstructionKind::Maintainer: return "MAINTAINER";
    case InstructionKind::Cmd: return "CMD";
    case InstructionKind::Entrypoint: return "ENTRYPOINT";
    case InstructionKind::Healthcheck: return "HEALTHCHECK";
    case InstructionKind::Onbuild: return "ONBUILD";
    }
    return "";
}

Instruction parseInstruction(const Node& node, const std::string& fileName, bool labs)
{
    try {
        return typeInstruction(node, labs);
    } catch (const InstructionError& e) {
        throwAt(fileName, node.range.startLine, e.msg);
    } catch (const Error& e) {
        throwAt(fileName, node.range.startLine, e.what());
    }
}

Dockerfile parseDockerfile(std::string_view text, const ParseOptions& options)
{
    ParsedDockerfile parsed = parseDockerfileText(text, options.fileName);
    Dockerfile df;
    df.fileName = options.fileName;
    df.directives = parsed.directives;
    df.warnings = parsed.warnings;
    const bool labs = labsRequested(options, parsed.directives);

    for (const Node& node : parsed.nodes) {
        if (node.keyword == "from") {
            Stage st;
            try {
                Flags flags("FROM", node.flags);
                flags.addString("platform");
                if (node.args.size() == 3 && equalsIgnoreCase(node.args[1], "as")) {
                    st.from.stageName = toLowerAscii(node.args[2]);
                    if (!validStageName(st.from.stageName))
                        fail("invalid name for build stage: \"" + node.args[2] +
                             "\", name can't start with a number or contain symbols");
                } else if (node.args.size() != 1) {
                    fail("FROM requires either one or three arguments");
                }
                flags.parse();
                st.from.baseName = node.args[0];
                st.from.platform = flags.string("platform");
            } catch (const InstructionError& e) {
                throwAt(df.fileName, node.range.startLine, e.msg);
            }
            st.code = std::string(trimSpace(node.original));
            st.range = node.range;
            for (std::size_t i = 0; i < node.comments.size(); ++i)
                st.description += (i ? "\n" : "") + node.comments[i];
            df.stages.push_back(std::move(st));
            continue;
        }
        Instruction ins = parseInstruction(node, df.fileName, labs);
        if (df.stages.empty()) {
            if (ins.kind != InstructionKind::Arg)
                throwAt(df.fileName, node.range.startLine, "no build stage in current context");
            df.globalArgs.push_back(ins.as<ArgInstruction>());
            df.globalArgRanges.push_back(ins.range);
            continue;
        }
        df.stages.back().instructions.push_back(std::move(ins));
    }
    if (df.stages.empty())
        throwAt(df.fileName, parsed.nodes.back().range.endLine, "dockerfile contains no stages to build");
    return df;
}

} // namespace cachescope::dockerfile

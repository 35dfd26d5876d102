#pragma once
// The typed Dockerfile: stages, each with its instructions and their flags, as BuildKit's
// frontend/dockerfile/instructions package reads them. Values are kept unexpanded (variables are
// resolved per stage by stages.h, which knows the environment at each instruction).
#include "dockerfile/parser.h"
#include "dockerfile/run_mount.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cachescope::dockerfile {

struct KeyValue {
    std::string key;
    std::string value;
    bool noDelimiter = false; // legacy `ENV key value` form
    bool operator==(const KeyValue&) const = default;
};

struct ArgDecl {
    std::string key;
    std::optional<std::string> defaultValue; // unexpanded, quotes kept
    bool operator==(const ArgDecl&) const = default;
};

// CMD, ENTRYPOINT, RUN, HEALTHCHECK CMD: exec form (JSON) or shell form (one string, run by SHELL).
struct CommandLine {
    std::vector<std::string> args; // exec: the array; shell: one element, the text as written
    bool prependShell = false;     // shell form
    bool operator==(const CommandLine&) const = default;
};

// A heredoc that belongs to a RUN (file fed to the shell) or a COPY/ADD source (file content).
struct InlineFile {
    std::string name;
    std::string data; // as written; RUN applies chomping itself, COPY/ADD data is already chomped
    bool chomp = false;
    bool expand = true;
    bool operator==(const InlineFile&) const = default;
};

enum class NetworkMode { Default, None, Host };
enum class SecurityMode { Sandbox, Insecure };

struct FromInstruction {
    std::string baseName; // unexpanded (global ARGs apply)
    std::string stageName; // lower-cased, empty when absent
    std::string platform;  // --platform, unexpanded
};

struct RunInstruction {
    CommandLine command;
    std::vector<InlineFile> heredocs;
    std::vector<std::string> mountSpecs;  // raw --mount values, expanded at dispatch
    std::vector<RunMount> mounts;         // parsed without expansion: only `from` is meaningful here
    NetworkMode network = NetworkMode::Default;
    SecurityMode security = SecurityMode::Sandbox;
    bool networkSet = false;
    bool securitySet = false;
};

struct CopyInstruction {
    bool isAdd = false;
    std::vector<std::string> sources;       // paths/URLs, unexpanded
    std::vector<InlineFile> sourceContents; // heredoc sources (`COPY <<EOF /dest`)
    std::string dest;
    std::string from;      // COPY --from (no variables allowed)
    std::string chown;
    std::string chmod;
    bool link = false;
    bool parents = false;
    std::vector<std::string> excludes;
    std::string checksum;            // ADD --checksum
    std::optional<bool> keepGitDir;  // ADD --keep-git-dir
    std::optional<bool> unpack;      // ADD --unpack
};

struct EnvInstruction { std::vector<KeyValue> vars; };
struct LabelInstruction { std::vector<KeyValue> labels; };
struct ArgInstruction { std::vector<ArgDecl> args; };
struct ExposeInstruction { std::vector<std::string> ports; };
struct UserInstruction { std::string user; };
struct WorkdirInstruction { std::string path; };
struct ShellInstruction { std::vector<std::string> shell; };
struct VolumeInstruction { std::vector<std::string> volumes; };
struct StopSignalInstruction { std::string signal; };
struct MaintainerInstruction { std::string maintainer; };
struct CmdInstruction { CommandLine command; };
struct EntrypointInstruction { CommandLine command; };

struct HealthcheckInstruction {
    // Test as in the image config: {"NONE"}, {"CMD", args...} (exec) or {"CMD-SHELL", text}.
    std::vector<std::string> test;
    std::string interval, timeout, startPeriod, startInterval; // Go durations as written ("30s")
    std::optional<int> retries;
};

struct Instruction;
struct OnbuildInstruction {
    std::string expression; // the trigger text as BuildKit stores it in the image config
};

enum class InstructionKind {
    Run, Copy, Add, Env, Label, Arg, Expose, User, Workdir, Shell, Volume, StopSignal,
    Maintainer, Cmd, Entrypoint, Healthcheck, Onbuild
};

std::string_view instructionName(InstructionKind k); // "RUN", "COPY", ...

struct Instruction {
    InstructionKind kind;
    std::string code;       // the instruction line as written, trimmed (BuildKit's String(); no heredoc bodies)
    SourceRange range;
    std::vector<std::string> comments;
    std::variant<RunInstruction, CopyInstruction, EnvInstruction, LabelInstruction, ArgInstruction,
                 ExposeInstruction, UserInstruction, WorkdirInstruction, ShellInstruction, VolumeInstruction,
                 StopSignalInstruction, MaintainerInstruction, CmdInstruction, EntrypointInstruction,
                 HealthcheckInstruction, OnbuildInstruction>
        data;

    template <typename T> const T& as() const { return std::get<T>(data); }
    template <typename T> T& as() { return std::get<T>(data); }
    bool isCopyOrAdd() const { return kind == InstructionKind::Copy || kind == InstructionKind::Add; }
};

struct Stage {
    FromInstruction from;
    std::string code;       // the FROM line
    SourceRange range;
    std::string description; // comments above FROM
    std::vector<Instruction> instructions;
};

struct ParseOptions {
    std::string fileName = "Dockerfile";
    // Accept the labs-only flags (COPY --parents/--exclude, RUN --security). BuildKit v0.24's built-in
    // frontend rejects them; a `# syntax=` naming a *labs* frontend turns them on too.
    bool labs = false;
};

struct Dockerfile {
    std::string fileName;
    Directives directives;
    std::vector<ArgInstruction> globalArgs;        // ARGs before the first FROM
    std::vector<SourceRange> globalArgRanges;
    std::vector<Stage> stages;
    std::vector<std::string> warnings;
    char escapeToken() const { return directives.escapeToken; }
};

// Parses and types a whole Dockerfile. Throws Error "<file>:<line>: <what>".
Dockerfile parseDockerfile(std::string_view text, const ParseOptions& options = {});

// Types one parsed node that is not FROM (used for ONBUILD triggers). Throws like parseDockerfile.
Instruction parseInstruction(const Node& node, const std::string& fileName, bool labs);

} // namespace cachescope::dockerfile

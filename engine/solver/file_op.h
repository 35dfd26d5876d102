#pragma once
// An LLB file op (COPY, ADD, WORKDIR, heredoc files) as plain structs mirroring pb.FileOp,
// and the Go encoding/json of each action (field names and order of BuildKit v0.24).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cachescope::solver {

// pb.UserOpt: a user by name (looked up in /etc/passwd|group of input `input`) or by id.
struct UserOpt {
    struct ByName {
        std::string name;
        std::int64_t input = 0;
    };
    std::variant<ByName, std::uint32_t> user = std::uint32_t{0};

    static UserOpt byName(std::string name, std::int64_t input = 0) { return {ByName{std::move(name), input}}; }
    static UserOpt byId(std::uint32_t id) { return {id}; }
};

// pb.ChownOpt (`--chown`, or the USER a WORKDIR is created for).
struct ChownOpt {
    std::optional<UserOpt> user;
    std::optional<UserOpt> group;
};

struct FileActionCopy {
    std::string src; // full path in the source input; the key keeps only its base name
    std::string dest;
    std::optional<ChownOpt> owner;
    std::int32_t mode = -1; // -1: keep; --chmod octal as its value; 0 when modeStr is used
    bool followSymlink = false;
    bool dirCopyContents = false;
    bool attemptUnpackDockerCompatibility = false;
    bool createDestPath = false;
    bool allowWildcard = false;
    bool allowEmptyWildcard = false;
    std::int64_t timestamp = -1;
    std::vector<std::string> includePatterns;
    std::vector<std::string> excludePatterns;
    bool alwaysReplaceExistingDestPaths = false;
    std::string modeStr; // symbolic --chmod ("u+x")
    std::vector<std::string> requiredPaths;
};

struct FileActionMkDir {
    std::string path;
    std::int32_t mode = 0;
    bool makeParents = false;
    std::optional<ChownOpt> owner;
    std::int64_t timestamp = -1;
};

struct FileActionMkFile {
    std::string path;
    std::int32_t mode = 0;
    std::string data; // raw bytes; base64 in the JSON
    std::optional<ChownOpt> owner;
    std::int64_t timestamp = -1;
};

struct FileActionRm {
    std::string path;
    bool allowNotFound = false;
    bool allowWildcard = false;
};

struct FileActionSymlink {
    std::string oldpath;
    std::string newpath;
    std::optional<ChownOpt> owner;
    std::int64_t timestamp = -1;
};

using FileActionKind = std::variant<FileActionCopy, FileActionMkDir, FileActionMkFile, FileActionRm, FileActionSymlink>;

// One action with its wiring. Indexes below numInputs are op inputs; numInputs + i is the
// result of action i; -1 is scratch (or "no secondary input" / "no output").
struct FileAction {
    std::int64_t input = 0;
    std::int64_t secondaryInput = -1;
    std::int64_t output = 0;
    FileActionKind action;
};

struct FileOp {
    std::vector<FileAction> actions;
    int numInputs = 1;
};

nlohmann::ordered_json toGoJson(const UserOpt& u);
nlohmann::ordered_json toGoJson(const ChownOpt& c);
// The JSON of the action message alone (what BuildKit base64-encodes into a file op key).
nlohmann::ordered_json toGoJson(const FileActionKind& action);

} // namespace cachescope::solver

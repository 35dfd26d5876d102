#pragma once
// RUN --mount=<csv> parsed into a typed mount, with BuildKit's keys, defaults and checks.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cachescope::dockerfile {

enum class MountType { Bind, Cache, Tmpfs, Secret, Ssh };
enum class CacheSharing { Shared, Private, Locked };

std::string_view mountTypeName(MountType t);
std::string_view cacheSharingName(CacheSharing s);

struct RunMount {
    MountType type = MountType::Bind;
    std::string from;    // stage name, index or image; empty = build context (bind) / scratch (cache)
    std::string source;  // source, src
    std::string target;  // target, dst, destination
    bool readOnly = true; // default: read-only for bind/secret/ssh, writable for cache/tmpfs
    std::int64_t sizeLimit = 0; // tmpfs size=, bytes (units as docker/go-units RAMInBytes: 1m = 1048576)
    std::string id;      // id= (cache id, secret id, ssh id)
    std::optional<CacheSharing> sharing; // unset means the default (shared)
    bool required = false;               // secret/ssh
    std::optional<std::string> env;      // secret env=NAME
    std::optional<std::uint32_t> mode;   // octal in the Dockerfile
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
    bool operator==(const RunMount&) const = default;
};

using WordExpander = std::function<std::string(const std::string&)>;

// Parses one --mount value. With an expander, every value is expanded first (this is how BuildKit
// reads mounts at dispatch time); without one, only syntax is checked and `from` must not contain a
// variable. Throws Error with BuildKit's message ("unexpected key 'foo' in 'foo=bar'").
RunMount parseRunMount(std::string_view spec, const WordExpander* expander);

// docker/go-units RAMInBytes: "1m", "512k", "1.5g", "100" (binary multiples, case-insensitive, optional "b"/"ib").
std::optional<std::int64_t> ramInBytes(std::string_view s);

} // namespace cachescope::dockerfile

#pragma once
// What one RUN executes: the exec op's meta and mounts, in engine terms.
#include "exec/cache_mount_store.h"
#include "exec/hosts_files.h"
#include "exec/owner.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cachescope::exec {

enum class NetworkMode {
    None,    // only a loopback interface
    Host,    // the host's network
    Default, // as BuildKit's OCI worker with network=host: the host's network
};

struct BindMount {
    std::filesystem::path source; // a directory or file on the host
    std::string target;           // absolute path in the sandbox
    bool readOnly = true;         // writable binds are copy-on-write: writes are discarded
};

struct CacheMount {
    std::string id;               // defaults to the target in BuildKit; the caller fills it in
    std::string target;
    CacheSharing sharing = CacheSharing::Shared;
    bool readOnly = false;
    Owner owner;                  // of the directory when first created
    std::uint32_t mode = 0755;
};

struct TmpfsMount {
    std::string target;
    std::uint64_t sizeBytes = 0;  // 0: the kernel's default (half the RAM)
};

struct SecretMount {
    std::string id;
    std::filesystem::path source; // the secret's file on the host
    std::string target;           // default /run/secrets/<id> when empty and env is empty
    std::string env;              // expose as this environment variable instead of a file
    std::uint32_t mode = 0400;
    Owner owner;
    bool required = false;        // a missing source is an error instead of a skipped mount
    std::optional<std::string> data; // the secret itself (from an environment variable): used instead of source
};

// The user's SSH agent, reachable at `target` through a relaying socket (ssh_agent_forwarder.h).
struct SshMount {
    std::string id = "default";
    std::filesystem::path agentSocket; // empty: no agent was given for this id
    std::string target;                // BuildKit: /run/buildkit/ssh_agent.N
    std::uint32_t mode = 0600;
    Owner owner;
    bool required = true;              // BuildKit's default for ssh mounts
};

using ExecMount = std::variant<BindMount, CacheMount, TmpfsMount, SecretMount, SshMount>;

struct ExecSpec {
    std::vector<std::string> args;
    std::vector<std::string> env;      // "KEY=value"; PATH is added when missing
    std::string cwd = "/";
    std::string user;                  // "", "name", "uid", "uid:gid", "name:group"
    std::string hostname = "buildkitsandbox";
    NetworkMode network = NetworkMode::Default;
    std::vector<ExtraHost> extraHosts;
    std::vector<ExecMount> mounts;
};

// BuildKit's default PATH for Linux containers.
inline constexpr const char* DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

} // namespace cachescope::exec

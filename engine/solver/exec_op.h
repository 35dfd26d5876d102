#pragma once
// An LLB exec op (what RUN becomes), as plain structs mirroring BuildKit's pb.ExecOp,
// and its Go encoding/json form (field names and order of solver/pb/ops.proto, v0.24).
#include "solver/platform.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::solver {

enum class NetMode : int { Unset = 0, Host = 1, None = 2 };
enum class SecurityMode : int { Sandbox = 0, Insecure = 1 };
enum class MountType : int { Bind = 0, Secret = 1, Ssh = 2, Cache = 3, Tmpfs = 4 };
enum class CacheSharing : int { Shared = 0, Private = 1, Locked = 2 };
enum class MountContentCache : int { Default = 0, On = 1, Off = 2 };

// Input index meaning "no input" (scratch, or an inputless mount).
inline constexpr std::int64_t NoInput = -1;
// Output index meaning "this mount produces no output".
inline constexpr std::int64_t SkipOutput = -1;

struct HostIp {
    std::string host;
    std::string ip; // dropped from cache keys
};

struct Ulimit {
    std::string name;
    std::int64_t soft = 0;
    std::int64_t hard = 0;
};

// Proxy build args; BuildKit removes them from keys, so they never enter a plaintext.
struct ProxyEnv {
    std::string httpProxy, httpsProxy, ftpProxy, noProxy, allProxy;
};

struct ExecMeta {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd;
    std::string user;
    std::optional<ProxyEnv> proxyEnv;
    std::vector<HostIp> extraHosts;
    std::string hostname;
    std::vector<Ulimit> ulimit;
    std::string cgroupParent;
    bool removeMountStubsRecursive = false;
    std::vector<std::int32_t> validExitCodes;
};

struct CacheOpt {
    std::string id;
    CacheSharing sharing = CacheSharing::Shared;
};

// Options of secret and ssh mounts (same fields in both messages).
struct SecretOpt {
    std::string id;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t mode = 0;
    bool optional = false;
};
using SshOpt = SecretOpt;

struct Mount {
    std::int64_t input = 0;
    std::string selector; // path inside the input; moves into the link selector, cleared in the key
    std::string dest;
    std::int64_t output = 0;
    bool readonly = false;
    MountType mountType = MountType::Bind;
    std::optional<std::int64_t> tmpfsSize; // TmpfsOpt present when set
    std::optional<CacheOpt> cacheOpt;
    std::optional<SecretOpt> secretOpt;
    std::optional<SshOpt> sshOpt;
    std::string resultId;
    MountContentCache contentCache = MountContentCache::Default;
};

struct SecretEnv {
    std::string id;
    std::string name;
    bool optional = false;
};

struct CdiDevice {
    std::string name;
    bool optional = false;
};

struct ExecOp {
    ExecMeta meta;
    // In LLB order: the LLB client sorts mounts by dest, root mount "/" first.
    std::vector<Mount> mounts;
    NetMode network = NetMode::Unset;
    SecurityMode security = SecurityMode::Sandbox;
    std::vector<SecretEnv> secretenv;
    std::vector<CdiDevice> cdiDevices;
    // The op's platform; unset means the daemon default.
    std::optional<Platform> platform;
    // Number of op inputs (mount inputs refer to these); one per distinct input.
    int numInputs = 1;
};

// The plain root mount of a RUN: input 0 mounted writable at "/", output 0.
Mount rootMount();

// Go encoding/json of the pb.ExecOp message as it stands (no cache-key cleanups).
nlohmann::ordered_json toGoJson(const ExecOp& op);
nlohmann::ordered_json toGoJson(const Mount& mount);

} // namespace cachescope::solver

#pragma once
// RUN --mount=type=ssh: a socket in the sandbox that reaches the user's SSH agent. As BuildKit's
// sshforward, the sandbox never sees the agent's own socket: a new socket is listened on, owned by
// the mount's uid/gid with its mode, and every connection to it is relayed to the agent, so the
// RUN user can use the agent whatever the owner and mode of the agent's socket are.
#include "exec/owner.h"
#include "exec/unique_fd.h"

#include <filesystem>
#include <string>
#include <thread>

namespace cachescope::exec {

class SshAgentForwarder {
public:
    // Listens on a new socket in a private directory under the system temp dir (socket paths are
    // limited to 107 bytes, so not under the step's directory) and relays to `agentSocket`.
    // Throws Error naming the agent socket when it cannot be reached ("… no such file").
    SshAgentForwarder(const std::filesystem::path& agentSocket, Owner owner, std::uint32_t mode);
    ~SshAgentForwarder();
    SshAgentForwarder(const SshAgentForwarder&) = delete;
    SshAgentForwarder& operator=(const SshAgentForwarder&) = delete;

    const std::filesystem::path& path() const { return listenPath_; }

private:
    void listen(Owner owner, std::uint32_t mode, const std::string& what);
    void relay();

    std::filesystem::path agentSocket_;
    std::filesystem::path listenDir_;
    std::filesystem::path listenPath_;
    UniqueFd listener_;
    UniqueFd wakeRead_, wakeWrite_;
    std::thread thread_;
};

// Connects a Unix stream socket to `path`; throws Error naming it.
UniqueFd connectUnixSocket(const std::filesystem::path& path, const std::string& what);

} // namespace cachescope::exec

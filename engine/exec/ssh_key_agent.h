#pragma once
// --ssh ID=KEYFILE[,KEYFILE...]: buildx serves key files from an agent of its own; here a private
// ssh-agent (openssh-client) is started for the build on a socket in a new 0700 directory, the
// keys are loaded with ssh-add, and RUN --mount=type=ssh relays to it as to the user's agent. The
// keys go from the files to ssh-add through a pipe: nothing is written to disk.
#include "base/temporary_directory.h"

#include <filesystem>
#include <sys/types.h>
#include <vector>

namespace cachescope::exec {

class SshKeyAgent {
public:
    // Starts the agent and loads `keyFiles` in order. Throws Error naming the file that could not
    // be loaded (see readSshPrivateKey), or saying ssh-agent / ssh-add is missing; no agent is
    // left running and no directory behind then.
    explicit SshKeyAgent(const std::vector<std::filesystem::path>& keyFiles);
    // Stops the agent and removes its directory.
    ~SshKeyAgent();
    SshKeyAgent(const SshKeyAgent&) = delete;
    SshKeyAgent& operator=(const SshKeyAgent&) = delete;

    const std::filesystem::path& socket() const { return socket_; }

private:
    void waitUntilListening();
    void add(const std::filesystem::path& keyFile);
    void stop();

    TemporaryDirectory dir_;
    std::filesystem::path socket_;
    pid_t pid_ = -1;
};

} // namespace cachescope::exec

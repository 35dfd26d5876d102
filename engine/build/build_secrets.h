#pragma once
// What `--secret` and `--ssh` hand to a build, spelled as buildx spells them, and how a RUN's
// secret and ssh mounts find them. Only ids enter cache keys (the solver encodes the mount
// options); the values are read when the RUN starts and go nowhere but the sandbox.
#include "exec/exec_spec.h"
#include "solver/exec_op.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace cachescope::exec {
class SshKeyAgent;
}

namespace cachescope::build {

struct SecretSource {
    std::string id;
    std::filesystem::path file; // type=file: the secret's file
    std::string env;            // type=env: the environment variable holding it
};

// buildx's --secret: "id=ID,src=PATH" (also source=, type=file), "id=ID,env=VAR" (type=env), or
// "id=ID" alone (the variable named ID when it is set, else the file named ID). Throws Error
// naming the text ("--secret src=x: id is required").
SecretSource parseSecretSpec(const std::string& text);

struct SshSource {
    std::string id = "default";
    std::filesystem::path socket;                // an agent's socket, or
    std::vector<std::filesystem::path> keyFiles; // private key files, served by an agent of the build's own
};

// buildx's --ssh: "default" (the agent at $SSH_AUTH_SOCK), "ID=PATH[,PATH...]" where a path that
// is a socket is an agent's and anything else a private key file. As buildx: one socket, or key
// files, not both. Throws Error naming the text and the path (missing, unreadable, not a private
// key, encrypted: see exec/ssh_key_file.h).
SshSource parseSshSpec(const std::string& text);

// The agents a build's ssh mounts reach: sockets as given, and for each source of key files a
// private ssh-agent holding them (exec/ssh_key_agent.h), stopped when this goes.
class BuildSshAgents {
public:
    // Throws Error naming the --ssh id and the file that could not be loaded.
    explicit BuildSshAgents(const std::vector<SshSource>& sources);
    ~BuildSshAgents();
    BuildSshAgents(const BuildSshAgents&) = delete;
    BuildSshAgents& operator=(const BuildSshAgents&) = delete;
    // Every source with the socket its mounts relay to.
    const std::vector<SshSource>& agents() const { return agents_; }

private:
    std::vector<std::unique_ptr<exec::SshKeyAgent>> keyAgents_;
    std::vector<SshSource> agents_;
};

// The sandbox mounts for a RUN's --mount=type=secret / type=ssh and its secret environment
// variables (--mount=type=secret,env=VAR), from the sources the build was given.
exec::SecretMount secretMountFor(const solver::Mount& mount, const std::vector<SecretSource>& secrets);
exec::SecretMount secretEnvFor(const solver::SecretEnv& env, const std::vector<SecretSource>& secrets);
exec::SshMount sshMountFor(const solver::Mount& mount, const std::vector<SshSource>& agents);

} // namespace cachescope::build

#pragma once
// What `--secret` and `--ssh` hand to a build, spelled as buildx spells them, and how a RUN's
// secret and ssh mounts find them. Only ids enter cache keys (the solver encodes the mount
// options); the values are read when the RUN starts and go nowhere but the sandbox.
#include "exec/exec_spec.h"
#include "solver/exec_op.h"

#include <filesystem>
#include <string>
#include <vector>

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
    std::filesystem::path socket; // an agent's socket
};

// buildx's --ssh: "default" (the agent at $SSH_AUTH_SOCK), "ID=SOCKET". Throws Error naming the
// text when no socket is known or the path is not a socket (key files need an agent: ssh-add).
SshSource parseSshSpec(const std::string& text);

// The sandbox mounts for a RUN's --mount=type=secret / type=ssh and its secret environment
// variables (--mount=type=secret,env=VAR), from the sources the build was given.
exec::SecretMount secretMountFor(const solver::Mount& mount, const std::vector<SecretSource>& secrets);
exec::SecretMount secretEnvFor(const solver::SecretEnv& env, const std::vector<SecretSource>& secrets);
exec::SshMount sshMountFor(const solver::Mount& mount, const std::vector<SshSource>& agents);

} // namespace cachescope::build

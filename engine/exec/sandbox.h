#pragma once
// RUN in a bubblewrap sandbox over a step's writable root.
//   root:          the overlay is mounted in a private mount namespace of the child that
//                  becomes bwrap; uid 0 keeps Docker's default capabilities, another user
//                  drops to its ids before bwrap (files it writes are really its own).
//   ordinary user: the child enters a user + mount namespace (our ids as 0), mounts the overlay
//                  there and hands the merged tree to bwrap, which maps the RUN user to us.
// Either way nothing stays mounted when the sandbox exits, and mount points the sandbox had
// to create (for /etc/hosts, secrets, caches …) are removed from the step's diff.
#include "base/error.h"
#include "exec/exec_spec.h"
#include "exec/step_root.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::exec {

enum class LogStream { Stdout, Stderr };

struct SandboxOptions {
    std::filesystem::path bwrap = "/usr/bin/bwrap";
    CacheMountStore* cacheMounts = nullptr; // needed when the spec has cache mounts
    std::function<void(LogStream, std::string_view line)> onLog; // called on the calling thread
    std::stop_token cancel;                 // kills the sandbox's process tree
    std::size_t tailLines = 10;             // kept for the error of a failed command
};

struct RunResult {
    int exitCode = 0;
    std::vector<std::string> tail; // the last log lines
    std::chrono::milliseconds duration{0};
};

// A command that exited non-zero (or was killed by a signal: 128 + signal).
class ExecError : public Error {
public:
    ExecError(const std::string& message, int exitCode, std::vector<std::string> tail)
        : Error(message), exitCode_(exitCode), tail_(std::move(tail))
    {
    }
    int exitCode() const { return exitCode_; }
    const std::vector<std::string>& tail() const { return tail_; }

private:
    int exitCode_;
    std::vector<std::string> tail_;
};

// Runs spec.args in the sandbox. Throws ExecError for a non-zero exit
//   process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
//   last log lines: …
// and Error for setup failures or cancellation ("… cancelled").
RunResult runInSandbox(const ExecSpec& spec, const StepRoot& root, const SandboxOptions& options = {});

// "/bin/sh -c make all", as BuildKit quotes commands in its errors.
std::string describeCommand(const std::vector<std::string>& args);

} // namespace cachescope::exec

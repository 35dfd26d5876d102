#include "exec/ssh_key_agent.h"

#include "base/error.h"
#include "exec/ssh_agent_forwarder.h"
#include "exec/ssh_key_file.h"
#include "exec/unique_fd.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

namespace {

const char* const Needed = " (loading SSH key files for --ssh needs openssh-client)";

std::string searchPath()
{
    const char* path = std::getenv("PATH");
    return path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
}

fs::path findProgram(const std::string& name)
{
    const std::string path = searchPath();
    for (std::size_t start = 0; start <= path.size();) {
        const auto end = std::min(path.find(':', start), path.size());
        const fs::path candidate = fs::path(path.substr(start, end - start)) / name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    throw Error(name + " is not on PATH" + Needed);
}

// Starts `argv` in a session of its own (no terminal to prompt on, and the terminal's Ctrl-C does
// not reach it: the build stops it), with only `env`, stdin and stderr as given, stdout discarded.
// With `dieWithParent`, the kernel sends it SIGTERM should this process die without stopping it
// (strictly: when the calling thread ends; an agent is started and stopped on the build's thread).
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int in, int err,
            bool dieWithParent)
{
    // Everything the child needs, prepared before fork(): after it only async-signal-safe calls.
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : env)
        cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    UniqueFd devNull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devNull.valid())
        throw Error(errnoMessage("/dev/null"));
    if (in < 0)
        in = devNull.get();
    if (err < 0)
        err = devNull.get();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw Error(errnoMessage(argv[0] + ": fork"));
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr); // the build's threads may block signals; the child must not
        ::setsid();
        if (dieWithParent && (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent))
            ::_exit(127);
        if (::dup2(in, 0) < 0 || ::dup2(devNull.get(), 1) < 0 || ::dup2(err, 2) < 0)
            ::_exit(127);
        ::close_range(3, ~0U, 0);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    return pid;
}

// Waits for `pid` at most `timeout`; its exit status, or -1 when it is still running.
int waitFor(pid_t pid, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return 0; // not our child any more
        if (std::chrono::steady_clock::now() >= deadline)
            return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

} // namespace

SshKeyAgent::SshKeyAgent(const std::vector<fs::path>& keyFiles) : dir_("cachescope-ssh-agent")
{
    socket_ = dir_.path() / "agent.sock";
    // Both programs are looked for first, so a missing one is named before anything starts.
    const fs::path agent = findProgram("ssh-agent");
    findProgram("ssh-add");
    // ssh-agent is set-group-ID on Debian, which drops the death signal at exec: a shell between
    // keeps it, and stops the agent when it gets SIGTERM, from stop() or from the kernel when this
    // process dies without stopping it (no agent holding the keys outlives the build).
    const char* const supervise = "trap 'kill \"$agent\" 2>/dev/null; wait \"$agent\"; exit 0' TERM\n"
                                  "\"$1\" -D -a \"$2\" </dev/null & agent=$!\n"
                                  "wait \"$agent\"\n";
    pid_ = spawn({"/bin/sh", "-c", supervise, "cachescope-ssh-agent", agent.string(), socket_.string()},
                 {"PATH=" + searchPath()}, -1, -1, true);
    try {
        waitUntilListening();
        for (const fs::path& file : keyFiles)
            add(file);
    } catch (...) {
        stop();
        throw;
    }
}

SshKeyAgent::~SshKeyAgent()
{
    stop();
}

void SshKeyAgent::waitUntilListening()
{
    // The socket is bound a moment before the agent listens: wait until it answers.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        const int status = waitFor(pid_, std::chrono::milliseconds(0));
        if (status >= 0) {
            pid_ = -1;
            throw Error("ssh-agent exited (status " + std::to_string(status) + ") before listening on " +
                        socket_.string());
        }
        try {
            connectUnixSocket(socket_, "ssh-agent");
            return;
        } catch (const Error&) {
            if (std::chrono::steady_clock::now() >= deadline)
                throw Error("ssh-agent did not listen on " + socket_.string() + " within 10 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void SshKeyAgent::add(const fs::path& keyFile)
{
    const std::string key = readSshPrivateKey(keyFile);
    // stdin is a socket, not a pipe, so writing to an ssh-add that has quit fails without SIGPIPE.
    int in[2], err[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
        throw Error(errnoMessage("ssh-add: socketpair"));
    UniqueFd inChild(in[0]), inParent(in[1]);
    if (::pipe2(err, O_CLOEXEC) != 0)
        throw Error(errnoMessage("ssh-add: pipe"));
    UniqueFd errParent(err[0]), errChild(err[1]);
    // Only PATH and the agent: no SSH_ASKPASS or DISPLAY, so nothing asks for a passphrase.
    const pid_t pid = spawn({findProgram("ssh-add").string(), "-q", "-"},
                            {"PATH=" + searchPath(), "SSH_AUTH_SOCK=" + socket_.string()}, inChild.get(),
                            errChild.get(), false);
    inChild.reset();
    errChild.reset();
    for (std::size_t off = 0; off < key.size();) {
        const ssize_t n = ::send(inParent.get(), key.data() + off, key.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // ssh-add stopped reading: its status and message tell why
        off += static_cast<std::size_t>(n);
    }
    inParent.reset();
    std::string message;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(errParent.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (message.size() < 4096)
            message.append(buf, static_cast<std::size_t>(n));
    }
    const int status = waitFor(pid, std::chrono::hours(1));
    if (status != 0) {
        // ssh-add calls its input "(stdin)": name the file instead.
        for (auto at = message.find("(stdin)"); at != std::string::npos; at = message.find("(stdin)", at))
            message.replace(at, 7, keyFile.string());
        throw Error("SSH key file " + keyFile.string() + ": ssh-add could not load it (status " +
                    std::to_string(status) + "): " + trimmed(message));
    }
}

void SshKeyAgent::stop()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGTERM);
    if (waitFor(pid_, std::chrono::seconds(5)) < 0) {
        ::kill(pid_, SIGKILL);
        waitFor(pid_, std::chrono::seconds(5));
    }
    pid_ = -1;
}

} // namespace cachescope::exec

#include "exec/ssh_agent_forwarder.h"

#include "base/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace cachescope::exec {

namespace fs = std::filesystem;

namespace {

sockaddr_un unixAddress(const fs::path& path, const std::string& what)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path.string();
    if (p.size() >= sizeof addr.sun_path)
        throw Error(what + ": socket path " + p + " is longer than " + std::to_string(sizeof addr.sun_path - 1) +
                    " bytes");
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    return addr;
}

// One relayed connection: the sandbox's side and the agent's side.
struct Pair {
    UniqueFd client, agent;
};

// Moves what is readable on `from` to `to`; false when the connection is over.
bool pump(int from, int to)
{
    char buf[16 * 1024];
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0)
        return false;
    for (ssize_t off = 0; off < n;) {
        const ssize_t w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

} // namespace

UniqueFd connectUnixSocket(const fs::path& path, const std::string& what)
{
    const sockaddr_un addr = unixAddress(path, what);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        throw Error(errnoMessage(what + ": socket"));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        throw Error(errnoMessage(what + ": cannot connect to " + path.string()));
    return fd;
}

SshAgentForwarder::SshAgentForwarder(const fs::path& agentSocket, Owner owner, std::uint32_t mode)
    : agentSocket_(agentSocket)
{
    const std::string what = "ssh agent " + agentSocket.string();
    struct stat st {};
    if (::stat(agentSocket.c_str(), &st) != 0)
        throw Error(errnoMessage(what));
    if (!S_ISSOCK(st.st_mode))
        throw Error(what + ": not a socket");
    connectUnixSocket(agentSocket, what); // refuse a dead agent now, not inside the RUN
    try {
        listen(owner, mode, what);
    } catch (...) {
        std::error_code ec;
        if (!listenDir_.empty())
            fs::remove_all(listenDir_, ec);
        throw;
    }
    thread_ = std::thread([this] { relay(); });
}

void SshAgentForwarder::listen(Owner owner, std::uint32_t mode, const std::string& what)
{

    std::string dirTemplate = (fs::temp_directory_path() / "cachescope-ssh-XXXXXX").string();
    if (!::mkdtemp(dirTemplate.data()))
        throw Error(errnoMessage(what + ": mkdtemp " + dirTemplate));
    listenDir_ = dirTemplate;
    listenPath_ = listenDir_ / "agent.sock";
    const fs::path& listenPath = listenPath_;
    // Others may pass through (a RUN user other than root reaches the socket bound into the sandbox).
    ::chmod(listenDir_.c_str(), 0711);
    const sockaddr_un addr = unixAddress(listenPath, what);
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listener_.valid())
        throw Error(errnoMessage(what + ": socket"));
    ::unlink(listenPath.c_str());
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_.get(), 16) != 0)
        throw Error(errnoMessage(what + ": listening on " + listenPath.string()));
    // Owner and mode as the mount asks (BuildKit's defaults: 0:0, 0600). Without root the chown
    // fails and the socket stays the engine user's, which the sandbox maps to the RUN user.
    if (::chown(listenPath.c_str(), owner.uid, owner.gid) != 0 && errno != EPERM)
        throw Error(errnoMessage(what + ": chown " + listenPath.string()));
    ::chmod(listenPath.c_str(), static_cast<mode_t>(mode & 07777));

    int wake[2];
    if (::pipe2(wake, O_CLOEXEC) != 0)
        throw Error(errnoMessage(what + ": pipe"));
    wakeRead_ = UniqueFd(wake[0]);
    wakeWrite_ = UniqueFd(wake[1]);
}

SshAgentForwarder::~SshAgentForwarder()
{
    if (thread_.joinable()) {
        const char c = 0;
        [[maybe_unused]] ssize_t n = ::write(wakeWrite_.get(), &c, 1);
        thread_.join();
    }
    std::error_code ec;
    if (!listenDir_.empty())
        fs::remove_all(listenDir_, ec);
}

void SshAgentForwarder::relay()
{
    std::vector<Pair> pairs;
    for (;;) {
        std::vector<pollfd> pfds{{wakeRead_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
        for (const Pair& p : pairs) {
            pfds.push_back({p.client.get(), POLLIN, 0});
            pfds.push_back({p.agent.get(), POLLIN, 0});
        }
        if (::poll(pfds.data(), pfds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (pfds[0].revents)
            return;
        std::vector<Pair> alive;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const pollfd& c = pfds[2 + 2 * i];
            const pollfd& a = pfds[3 + 2 * i];
            bool ok = true;
            if (c.revents & (POLLIN | POLLHUP | POLLERR))
                ok = pump(c.fd, a.fd);
            if (ok && (a.revents & (POLLIN | POLLHUP | POLLERR)))
                ok = pump(a.fd, c.fd);
            if (ok)
                alive.push_back(std::move(pairs[i]));
        }
        pairs = std::move(alive);
        if (pfds[1].revents & POLLIN) {
            UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (client.valid()) {
                try {
                    pairs.push_back({std::move(client), connectUnixSocket(agentSocket_, "ssh agent")});
                } catch (const Error&) {
                    // The agent went away: this client sees its connection closed.
                }
            }
        }
    }
}

} // namespace cachescope::exec

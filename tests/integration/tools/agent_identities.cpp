// Runs inside a RUN step (statically linked: the busybox base image has no ssh-add) and lists the
// keys of the agent at $SSH_AUTH_SOCK, asking it as `ssh-add -L` does (SSH agent protocol,
// REQUEST_IDENTITIES), one "identity <type> <base64 key> <comment>" line per key: the public key
// line format, so the test can fingerprint the lines with ssh-keygen -lf.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

constexpr unsigned char RequestIdentities = 11;
constexpr unsigned char IdentitiesAnswer = 12;

bool readAll(int fd, void* data, std::size_t size)
{
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::read(fd, p, size);
        if (n <= 0)
            return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

std::uint32_t be32(const unsigned char* p)
{
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// An SSH string (uint32 length, bytes) at `pos` of `msg`; false when the message is cut short.
bool sshString(const std::string& msg, std::size_t& pos, std::string& out)
{
    if (msg.size() < pos + 4)
        return false;
    const std::uint32_t len = be32(reinterpret_cast<const unsigned char*>(msg.data() + pos));
    if (msg.size() - pos - 4 < len)
        return false;
    out = msg.substr(pos + 4, len);
    pos += 4 + len;
    return true;
}

std::string base64(const std::string& in)
{
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t v = std::uint32_t(static_cast<unsigned char>(in[i])) << 16;
        if (i + 1 < in.size())
            v |= std::uint32_t(static_cast<unsigned char>(in[i + 1])) << 8;
        if (i + 2 < in.size())
            v |= static_cast<unsigned char>(in[i + 2]);
        out += abc[v >> 18 & 63];
        out += abc[v >> 12 & 63];
        out += i + 1 < in.size() ? abc[v >> 6 & 63] : '=';
        out += i + 2 < in.size() ? abc[v & 63] : '=';
    }
    return out;
}

int fail(const char* what)
{
    std::fprintf(stderr, "agent_identities: %s\n", what);
    return 1;
}

} // namespace

int main()
{
    const char* path = std::getenv("SSH_AUTH_SOCK");
    if (!path || std::strlen(path) >= sizeof(sockaddr_un{}.sun_path))
        return fail("SSH_AUTH_SOCK is not set");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return fail("cannot connect to the agent");
    const unsigned char request[] = {0, 0, 0, 1, RequestIdentities};
    if (::write(fd, request, sizeof request) != static_cast<ssize_t>(sizeof request))
        return fail("cannot write to the agent");
    unsigned char lenBytes[4];
    if (!readAll(fd, lenBytes, 4))
        return fail("no answer from the agent");
    std::string msg(be32(lenBytes), '\0');
    if (msg.empty() || !readAll(fd, msg.data(), msg.size()) || static_cast<unsigned char>(msg[0]) != IdentitiesAnswer ||
        msg.size() < 5)
        return fail("unexpected answer from the agent");
    const std::uint32_t count = be32(reinterpret_cast<const unsigned char*>(msg.data() + 1));
    std::size_t pos = 5;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string blob, comment, type;
        if (!sshString(msg, pos, blob) || !sshString(msg, pos, comment))
            return fail("truncated identities answer");
        std::size_t typePos = 0;
        if (!sshString(blob, typePos, type))
            return fail("truncated key blob");
        std::printf("identity %s %s %s\n", type.c_str(), base64(blob).c_str(), comment.c_str());
    }
    std::printf("identities %u\n", count);
    return 0;
}

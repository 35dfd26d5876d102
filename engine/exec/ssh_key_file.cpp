#include "exec/ssh_key_file.h"

#include "base/base64.h"
#include "base/error.h"
#include "exec/unique_fd.h"

#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

namespace {

std::string readAtMost(const fs::path& file, std::size_t limit)
{
    const std::string name = "SSH key file " + file.string();
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        throw Error(errno == ENOENT ? name + " does not exist" : errnoMessage(name));
    if (S_ISDIR(st.st_mode))
        throw Error(name + " is a directory, not a private key");
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid())
        throw Error(errnoMessage(name + " cannot be read"));
    std::string text;
    char buf[8192];
    while (text.size() <= limit) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error(errnoMessage(name + " cannot be read"));
        if (n == 0)
            return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
    throw Error(name + " is larger than " + std::to_string(limit / 1024) + " KiB: not a private key");
}

// "openssh-key-v1\0", then the cipher name as an SSH string: "none" unless a passphrase protects it.
std::optional<bool> opensshKeyEncrypted(const std::string& blob)
{
    static const std::string magic("openssh-key-v1\0", 15);
    if (blob.compare(0, magic.size(), magic) != 0 || blob.size() < magic.size() + 4)
        return std::nullopt;
    std::uint32_t len = 0;
    for (std::size_t i = 0; i < 4; ++i)
        len = len << 8 | static_cast<unsigned char>(blob[magic.size() + i]);
    if (blob.size() < magic.size() + 4 + len)
        return std::nullopt;
    return blob.compare(magic.size() + 4, len, "none") != 0;
}

} // namespace

std::string readSshPrivateKey(const fs::path& file)
{
    const std::string name = "SSH key file " + file.string();
    std::string text = readAtMost(file, MaxSshKeyFileSize);
    const std::string encrypted =
        name + " is encrypted (passphrase-protected): load it into an ssh-agent with ssh-add and give the agent's socket instead";

    const auto begin = text.find("-----BEGIN ");
    if (begin == std::string::npos) {
        for (const char* publicKey : {"ssh-", "ecdsa-", "sk-"})
            if (text.starts_with(publicKey))
                throw Error(name + " is a public key, not a private key (give the file without .pub)");
        throw Error(name + " is not a private key (no -----BEGIN ... PRIVATE KEY----- block)");
    }
    const auto labelStart = begin + 11;
    const auto labelEnd = text.find("-----", labelStart);
    const std::string label = text.substr(labelStart, labelEnd == std::string::npos ? 0 : labelEnd - labelStart);
    const auto bodyStart = labelEnd == std::string::npos ? std::string::npos : text.find('\n', labelEnd);
    const auto bodyEnd = text.find("-----END ", labelStart);
    if (!label.ends_with("PRIVATE KEY") || bodyStart == std::string::npos || bodyEnd == std::string::npos ||
        bodyEnd < bodyStart)
        throw Error(name + " is not a private key (" + (label.empty() ? "no PEM block" : label) + ")");
    const std::string body = text.substr(bodyStart + 1, bodyEnd - bodyStart - 1);

    if (label == "ENCRYPTED PRIVATE KEY" || body.find("Proc-Type: 4,ENCRYPTED") != std::string::npos)
        throw Error(encrypted);
    if (label == "OPENSSH PRIVATE KEY") {
        std::string base64;
        for (char c : body)
            if (c != '\r' && c != '\n' && c != ' ' && c != '\t')
                base64 += c;
        std::optional<bool> isEncrypted;
        try {
            isEncrypted = opensshKeyEncrypted(base64Decode(base64, name));
        } catch (const Error&) {
        }
        if (!isEncrypted)
            throw Error(name + " is not a valid OpenSSH private key");
        if (*isEncrypted)
            throw Error(encrypted);
    }
    return text;
}

} // namespace cachescope::exec

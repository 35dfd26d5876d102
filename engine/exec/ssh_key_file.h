#pragma once
// A private key file given to --ssh, read and looked at before ssh-add gets it, so a bad file is
// refused with an error naming it instead of ssh-add's "(stdin)" messages or a passphrase prompt
// in the middle of a build. Only the file's armor and OpenSSH header are read; ssh-add parses the key.
#include <filesystem>
#include <string>

namespace cachescope::exec {

// buildx reads at most this much of a key file.
inline constexpr std::size_t MaxSshKeyFileSize = 100 * 1024;

// The file's text. Throws Error naming `file` when it does not exist, cannot be read, is not a
// private key (a public key, a certificate, anything else), or is encrypted (a passphrase cannot
// be asked for during a build: load it into an ssh-agent and give the agent's socket instead).
std::string readSshPrivateKey(const std::filesystem::path& file);

} // namespace cachescope::exec

#pragma once
// Registry credentials from Docker's client config ($DOCKER_CONFIG/config.json or ~/.docker/config.json):
// `auths` entries (base64 `auth`, `username`/`password`, `identitytoken`), and credential helpers
// (`credHelpers[host]`, else `credsStore`) run as `docker-credential-<name> get`.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace cachescope::registry {

struct Credentials {
    std::string username;
    std::string password;
    // An OAuth2 refresh token (docker login with an identity provider); used instead of the password
    // at the token endpoint.
    std::string identityToken;

    bool operator==(const Credentials&) const = default;
};

// The key Docker uses for a registry: scheme and path dropped, Docker Hub's aliases
// ("https://index.docker.io/v1/", "registry-1.docker.io", "index.docker.io") folded into "docker.io".
std::string normalizeRegistryKey(std::string_view keyOrUrl);

class DockerConfig {
public:
    // The default location: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json. A missing file is
    // an empty config; a malformed one throws Error naming the file.
    static DockerConfig load();
    static DockerConfig loadFile(const std::filesystem::path& file);
    static std::filesystem::path defaultPath();

    // Credentials for a registry host (a domain or an API host: "docker.io", "registry-1.docker.io",
    // "127.0.0.1:5000"). Credential helpers win over `auths`, as in Docker. nullopt when none.
    // Throws Error when a helper fails for another reason than "not found".
    std::optional<Credentials> credentialsFor(const std::string& host) const;

    const std::filesystem::path& file() const { return file_; }

private:
    std::filesystem::path file_;
    std::map<std::string, Credentials> auths_; // by normalised key
    std::map<std::string, std::string> credHelpers_;
    std::string credsStore_;
};

// Runs `docker-credential-<helper> get` (found on PATH) with the server URL on stdin.
// nullopt when the helper says it has no credentials for it.
std::optional<Credentials> runCredentialHelper(const std::string& helper, const std::string& serverUrl);

} // namespace cachescope::registry

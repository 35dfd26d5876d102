#include "registry/docker_config.h"

#include "base/base64.h"

#include "base/error.h"
#include "base/files.h"
#include "registry/reference.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace cachescope::registry {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDockerHubServerUrl = "https://index.docker.io/v1/";

// Docker writes `auth` padded; tolerate missing padding as the docker CLI does.
std::optional<std::string> decodeBase64(std::string_view in)
{
    std::string clean;
    for (char c : in)
        if (c != ' ')
            clean += c;
    while (clean.size() % 4 != 0)
        clean += '=';
    try {
        return base64Decode(clean, "auth");
    } catch (const Error&) {
        return std::nullopt;
    }
}

std::string serverUrlFor(const std::string& key)
{
    return key == DockerHubDomain ? std::string(kDockerHubServerUrl) : key;
}

// Blocks SIGPIPE for this thread while in scope, so writing to a helper that already exited yields
// EPIPE instead of killing the process; a SIGPIPE raised meanwhile is consumed before unblocking.
class SigpipeGuard {
public:
    SigpipeGuard()
    {
        sigemptyset(&pipeSet_);
        sigaddset(&pipeSet_, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        wasPending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipeSet_, &old_);
    }
    ~SigpipeGuard()
    {
        if (!wasPending_) {
            timespec zero{0, 0};
            while (sigtimedwait(&pipeSet_, nullptr, &zero) > 0) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }

private:
    sigset_t pipeSet_{};
    sigset_t old_{};
    bool wasPending_ = false;
};

struct ProcessResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};

ProcessResult runWithInput(const std::string& program, const std::vector<std::string>& args, std::string_view input)
{
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw Error(program + ": cannot create pipes: " + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
        ::close(in[1]);
        ::close(out[0]);
        ::close(err[0]);
        throw Error(program + ": cannot run: " + std::strerror(rc) + (rc == ENOENT ? " (not found on PATH)" : ""));
    }

    ProcessResult result;
    {
        SigpipeGuard guard;
        std::size_t written = 0;
        while (written < input.size()) {
            ssize_t n = ::write(in[1], input.data() + written, input.size() - written);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; // the helper does not want more input; its exit status tells the rest
            written += static_cast<std::size_t>(n);
        }
        ::close(in[1]);
    }
    // Read both pipes together so a chatty stderr cannot block the helper.
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open = 2;
    while (open > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buffer[4096];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0 && sinks[i]->size() < (1 << 20)) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || (n < 0 && errno != EINTR)) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string trim(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    std::size_t start = 0;
    while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start])))
        ++start;
    return s.substr(start);
}

} // namespace

std::string normalizeRegistryKey(std::string_view key)
{
    std::string k(key);
    for (std::string_view scheme : {"https://", "http://"})
        if (k.rfind(scheme, 0) == 0)
            k = k.substr(scheme.size());
    if (auto slash = k.find('/'); slash != std::string::npos)
        k = k.substr(0, slash);
    for (char& c : k)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (k == "index.docker.io" || k == DockerHubApiHost)
        k = std::string(DockerHubDomain);
    return k;
}

fs::path DockerConfig::defaultPath()
{
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir)
        return fs::path(dir) / "config.json";
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
        if (const passwd* pw = ::getpwuid(::getuid()))
            home = pw->pw_dir;
    }
    return fs::path(home ? home : "/") / ".docker" / "config.json";
}

DockerConfig DockerConfig::load()
{
    return loadFile(defaultPath());
}

DockerConfig DockerConfig::loadFile(const fs::path& file)
{
    DockerConfig config;
    config.file_ = file;
    std::error_code ec;
    if (!fs::exists(file, ec))
        return config;
    const std::string what = "docker config " + file.string();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readFile(file, 16 << 20));
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(what + ": invalid JSON: " + e.what());
    }
    if (!j.is_object())
        throw Error(what + ": not a JSON object");
    if (auto auths = j.find("auths"); auths != j.end() && auths->is_object()) {
        for (const auto& [key, entry] : auths->items()) {
            if (!entry.is_object())
                continue;
            Credentials c;
            if (auto a = entry.find("auth"); a != entry.end() && a->is_string() && !a->get_ref<const std::string&>().empty()) {
                auto decoded = decodeBase64(a->get_ref<const std::string&>());
                auto colon = decoded ? decoded->find(':') : std::string::npos;
                if (colon == std::string::npos)
                    throw Error(what + ": auths[\"" + key + "\"].auth is not base64 of \"user:password\"");
                c.username = decoded->substr(0, colon);
                c.password = decoded->substr(colon + 1);
            }
            if (c.username.empty())
                c.username = entry.value("username", "");
            if (c.password.empty())
                c.password = entry.value("password", "");
            c.identityToken = entry.value("identitytoken", "");
            if (c.username.empty() && c.password.empty() && c.identityToken.empty())
                continue; // a placeholder entry written next to a credsStore
            config.auths_[normalizeRegistryKey(key)] = c;
        }
    }
    if (auto helpers = j.find("credHelpers"); helpers != j.end() && helpers->is_object())
        for (const auto& [key, name] : helpers->items())
            if (name.is_string())
                config.credHelpers_[normalizeRegistryKey(key)] = name.get<std::string>();
    config.credsStore_ = j.value("credsStore", "");
    return config;
}

std::optional<Credentials> DockerConfig::credentialsFor(const std::string& host) const
{
    const std::string key = normalizeRegistryKey(host);
    std::string helper;
    if (auto it = credHelpers_.find(key); it != credHelpers_.end())
        helper = it->second;
    else
        helper = credsStore_;
    if (!helper.empty()) {
        try {
            if (auto c = runCredentialHelper(helper, serverUrlFor(key)))
                return c;
        } catch (const std::exception& e) {
            rethrowWithContext("docker config " + file_.string(), e);
        }
    }
    if (auto it = auths_.find(key); it != auths_.end())
        return it->second;
    return std::nullopt;
}

std::optional<Credentials> runCredentialHelper(const std::string& helper, const std::string& serverUrl)
{
    const std::string program = "docker-credential-" + helper;
    ProcessResult r = runWithInput(program, {"get"}, serverUrl);
    if (r.exitCode != 0) {
        std::string message = trim(r.out.empty() ? r.err : r.out);
        // The helper protocol's "not found" answer (docker-credential-helpers' ErrCredentialsNotFound).
        if (message.find("credentials not found") != std::string::npos)
            return std::nullopt;
        throw Error(program + " get " + serverUrl + ": exited with status " + std::to_string(r.exitCode) +
                    (message.empty() ? "" : ": " + message));
    }
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(r.out);
    } catch (const nlohmann::json::parse_error&) {
        throw Error(program + " get " + serverUrl + ": output is not JSON");
    }
    if (!j.is_object())
        throw Error(program + " get " + serverUrl + ": output is not a JSON object");
    Credentials c;
    c.username = j.value("Username", "");
    const std::string secret = j.value("Secret", "");
    if (c.username == "<token>") { // the helper protocol's marker for an identity token
        c.username.clear();
        c.identityToken = secret;
    } else {
        c.password = secret;
    }
    if (c.username.empty() && c.password.empty() && c.identityToken.empty())
        return std::nullopt;
    return c;
}

} // namespace cachescope::registry

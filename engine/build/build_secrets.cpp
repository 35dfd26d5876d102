#include "build/build_secrets.h"

#include "base/error.h"
#include "cache/cache_spec.h"
#include "exec/ssh_key_agent.h"
#include "exec/ssh_key_file.h"

#include <cstdlib>
#include <sys/stat.h>

namespace cachescope::build {

namespace fs = std::filesystem;

namespace {

// key=value fields, CSV-quoted as buildx reads them.
std::vector<std::pair<std::string, std::string>> fields(const std::string& flag, const std::string& text)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> parts;
    try {
        parts = cache::splitCsvFields(text);
    } catch (const Error& e) {
        throw Error(flag + " " + text + ": " + e.what());
    }
    for (const std::string& part : parts) {
        if (part.empty())
            continue;
        const auto eq = part.find('=');
        if (eq == std::string::npos || eq == 0)
            throw Error(flag + " " + text + ": \"" + part + "\" is not key=value");
        out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    }
    return out;
}

const SecretSource* findSecret(const std::vector<SecretSource>& secrets, const std::string& id)
{
    for (const auto& s : secrets)
        if (s.id == id)
            return &s;
    return nullptr;
}

// Fills in where the secret comes from; a source that is not there leaves the mount empty (the
// sandbox then skips it, or fails when it is required).
void resolveSecret(exec::SecretMount& m, const std::vector<SecretSource>& secrets)
{
    const SecretSource* s = findSecret(secrets, m.id);
    if (!s)
        return;
    if (!s->env.empty()) {
        if (const char* v = std::getenv(s->env.c_str()))
            m.data = std::string(v);
        return;
    }
    m.source = s->file;
}

} // namespace

SecretSource parseSecretSpec(const std::string& text)
{
    SecretSource s;
    std::string type;
    for (const auto& [k, v] : fields("--secret", text)) {
        if (k == "id")
            s.id = v;
        else if (k == "src" || k == "source")
            s.file = v;
        else if (k == "env")
            s.env = v;
        else if (k == "type")
            type = v;
        else
            throw Error("--secret " + text + ": unknown key \"" + k + "\" (id, src, env, type)");
    }
    if (!type.empty() && type != "file" && type != "env")
        throw Error("--secret " + text + ": type must be file or env, not \"" + type + "\"");
    if (type == "env" && s.env.empty()) { // buildx: type=env,src=VAR names the variable
        s.env = s.file.string();
        s.file.clear();
    }
    if (type == "file" && !s.env.empty())
        throw Error("--secret " + text + ": type=file takes src=PATH, not env=");
    if (!s.env.empty() && !s.file.empty())
        throw Error("--secret " + text + ": give src=PATH or env=VAR, not both");
    if (s.id.empty())
        s.id = !s.file.empty() ? s.file.filename().string() : s.env;
    if (s.id.empty())
        throw Error("--secret " + text + ": id is required (id=ID,src=PATH or id=ID,env=VAR)");
    if (s.file.empty() && s.env.empty()) {
        if (type != "file" && std::getenv(s.id.c_str()))
            s.env = s.id;
        else
            s.file = s.id;
    }
    return s;
}

SshSource parseSshSpec(const std::string& text)
{
    SshSource s;
    const auto eq = text.find('=');
    s.id = text.substr(0, eq);
    if (s.id.empty())
        throw Error("--ssh " + text + ": an id is required (default, or ID=SOCKET|KEYFILE[,KEYFILE...])");
    std::vector<std::string> paths;
    if (eq != std::string::npos)
        for (std::size_t start = eq + 1;;) {
            const auto comma = text.find(',', start);
            paths.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    if (paths.empty() || (paths.size() == 1 && paths[0].empty())) {
        const char* sock = std::getenv("SSH_AUTH_SOCK");
        if (!sock || !*sock)
            throw Error("--ssh " + text + ": SSH_AUTH_SOCK is not set; start ssh-agent or give " + s.id +
                        "=SOCKET or " + s.id + "=KEYFILE");
        paths = {sock};
    }
    // As buildx (sshprovider): a socket is taken alone; key files are taken together.
    for (const std::string& path : paths) {
        if (!s.socket.empty())
            throw Error("--ssh " + text + ": only one agent socket per id, and not together with key files");
        if (path.empty())
            throw Error("--ssh " + text + ": empty path in the list");
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            throw Error("--ssh " + text + ": " + path + " does not exist");
        if (S_ISSOCK(st.st_mode)) {
            if (!s.keyFiles.empty())
                throw Error("--ssh " + text + ": " + path +
                            " is an agent socket; give either one agent socket or key files, not both");
            s.socket = path;
            continue;
        }
        try {
            exec::readSshPrivateKey(path); // refused now rather than when the build starts
        } catch (const Error& e) {
            throw Error("--ssh " + text + ": " + e.what());
        }
        s.keyFiles.push_back(path);
    }
    return s;
}

BuildSshAgents::BuildSshAgents(const std::vector<SshSource>& sources)
{
    for (SshSource s : sources) {
        for (const SshSource& seen : agents_)
            if (seen.id == s.id)
                throw Error("--ssh " + s.id + ": the id is given twice");
        if (!s.keyFiles.empty()) {
            try {
                keyAgents_.push_back(std::make_unique<exec::SshKeyAgent>(s.keyFiles));
            } catch (const Error& e) {
                throw Error("--ssh " + s.id + ": " + e.what());
            }
            s.socket = keyAgents_.back()->socket();
            s.keyFiles.clear();
        }
        agents_.push_back(std::move(s));
    }
}

BuildSshAgents::~BuildSshAgents() = default;

exec::SecretMount secretMountFor(const solver::Mount& mount, const std::vector<SecretSource>& secrets)
{
    exec::SecretMount m;
    const solver::SecretOpt opt = mount.secretOpt.value_or(solver::SecretOpt{});
    m.id = opt.id;
    m.target = mount.dest;
    m.mode = opt.mode;
    m.owner = exec::Owner{opt.uid, opt.gid};
    m.required = !opt.optional;
    resolveSecret(m, secrets);
    return m;
}

exec::SecretMount secretEnvFor(const solver::SecretEnv& env, const std::vector<SecretSource>& secrets)
{
    exec::SecretMount m;
    m.id = env.id;
    m.env = env.name;
    m.required = !env.optional;
    resolveSecret(m, secrets);
    return m;
}

exec::SshMount sshMountFor(const solver::Mount& mount, const std::vector<SshSource>& agents)
{
    exec::SshMount m;
    const solver::SshOpt opt = mount.sshOpt.value_or(solver::SshOpt{});
    m.id = opt.id.empty() ? "default" : opt.id;
    m.target = mount.dest;
    m.mode = opt.mode;
    m.owner = exec::Owner{opt.uid, opt.gid};
    m.required = !opt.optional;
    for (const auto& a : agents)
        if (a.id == m.id)
            m.agentSocket = a.socket;
    return m;
}

} // namespace cachescope::build

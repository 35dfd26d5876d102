#include "solver/exec_op.h"

#include "solver/go_struct.h"

namespace cachescope::solver {

namespace {

nlohmann::ordered_json secretLike(const SecretOpt& s)
{
    return GoStruct()
        .str("ID", s.id)
        .num("uid", s.uid)
        .num("gid", s.gid)
        .num("mode", s.mode)
        .flag("optional", s.optional)
        .json();
}

nlohmann::ordered_json metaJson(const ExecMeta& m)
{
    GoStruct g;
    g.strings("args", m.args).strings("env", m.env).str("cwd", m.cwd).str("user", m.user);
    if (m.proxyEnv) {
        g.object("proxy_env", GoStruct()
                                  .str("http_proxy", m.proxyEnv->httpProxy)
                                  .str("https_proxy", m.proxyEnv->httpsProxy)
                                  .str("ftp_proxy", m.proxyEnv->ftpProxy)
                                  .str("no_proxy", m.proxyEnv->noProxy)
                                  .str("all_proxy", m.proxyEnv->allProxy)
                                  .json());
    }
    auto hosts = nlohmann::ordered_json::array();
    for (const auto& h : m.extraHosts)
        hosts.push_back(GoStruct().str("Host", h.host).str("IP", h.ip).json());
    g.list("extraHosts", std::move(hosts));
    g.str("hostname", m.hostname);
    auto limits = nlohmann::ordered_json::array();
    for (const auto& u : m.ulimit)
        limits.push_back(GoStruct().str("Name", u.name).num("Soft", u.soft).num("Hard", u.hard).json());
    g.list("ulimit", std::move(limits));
    g.str("cgroupParent", m.cgroupParent);
    g.flag("removeMountStubsRecursive", m.removeMountStubsRecursive);
    if (!m.validExitCodes.empty())
        g.always("validExitCodes", m.validExitCodes);
    return std::move(g).json();
}

} // namespace

Mount rootMount()
{
    Mount m;
    m.input = 0;
    m.dest.assign(1, '/');
    m.output = 0;
    return m;
}

nlohmann::ordered_json toGoJson(const Mount& m)
{
    GoStruct g;
    g.num("input", m.input).str("selector", m.selector).str("dest", m.dest).num("output", m.output);
    g.flag("readonly", m.readonly).num("mountType", static_cast<int>(m.mountType));
    if (m.tmpfsSize)
        g.object("TmpfsOpt", GoStruct().num("size", *m.tmpfsSize).json());
    if (m.cacheOpt)
        g.object("cacheOpt", GoStruct().str("ID", m.cacheOpt->id).num("sharing", static_cast<int>(m.cacheOpt->sharing)).json());
    if (m.secretOpt)
        g.object("secretOpt", secretLike(*m.secretOpt));
    if (m.sshOpt)
        g.object("SSHOpt", secretLike(*m.sshOpt));
    g.str("resultID", m.resultId).num("contentCache", static_cast<int>(m.contentCache));
    return std::move(g).json();
}

nlohmann::ordered_json toGoJson(const ExecOp& op)
{
    GoStruct g;
    g.object("meta", metaJson(op.meta));
    auto mounts = nlohmann::ordered_json::array();
    for (const auto& m : op.mounts)
        mounts.push_back(toGoJson(m));
    g.list("mounts", std::move(mounts));
    g.num("network", static_cast<int>(op.network)).num("security", static_cast<int>(op.security));
    auto secrets = nlohmann::ordered_json::array();
    for (const auto& s : op.secretenv)
        secrets.push_back(GoStruct().str("ID", s.id).str("name", s.name).flag("optional", s.optional).json());
    g.list("secretenv", std::move(secrets));
    auto devices = nlohmann::ordered_json::array();
    for (const auto& d : op.cdiDevices)
        devices.push_back(GoStruct().str("name", d.name).flag("optional", d.optional).json());
    g.list("cdiDevices", std::move(devices));
    return std::move(g).json();
}

} // namespace cachescope::solver

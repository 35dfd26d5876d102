// Build features over real bubblewrap, real files and a real registry: RUN secret and ssh mounts
// (values never in a key, a layer, the log or an export), COPY --exclude and --parents, inline
// cache written into a pushed image and imported back, export-on-failure, and a failing stage
// stopping its siblings, with the build's temp dirs gone afterwards (also after Ctrl-C in the CLI).
#include "base/error.h"
#include "build/build_secrets.h"
#include "build/build_session.h"
#include "cache/cache_export_spec.h"
#include "cache/cache_spec.h"
#include "exec/ssh_agent_forwarder.h"
#include "exec/ssh_key_agent.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/registry_client.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"
#include "support/ssh_agent.h"

#include <QCryptographicHash>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/xattr.h>

using namespace cachescope;
namespace fs = std::filesystem;

namespace {

const char* const BaseRef = "127.0.0.1:5055/library/busybox:latest";
const char* const FileSecret = "file-secret-7f3a91c2";
const char* const EnvSecret = "env-secret-b84d02e6";

fs::path baseImageLayout()
{
    return test::fixturesDir() / "buildkit-v0.24" / "base-image" / "oci";
}

struct Run {
    build::BuildResult result;
    std::vector<std::string> logs;      // the steps' output
    std::vector<std::string> buildLog;  // the build's own lines (cache export progress)
    std::map<int, std::string> keys;    // vertex -> planned key
};

Run runBuild(build::BuildOptions o)
{
    if (!o.buildContexts.count(BaseRef))
        o.buildContexts[BaseRef] = "oci-layout://" + baseImageLayout().string() + ":latest";
    Run r;
    build::BuildSession session(o, [&](const build::BuildEvent& e) {
        if (const auto* l = std::get_if<build::StepLog>(&e))
            (l->vertex > 0 ? r.logs : r.buildLog).push_back(l->line);
        if (const auto* p = std::get_if<build::StepPlanned>(&e))
            r.keys[p->vertex] = p->key;
    });
    r.result = session.run();
    return r;
}

void write(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// Everything a file holds as text: a tar (any compression) as its entry names and contents,
// anything else as its bytes.
std::string readable(const fs::path& file)
{
    std::string out;
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    bool tar = false;
    if (archive_read_open_filename(a, file.c_str(), 65536) == ARCHIVE_OK) {
        archive_entry* e = nullptr;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            tar = true;
            out += std::string(archive_entry_pathname(e)) + "\n";
            char buf[8192];
            for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;)
                out.append(buf, static_cast<std::size_t>(n));
        }
    }
    archive_read_free(a);
    if (tar)
        return out;
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> entryNames(const fs::path& layer)
{
    std::vector<std::string> out;
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_entry* e = nullptr;
    if (archive_read_open_filename(a, layer.c_str(), 65536) == ARCHIVE_OK)
        while (archive_read_next_header(a, &e) == ARCHIVE_OK)
            out.push_back(archive_entry_pathname(e));
    archive_read_free(a);
    return out;
}

// The files under `dir` whose content (unpacked when a tar) contains `needle`.
std::vector<std::string> filesContaining(const fs::path& dir, const std::string& needle)
{
    std::vector<std::string> hits;
    if (!fs::exists(dir))
        return hits;
    for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied))
        if (e.is_regular_file() && !e.is_symlink() && readable(e.path()).find(needle) != std::string::npos)
            hits.push_back(e.path().string());
    return hits;
}

// What a build leaves behind when it does not clean up: its work dir (under the data dir, which
// the test keeps open to others so the work dir is not moved to the system temp dir), half-applied
// snapshots, and ssh relay dirs.
std::vector<std::string> buildTempDirs(const fs::path& dataDir)
{
    std::vector<std::string> out;
    if (fs::exists(dataDir / "tmp"))
        for (const auto& e : fs::directory_iterator(dataDir / "tmp"))
            if (e.path().filename().string().starts_with("cachescope-build-"))
                out.push_back(e.path().string());
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
        if (e.path().filename().string().starts_with("cachescope-ssh-"))
            out.push_back(e.path().string());
    if (fs::exists(dataDir / "snapshots"))
        for (const auto& e : fs::directory_iterator(dataDir / "snapshots"))
            if (e.path().filename().string().starts_with("tmp-"))
                out.push_back(e.path().string());
    return out;
}

// A build of `context` with an empty store that imports the local cache export at `cacheDir`.
Run rebuildFrom(const fs::path& context, const fs::path& cacheDir, const fs::path& dataDir)
{
    build::BuildOptions o;
    o.contextDir = context;
    o.dataDir = dataDir;
    o.cacheFrom = cache::parseCacheSpecs("type=local,src=" + cacheDir.string());
    return runBuild(o);
}

std::string joined(const std::vector<std::string>& v)
{
    std::string s;
    for (const auto& x : v)
        s += x + "\n";
    return s;
}

// The output of a program run to the end; "" when it could not run.
std::string outputOf(const QString& program, const QStringList& args)
{
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return {};
    return p.readAllStandardOutput().toStdString();
}

// A new key pair `file` and `file`.pub made by ssh-keygen; false when it failed.
bool generateKey(const fs::path& file, const QString& type, const QString& passphrase = {})
{
    QProcess keygen;
    keygen.start("ssh-keygen", {"-q", "-t", type, "-N", passphrase, "-C", "cachescope-" + type, "-f",
                                QString::fromStdString(file.string())});
    return keygen.waitForFinished() && keygen.exitCode() == 0;
}

// The SHA256 fingerprints ssh-keygen -lf gives for the public key lines in `file`, sorted.
std::set<std::string> fingerprints(const fs::path& file)
{
    std::set<std::string> out;
    std::istringstream lines(outputOf("ssh-keygen", {"-l", "-E", "sha256", "-f", QString::fromStdString(file.string())}));
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string bits, fp;
        if (fields >> bits >> fp)
            out.insert(fp);
    }
    return out;
}

// The ssh-agent processes a build started for key files (their socket is under cachescope-ssh-agent-*).
std::vector<std::string> keyAgentsRunning()
{
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        std::string cmd(std::istreambuf_iterator<char>(in), {});
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        if (cmd.find("ssh-agent") != std::string::npos && cmd.find("cachescope-ssh-agent-") != std::string::npos)
            out.push_back(e.path().filename().string() + ": " + cmd);
    }
    return out;
}

// The first line of a private key's body: key material that must not leave the key file.
std::string keyMaterial(const fs::path& privateKey)
{
    std::ifstream in(privateKey);
    std::string line;
    std::getline(in, line);
    std::getline(in, line);
    return line;
}

} // namespace

class TestBuildFeatures : public QObject {
    Q_OBJECT

    QTemporaryDir home_;

    fs::path fresh(const std::string& name) { return test::freshDir(home_.path(), name); }

    // A build of `context` with a fresh store and a --cache-to type=local,mode=max export, at `cache`.
    Run buildExportingMax(const fs::path& context, const std::string& name, fs::path& cache)
    {
        build::BuildOptions o;
        o.contextDir = context;
        o.dataDir = fresh(name + "-data");
        cache = fresh(name + "-cache") / "export";
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + cache.string() + ",mode=max"));
        return runBuild(o);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(home_.isValid());
        fs::permissions(home_.path().toStdString(), fs::perms(0755));
        qputenv("XDG_DATA_HOME", QByteArray::fromStdString(home_.path().toStdString() + "/xdg"));
        if (!fs::exists("/usr/bin/bwrap"))
            QFAIL("bubblewrap (/usr/bin/bwrap) is required for builds");
    }

    void secretSpecsParseAsBuildx()
    {
        auto s = build::parseSecretSpec("id=tok,src=/x/file");
        QCOMPARE(s.id, std::string("tok"));
        QCOMPARE(s.file.string(), std::string("/x/file"));
        s = build::parseSecretSpec("id=tok,env=MY_VAR");
        QCOMPARE(s.env, std::string("MY_VAR"));
        s = build::parseSecretSpec("type=env,id=tok,src=OTHER");
        QCOMPARE(s.env, std::string("OTHER"));
        QVERIFY(s.file.empty());
        s = build::parseSecretSpec("src=/x/creds.json");
        QCOMPARE(s.id, std::string("creds.json"));
        QVERIFY_THROWS_EXCEPTION(Error, build::parseSecretSpec("id=a,src=/f,env=V"));
        QVERIFY_THROWS_EXCEPTION(Error, build::parseSecretSpec("id=a,bogus=1"));
        QVERIFY_THROWS_EXCEPTION(Error, build::parseSecretSpec("id=a,type=vault"));
    }

    // A secret from a file and one from an environment variable, at the default path, at a
    // target with a mode, as an env variable; an optional one that is missing is skipped. The
    // values reach the RUN and nothing else: not the keys (a new value still hits), not a layer,
    // not the local store, the image or the cache export, not the log.
    void secretMounts()
    {
        const fs::path ctx = fresh("secret-ctx");
        const fs::path secretFile = fresh("secret-src") / "token";
        write(secretFile, FileSecret);
        qputenv("CACHESCOPE_TEST_SECRET", EnvSecret);
        // The Dockerfile names the values only by their digests (it goes into keys and the image history).
        const auto sha = [](const char* v) {
            return QCryptographicHash::hash(QByteArray(v), QCryptographicHash::Sha256).toHex().toStdString();
        };
        write(ctx / "Dockerfile",
              std::string("FROM ") + BaseRef + "\n"
              "RUN --mount=type=secret,id=tok test \"$(sha256sum < /run/secrets/tok | cut -d' ' -f1)\" = " +
                  sha(FileSecret) + " && test \"$(stat -c %a /run/secrets/tok)\" = 400 && echo default-ok\n"
              "RUN --mount=type=secret,id=tok,target=/etc/app/tok,mode=0440,uid=7 "
              "test \"$(stat -c '%a %u' /etc/app/tok)\" = '440 7' && echo target-ok\n"
              "RUN --mount=type=secret,id=envtok,env=TOKEN test \"$(printf %s \"$TOKEN\" | sha256sum | cut -d' ' -f1)\" = " +
                  sha(EnvSecret) + " && echo env-ok\n"
              "RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo optional-ok\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("secret-data");
        o.secrets = {build::parseSecretSpec("id=tok,src=" + secretFile.string()),
                     build::parseSecretSpec("id=envtok,env=CACHESCOPE_TEST_SECRET")};
        const fs::path out = fresh("secret-out") / "image";
        const fs::path cache = fresh("secret-cache") / "export";
        o.outputs.push_back(build::OutputSpec{"oci", out, "latest"});
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + cache.string() + ",mode=max"));
        const Run first = runBuild(o);
        QVERIFY2(first.result.ok, first.result.error.c_str());
        QCOMPARE(first.result.stepsRun(), std::size_t(4));
        const std::string log = joined(first.logs) + joined(first.buildLog);
        for (const char* ok : {"default-ok", "target-ok", "env-ok", "optional-ok"})
            QVERIFY2(log.find(ok) != std::string::npos, log.c_str());

        for (const std::string secret : {FileSecret, EnvSecret}) {
            QVERIFY2(log.find(secret) == std::string::npos, log.c_str());
            for (const fs::path& dir : {o.dataDir, out, cache}) {
                const auto hits = filesContaining(dir, secret);
                QVERIFY2(hits.empty(), (secret + " found in " + joined(hits)).c_str());
            }
        }
        // No mount point of a secret stays in a layer.
        const oci::OciLayout layout = oci::OciLayout::open(out);
        const oci::Manifest m = oci::Manifest::parse(layout.blobs().read(layout.findTag("latest")->digest), "manifest");
        QCOMPARE(m.layers.size(), std::size_t(5)); // busybox and the four RUNs
        for (const auto& l : m.layers)
            for (const std::string& name : entryNames(layout.blobs().blobPath(l.digest)))
                QVERIFY2(!name.starts_with("run/secrets") && !name.starts_with("etc/app"), name.c_str());

        // Another value, same keys: every step is served from the local store.
        write(secretFile, "a-different-value");
        const Run second = runBuild(o);
        QVERIFY2(second.result.ok, second.result.error.c_str());
        QCOMPARE(second.keys, first.keys);
        QCOMPARE(second.result.stepsRun(), std::size_t(0));
        qunsetenv("CACHESCOPE_TEST_SECRET");
    }

    void requiredSecretMissingFails()
    {
        const fs::path ctx = fresh("secret-req-ctx");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\n"
                                  "RUN --mount=type=secret,id=npmrc,required=true cat /run/secrets/npmrc\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("secret-req-data");
        const Run r = runBuild(o);
        QVERIFY(!r.result.ok);
        QVERIFY2(r.result.error.find("secret \"npmrc\" is required") != std::string::npos, r.result.error.c_str());
        QVERIFY2(r.result.error.find("--secret id=npmrc") != std::string::npos, r.result.error.c_str());
        // A file given but gone by build time is named.
        o.secrets = {build::parseSecretSpec("id=npmrc,src=/nonexistent/npmrc")};
        const Run gone = runBuild(o);
        QVERIFY(!gone.result.ok);
        QVERIFY2(gone.result.error.find("/nonexistent/npmrc does not exist") != std::string::npos,
                 gone.result.error.c_str());
    }

    // --ssh with key files, as buildx takes them: a path that is not a socket is a private key,
    // several per id. The build's own ssh-agent holds exactly those keys (listed from inside the
    // RUN by a static helper speaking the agent protocol, fingerprinted with ssh-keygen), the key
    // material reaches no log, key, layer, store or export, and the agent and its dir are gone
    // after the build. Keys are read as buildx reads them: a key file open to others still loads.
    void sshKeyFiles()
    {
        const fs::path keys = fresh("ssh-keys");
        QVERIFY(generateKey(keys / "id_ed25519", "ed25519"));
        QVERIFY(generateKey(keys / "id_rsa", "rsa"));
        QVERIFY(generateKey(keys / "other", "ed25519"));
        fs::permissions(keys / "id_rsa", fs::perms(0644));
        const fs::path ctx = fresh("ssh-keys-ctx");
        fs::copy_file(AGENT_IDENTITIES, ctx / "agent_identities");
        write(ctx / "Dockerfile",
              std::string("FROM ") + BaseRef + "\n"
              "RUN --mount=type=ssh --mount=type=bind,target=/ctx /ctx/agent_identities | sed 's/^/default /'\n"
              "RUN --mount=type=ssh,id=deploy --mount=type=bind,target=/ctx /ctx/agent_identities | sed 's/^/deploy /'\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("ssh-keys-data");
        const fs::path out = fresh("ssh-keys-out") / "image";
        const fs::path cache = fresh("ssh-keys-cache") / "export";
        o.outputs.push_back(build::OutputSpec{"oci", out, "latest"});
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + cache.string() + ",mode=max"));
        o.sshAgents = {build::parseSshSpec("default=" + (keys / "id_ed25519").string() + "," + (keys / "id_rsa").string()),
                       build::parseSshSpec("deploy=" + (keys / "other").string())};
        QCOMPARE(o.sshAgents[0].keyFiles.size(), std::size_t(2));
        QVERIFY(o.sshAgents[0].socket.empty());
        const Run r = runBuild(o);
        QVERIFY2(r.result.ok, r.result.error.c_str());
        const std::string log = joined(r.logs) + joined(r.buildLog);

        // Each id's agent lists exactly its keys.
        const auto listed = [&](const std::string& id) {
            std::string lines;
            for (const std::string& line : r.logs)
                if (line.starts_with(id + " identity "))
                    lines += line.substr(id.size() + 10) + "\n";
            const fs::path file = keys / (id + ".listed");
            write(file, lines);
            return fingerprints(file);
        };
        std::set<std::string> expected = fingerprints(keys / "id_ed25519.pub");
        expected.merge(fingerprints(keys / "id_rsa.pub"));
        QCOMPARE(expected.size(), std::size_t(2));
        QVERIFY2(log.find("default identities 2") != std::string::npos, log.c_str());
        QCOMPARE(listed("default"), expected);
        QVERIFY2(log.find("deploy identities 1") != std::string::npos, log.c_str());
        QCOMPARE(listed("deploy"), fingerprints(keys / "other.pub"));

        for (const char* key : {"id_ed25519", "id_rsa", "other"}) {
            const std::string material = keyMaterial(keys / key);
            QVERIFY(material.size() > 40);
            QVERIFY2(log.find(material) == std::string::npos, log.c_str());
            for (const fs::path& dir : {o.dataDir, out, cache}) {
                const auto hits = filesContaining(dir, material);
                QVERIFY2(hits.empty(), (std::string(key) + " found in " + joined(hits)).c_str());
            }
        }
        QVERIFY2(buildTempDirs(o.dataDir).empty(), joined(buildTempDirs(o.dataDir)).c_str());
        QVERIFY2(keyAgentsRunning().empty(), joined(keyAgentsRunning()).c_str());

        // Only the ids enter the keys: other key files, same keys, nothing runs.
        o.sshAgents = {build::parseSshSpec("default=" + (keys / "other").string()),
                       build::parseSshSpec("deploy=" + (keys / "id_rsa").string())};
        const Run again = runBuild(o);
        QVERIFY2(again.result.ok, again.result.error.c_str());
        QCOMPARE(again.keys, r.keys);
        QCOMPARE(again.result.stepsRun(), std::size_t(0));
    }

    // Bad key files are refused naming the file: at parse time (the CLI's flags) and, for a file
    // that went bad after, when the build starts; a failed load leaves no agent and no dir behind,
    // also when an earlier key of the list was already loaded.
    void sshKeyFileErrors()
    {
        const fs::path keys = fresh("ssh-bad-keys");
        QVERIFY(generateKey(keys / "good", "ed25519"));
        QVERIFY(generateKey(keys / "locked", "ed25519", "a passphrase"));
        QVERIFY(generateKey(keys / "locked_rsa", "rsa", "a passphrase"));
        const std::string locked = (keys / "locked").string();
        const auto parseError = [](const std::string& spec) {
            try {
                build::parseSshSpec(spec);
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        const auto has = [](const std::string& text, const std::string& part) {
            return text.find(part) != std::string::npos;
        };
        std::string e = parseError("default=" + locked);
        QVERIFY2(has(e, "--ssh default=" + locked + ": SSH key file " + locked + " is encrypted") &&
                     has(e, "give the agent's socket instead"), e.c_str());
        e = parseError("default=" + (keys / "locked_rsa").string());
        QVERIFY2(has(e, (keys / "locked_rsa").string() + " is encrypted"), e.c_str());
        e = parseError("k=" + (keys / "good").string() + ",/nonexistent/id_ed25519");
        QVERIFY2(has(e, "/nonexistent/id_ed25519 does not exist"), e.c_str());
        e = parseError("k=" + (keys / "good.pub").string());
        QVERIFY2(has(e, "good.pub is a public key"), e.c_str());
        write(keys / "notes.txt", "not a key\n");
        e = parseError("k=" + (keys / "notes.txt").string());
        QVERIFY2(has(e, "notes.txt is not a private key"), e.c_str());
        if (::geteuid() != 0) { // root reads any file
            fs::copy_file(keys / "good", keys / "closed");
            fs::permissions(keys / "closed", fs::perms::none);
            e = parseError("k=" + (keys / "closed").string());
            QVERIFY2(has(e, "closed cannot be read: Permission denied"), e.c_str());
        }

        // As buildx: one socket, or key files, per id.
        const fs::path sock = keys / "agent.sock";
        test::SshAgent agent;
        QVERIFY2(agent.start(sock), "ssh-agent (openssh-client) is required");
        e = parseError("k=" + (keys / "good").string() + "," + sock.string());
        QVERIFY2(has(e, "give either one agent socket or key files, not both"), e.c_str());
        e = parseError("k=" + sock.string() + "," + (keys / "good").string());
        QVERIFY2(has(e, "only one agent socket per id"), e.c_str());
        QCOMPARE(build::parseSshSpec("k=" + sock.string()).socket, sock);

        // Gone bad after the flags were read: the build fails before any step, naming the file.
        const fs::path ctx = fresh("ssh-bad-ctx");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nRUN --mount=type=ssh true\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("ssh-bad-data");
        build::SshSource source;
        source.keyFiles = {keys / "good", keys / "locked"};
        o.sshAgents = {source};
        const Run encrypted = runBuild(o);
        QVERIFY(!encrypted.result.ok);
        QVERIFY2(has(encrypted.result.error, "--ssh default: SSH key file " + locked + " is encrypted"),
                 encrypted.result.error.c_str());
        QCOMPARE(encrypted.result.stepsRun(), std::size_t(0));
        QVERIFY2(buildTempDirs(o.dataDir).empty(), joined(buildTempDirs(o.dataDir)).c_str());
        QVERIFY2(keyAgentsRunning().empty(), joined(keyAgentsRunning()).c_str());
        o.sshAgents[0].keyFiles = {keys / "good", keys / "removed"};
        const Run missing = runBuild(o);
        QVERIFY(!missing.result.ok);
        QVERIFY2(has(missing.result.error, (keys / "removed").string() + " does not exist"), missing.result.error.c_str());
        QVERIFY2(buildTempDirs(o.dataDir).empty(), joined(buildTempDirs(o.dataDir)).c_str());
        QVERIFY2(keyAgentsRunning().empty(), joined(keyAgentsRunning()).c_str());

        // Without ssh-agent on PATH the error says what is missing.
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", QByteArray::fromStdString(keys.string()));
        try {
            exec::SshKeyAgent noAgent({keys / "good"});
            e = "no error";
        } catch (const Error& err) {
            e = err.what();
        }
        qputenv("PATH", path);
        QVERIFY2(has(e, "ssh-agent is not on PATH") && has(e, "openssh-client"), e.c_str());

        // The CLI refuses the flag before building, naming the file.
        QProcess cli;
        cli.setProcessChannelMode(QProcess::MergedChannels);
        cli.start(CACHESCOPE_CLI, {"build", "--ssh", QString::fromStdString("default=" + locked), QString::fromStdString(ctx.string())});
        QVERIFY(cli.waitForFinished(60000));
        const QByteArray cliOut = cli.readAll();
        QVERIFY(cli.exitCode() != 0);
        QVERIFY2(cliOut.contains(QByteArray::fromStdString(locked + " is encrypted")), cliOut.constData());
    }

    // A real ssh-agent: the relay carries its protocol (ssh-add lists a key added through it), the
    // sandbox sees a socket at SSH_AUTH_SOCK with the mount's owner and mode, and without an agent
    // the build fails saying so.
    void sshAgentMounts()
    {
        const fs::path dir = fresh("ssh");
        const fs::path agentSock = dir / "agent.sock";
        test::SshAgent agent;
        QVERIFY2(agent.start(agentSock), "ssh-agent (openssh-client) is required");
        QProcess keygen;
        keygen.start("ssh-keygen", {"-q", "-t", "ed25519", "-N", "", "-C", "cachescope-test", "-f",
                                    QString::fromStdString((dir / "id").string())});
        QVERIFY(keygen.waitForFinished() && keygen.exitCode() == 0);
        {
            exec::SshAgentForwarder relay(agentSock, exec::Owner{}, 0600);
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("SSH_AUTH_SOCK", QString::fromStdString(relay.path().string()));
            QProcess add;
            add.setProcessEnvironment(env);
            add.start("ssh-add", {QString::fromStdString((dir / "id").string())});
            QVERIFY(add.waitForFinished());
            QVERIFY2(add.exitCode() == 0, add.readAllStandardError().constData());
            QProcess list;
            list.setProcessEnvironment(env);
            list.start("ssh-add", {"-l"});
            QVERIFY(list.waitForFinished());
            QVERIFY2(list.readAllStandardOutput().contains("cachescope-test"), "key not listed through the relay");
        }

        const fs::path ctx = fresh("ssh-ctx");
        write(ctx / "Dockerfile",
              std::string("FROM ") + BaseRef + "\n"
              "RUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && echo \"sock=$SSH_AUTH_SOCK $(stat -c '%u:%g:%a' \"$SSH_AUTH_SOCK\")\"\n"
              "RUN --mount=type=ssh,id=deploy,target=/deploy.sock,mode=0666 echo \"deploy=$(stat -c %a /deploy.sock)\"\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("ssh-data");
        o.sshAgents = {build::parseSshSpec("default=" + agentSock.string()),
                       build::parseSshSpec("deploy=" + agentSock.string())};
        const Run r = runBuild(o);
        QVERIFY2(r.result.ok, r.result.error.c_str());
        const std::string log = joined(r.logs);
        QVERIFY2(log.find("sock=/run/buildkit/ssh_agent.0 0:0:600") != std::string::npos, log.c_str());
        QVERIFY2(log.find("deploy=666") != std::string::npos, log.c_str());
        QVERIFY2(buildTempDirs(o.dataDir).empty(), joined(buildTempDirs(o.dataDir)).c_str());

        // Without an agent: an optional mount (BuildKit's default) is skipped and the step's log says
        // why; a required one fails the step naming the flag.
        o.sshAgents.clear();
        o.noCache = true;
        const Run none = runBuild(o);
        QVERIFY(!none.result.ok);
        QVERIFY2(none.result.error.find("ssh mount \"default\" has no SSH agent (give --ssh default") != std::string::npos,
                 none.result.error.c_str());
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nRUN --mount=type=ssh,required=true true\n");
        const Run required = runBuild(o);
        QVERIFY(!required.result.ok);
        QVERIFY2(required.result.error.find("has no SSH agent") != std::string::npos, required.result.error.c_str());
        QCOMPARE(required.result.exitCode, 0);
        qputenv("SSH_AUTH_SOCK", "");
        QVERIFY_THROWS_EXCEPTION(Error, build::parseSshSpec("default"));
        // A path that is not a socket is a key file, as buildx takes it (sshKeyFiles).
        QCOMPARE(build::parseSshSpec("default=" + (dir / "id").string()).keyFiles,
                 std::vector<fs::path>{dir / "id"});
    }

    // COPY --exclude (patterns relative to each source, wildcard matches filtered, exceptions
    // re-including below an excluded directory) and --parents (with and without the "/./" pivot),
    // with directory modes kept; rebuilt from the export, every step hits.
    void copyExcludeAndParents()
    {
        const fs::path ctx = fresh("copy-ctx");
        for (const char* f : {"a.txt", "b.md", "dir/x.txt", "dir/y.md", "dir/sub/z.md", "keep/k.md", "logs/a.log",
                              "logs/old/x.log", "logs/old/keep.log"})
            write(ctx / f, std::string("content of ") + f + "\n");
        fs::permissions(ctx / "dir/sub", fs::perms(0750));
        write(ctx / "Dockerfile",
              std::string("# syntax=docker/dockerfile:1.7-labs\nFROM ") + BaseRef + "\n"
              "COPY --exclude=*.md --exclude=dir/sub --exclude=Dockerfile . /all/\n"
              "COPY --exclude=*.md dir /d/\n"
              "COPY --exclude=b.* *.md *.txt /w/\n"
              "COPY --exclude=old --exclude=!old/keep.log logs /l/\n"
              "COPY --parents dir/sub/z.md keep/./k.md /p/\n"
              "COPY --parents dir/*.txt /q/\n"
              "RUN cd / && find all d w l p q | sort && stat -c '%a %n' /p/dir/sub\n");
        fs::path cache;
        const Run r = buildExportingMax(ctx, "copy", cache);
        QVERIFY2(r.result.ok, r.result.error.c_str());
        const std::vector<std::string>& lines = r.logs;
        const std::vector<std::string> expected = {
            "all", "all/a.txt", "all/dir", "all/dir/x.txt", "all/dir/y.md", "all/keep", "all/keep/k.md", "all/logs",
            "all/logs/a.log", "all/logs/old", "all/logs/old/keep.log", "all/logs/old/x.log", "d", "d/sub", "d/sub/z.md",
            "d/x.txt", "l", "l/a.log", "l/old", "l/old/keep.log", "p",
            "p/dir", "p/dir/sub", "p/dir/sub/z.md", "p/k.md", "q", "q/dir", "q/dir/x.txt", "w", "w/a.txt",
            "750 /p/dir/sub"};
        QCOMPARE(lines, expected);

        const Run hit = rebuildFrom(ctx, cache, fresh("copy-data-2"));
        QVERIFY2(hit.result.ok, hit.result.error.c_str());
        QCOMPARE(hit.result.stepsRun(), std::size_t(0));
    }

    // COPY --from a stage that is a cache hit unpacks only the copied paths of its layers (whiteouts
    // applied), unless a symlink or a hardlink on the way needs the rest of the tree: then all of it.
    void copyFromACachedStage_data()
    {
        QTest::addColumn<QString>("copies");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<bool>("partial");
        QTest::newRow("plain paths") << "COPY --from=a /d/ /out/d/\nCOPY --from=a /d/sub/g /out/g\n"
                                     << ".|./d|./d/new|./d/sub|./d/sub/g|./g|three|two|two|" << true;
        QTest::newRow("symlinked parent") << "COPY --from=a /link/r /out/r\n" << ".|./r|real|" << false;
        QTest::newRow("hardlink") << "COPY --from=a /h2 /out/h2\n" << ".|./h2|h|" << false;
    }

    void copyFromACachedStage()
    {
        QFETCH(QString, copies);
        QFETCH(QString, expected);
        QFETCH(bool, partial);
        const fs::path ctx = fresh("copy-from-ctx");
        write(ctx / "marker", "1\n");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + " AS a\n" +
                                      "RUN mkdir -p /d/sub /real && echo one > /d/f && echo two > /d/sub/g && "
                                      "echo real > /real/r && ln -s /real /link && echo h > /h1 && ln /h1 /h2 && "
                                      "echo rest > /rest\n"
                                      "RUN rm /d/f && echo three > /d/new\n"
                                      "FROM " + BaseRef + "\nCOPY marker /marker\n" + copies.toStdString() +
                                      "RUN cd /out && find . | sort && cat $(find . -type f | sort)\n");
        fs::path cache;
        const Run cold = buildExportingMax(ctx, "copy-from", cache);
        QVERIFY2(cold.result.ok, cold.result.error.c_str());
        QCOMPARE(QString::fromStdString(joined(cold.logs)).replace('\n', '|'), expected);

        write(ctx / "marker", "2\n");
        const fs::path data = fresh("copy-from-data-2");
        const Run r = rebuildFrom(ctx, cache, data);
        QVERIFY2(r.result.ok, r.result.error.c_str());
        QCOMPARE(QString::fromStdString(joined(r.logs)).replace('\n', '|'), expected);
        for (const auto& s : r.result.steps)
            if (s.stage == "a" && s.name.find("] RUN") != std::string::npos)
                QVERIFY2(s.state != build::StepOutcome::State::Ran, s.name.c_str()); // stage a came from the import
        // The whole of stage a (with /rest) is unpacked only when the copies needed it.
        bool restUnpacked = false;
        for (const auto& e : fs::recursive_directory_iterator(data / "snapshots"))
            restUnpacked = restUnpacked || e.path().filename() == "rest";
        QCOMPARE(restUnpacked, !partial);
        QVERIFY2(buildTempDirs(data).empty(), joined(buildTempDirs(data)).c_str());
    }

    // COPY keeps a file's extended attributes, file capabilities included (they must be written after
    // the owner: chown drops security.capability), as BuildKit's copy does.
    void copyKeepsExtendedAttributes()
    {
        const fs::path ctx = fresh("xattr-ctx");
        write(ctx / "tool", "#!/bin/sh\n");
        QCOMPARE(::lsetxattr((ctx / "tool").c_str(), "user.note", "kept", 4, 0), 0);
        // vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (13)
        const std::string caps("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
        const bool withCaps = ::lsetxattr((ctx / "tool").c_str(), "security.capability", caps.data(), caps.size(), 0) == 0;
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nCOPY tool /tool\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("xattr-data");
        const fs::path out = fresh("xattr-out") / "image";
        o.outputs.push_back(build::OutputSpec{"oci", out, "latest"});
        const Run r = runBuild(o);
        QVERIFY2(r.result.ok, r.result.error.c_str());

        const oci::OciLayout layout = oci::OciLayout::open(out);
        const oci::Manifest m = oci::Manifest::parse(layout.blobs().read(layout.findTag("latest")->digest), "manifest");
        std::map<std::string, std::string> xattrs;
        archive* a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        QCOMPARE(archive_read_open_filename(a, layout.blobs().blobPath(m.layers.back().digest).c_str(), 65536), ARCHIVE_OK);
        archive_entry* e = nullptr;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            if (std::string(archive_entry_pathname(e)) != "tool")
                continue;
            const char* name = nullptr;
            const void* value = nullptr;
            size_t size = 0;
            archive_entry_xattr_reset(e);
            while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
                xattrs[name] = std::string(static_cast<const char*>(value), size);
        }
        archive_read_free(a);
        QCOMPARE(xattrs["user.note"], std::string("kept"));
        if (withCaps)
            QCOMPARE(xattrs["security.capability"], caps);
    }

    // A stage that runs again but gives the same files: the COPY --from after it is CACHED by its
    // content key, computed over the copied paths only, or over the whole tree when a symlink leads
    // the path elsewhere.
    void contentKeyOfARebuiltStage_data()
    {
        QTest::addColumn<QString>("copy");
        QTest::newRow("plain path") << "COPY --from=a /d/ /out/\n";
        QTest::newRow("symlinked parent") << "COPY --from=a /link/r /out/r\n";
    }

    void contentKeyOfARebuiltStage()
    {
        QFETCH(QString, copy);
        const fs::path ctx = fresh("content-key-ctx");
        write(ctx / "input", "1\n");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + " AS a\nCOPY input /input\n" +
                                      "RUN mkdir -p /d /real && echo same > /d/f && echo real > /real/r && "
                                      "ln -s /real /link && cp /input /varies\n"
                                      "FROM " + BaseRef + "\n" + copy.toStdString() + "RUN ls /out\n");
        fs::path cache;
        const Run cold = buildExportingMax(ctx, "content-key", cache);
        QVERIFY2(cold.result.ok, cold.result.error.c_str());

        write(ctx / "input", "2\n");
        const Run r = rebuildFrom(ctx, cache, fresh("content-key-data-2"));
        QVERIFY2(r.result.ok, r.result.error.c_str());
        QCOMPARE(r.result.stepsRun(), std::size_t(2)); // stage a's COPY and RUN
        for (const auto& s : r.result.steps)
            if (s.stage != "a" && s.name.find("FROM") == std::string::npos)
                QVERIFY2(s.state == build::StepOutcome::State::Cached, s.name.c_str());
    }

    // --cache-to type=inline with --output type=registry: the pushed image's config carries the
    // cache, and a build with a fresh store importing that image runs nothing.
    void inlineCacheThroughTheRegistry()
    {
        test::RegistryLauncher registry;
        QVERIFY2(registry.start(), qPrintable(registry.errorString()));
        registry::RegistryClient client(registry.host());
        registry::pushLayoutTag(client, oci::OciLayout::open(baseImageLayout()), "latest", "library/busybox", "latest");
        const std::string base = "docker-image://" + registry.host() + "/library/busybox:latest";
        const fs::path context = test::fixturesDir() / "buildkit-v0.24" / "01-single-stage" / "context";
        const std::string image = registry.host() + "/inline/app:v1";

        build::BuildOptions o;
        o.contextDir = context;
        o.dataDir = fresh("inline-data");
        o.buildContexts[BaseRef] = base;
        o.outputs.push_back(build::parseOutputSpec("type=registry,name=" + image));
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=inline"));
        const Run built = runBuild(o);
        QVERIFY2(built.result.ok, built.result.error.c_str());
        QVERIFY(built.result.stepsRun() > 0);
        const auto manifest = client.getManifest("inline/app", "v1");
        const oci::Manifest m = oci::Manifest::parse(manifest.bytes, "pushed manifest");
        const auto config = nlohmann::json::parse(client.fetchBlobBytes("inline/app", m.config, 1 << 20));
        QVERIFY2(config.contains("moby.buildkit.cache.v0"), config.dump().c_str());

        // BuildKit's other switch for it, with an OCI layout output.
        build::BuildOptions byArg = o;
        byArg.dataDir = fresh("inline-arg-data");
        byArg.cacheTo.clear();
        byArg.outputs = {build::OutputSpec{"oci", fresh("inline-arg-out") / "image", "latest"}};
        byArg.buildArgs["BUILDKIT_INLINE_CACHE"] = "1";
        const Run viaArg = runBuild(byArg);
        QVERIFY2(viaArg.result.ok, viaArg.result.error.c_str());
        const oci::OciLayout layout = oci::OciLayout::open(byArg.outputs[0].dest);
        const oci::Manifest lm = oci::Manifest::parse(layout.blobs().read(layout.findTag("latest")->digest), "manifest");
        QVERIFY(nlohmann::json::parse(layout.blobs().read(lm.config.digest)).contains("moby.buildkit.cache.v0"));

        for (const std::string& from : {"type=registry,ref=" + image, "type=inline,ref=" + image}) {
            build::BuildOptions again = o;
            again.dataDir = fresh("inline-again");
            again.outputs.clear();
            again.cacheTo.clear();
            again.cacheFrom = cache::parseCacheSpecs(from);
            const Run hit = runBuild(again);
            QVERIFY2(hit.result.ok, hit.result.error.c_str());
            QVERIFY2(hit.result.stepsRun() == 0, (from + ": steps ran").c_str());
        }
    }

    // export-on-failure=true: the last RUN fails, the steps before it are exported; the export
    // imports and serves every finished step to a fresh store. Without the option nothing is written.
    void exportOnFailure()
    {
        const fs::path ctx = fresh("eof-ctx");
        const std::string head = std::string("FROM ") + BaseRef + "\nRUN echo one > /one\nRUN echo two > /two\n";
        write(ctx / "Dockerfile", head + "RUN exit 7\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("eof-data");
        const fs::path kept = fresh("eof-cache") / "kept";
        const fs::path plain = fresh("eof-cache-plain") / "plain";
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + kept.string() + ",export-on-failure=true"));
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + plain.string()));
        const Run failed = runBuild(o);
        QVERIFY(!failed.result.ok);
        QCOMPARE(failed.result.exitCode, 7);
        QVERIFY2(fs::exists(kept / "index.json"), joined(failed.result.cacheExports).c_str());
        QVERIFY(!fs::exists(plain / "index.json"));

        const fs::path okCtx = fresh("eof-ok-ctx");
        write(okCtx / "Dockerfile", head);
        const Run hit = rebuildFrom(okCtx, kept, fresh("eof-data-2"));
        QVERIFY2(hit.result.ok, hit.result.error.c_str());
        QCOMPARE(hit.result.stepsRun(), std::size_t(0));
        QVERIFY(hit.result.stepsCached() >= 2);
        QVERIFY_THROWS_EXCEPTION(Error, cache::parseCacheExportSpec("type=inline,export-on-failure=true"));
    }

    // A cancel that lands while the cache is exported stops the export between blobs: the build
    // reports the cancel, and the target keeps its previous export, which still imports and hits.
    void cancelDuringExportKeepsTheTarget()
    {
        const fs::path ctx = fresh("export-cancel-ctx");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nRUN echo first > /f\n");
        const fs::path dest = fresh("export-cancel-cache") / "cache";
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("export-cancel-data");
        o.buildContexts[BaseRef] = "oci-layout://" + baseImageLayout().string() + ":latest";
        o.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + dest.string() + ",mode=max"));
        const Run first = runBuild(o);
        QVERIFY2(first.result.ok, first.result.error.c_str());
        const std::string indexBefore = readable(dest / "index.json");
        const auto blobCount = [&] {
            return std::distance(fs::directory_iterator(dest / "blobs" / "sha256"), fs::directory_iterator());
        };
        const auto blobsBefore = blobCount();
        std::set<std::string> oldBlobs;
        for (const auto& e : fs::directory_iterator(dest / "blobs" / "sha256"))
            oldBlobs.insert("sha256:" + e.path().filename().string());

        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nRUN echo second > /s\nRUN echo third > /t\n");
        std::stop_source stop;
        o.cancel = stop.get_token();
        build::BuildSession session(o, [&](const build::BuildEvent& e) {
            // A new layer is in the target: the cancel arrives in the middle of the export.
            const std::string prefix = "writing layer ";
            if (const auto* l = std::get_if<build::StepLog>(&e);
                l && l->line.starts_with(prefix) && !oldBlobs.count(l->line.substr(prefix.size())))
                stop.request_stop();
        });
        const build::BuildResult cancelled = session.run();
        QVERIFY(!cancelled.ok);
        QVERIFY2(cancelled.error.find("cancel") != std::string::npos, cancelled.error.c_str());
        QCOMPARE(readable(dest / "index.json"), indexBefore);
        QVERIFY2(blobCount() > blobsBefore, "the cancel did not land during the export"); // a new layer was written

        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nRUN echo first > /f\n");
        const Run hit = rebuildFrom(ctx, dest, fresh("export-cancel-data-2"));
        QVERIFY2(hit.result.ok, hit.result.error.c_str());
        QCOMPARE(hit.result.stepsRun(), std::size_t(0));
    }

    // A stage that fails stops the stage running beside it at once, and the build's temp dirs go.
    void failingStageStopsItsSiblings()
    {
        const fs::path ctx = fresh("sibling-ctx");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + " AS slow\nRUN sleep 60 && echo slow > /slow\n"
                                  "FROM " + BaseRef + " AS bad\nRUN sleep 1 && exit 5\n"
                                  "FROM " + BaseRef + "\nCOPY --from=slow /slow /a\nCOPY --from=bad /etc/hostname /b\n");
        build::BuildOptions o;
        o.contextDir = ctx;
        o.dataDir = fresh("sibling-data");
        const auto t0 = std::chrono::steady_clock::now();
        const Run r = runBuild(o);
        const auto took = std::chrono::steady_clock::now() - t0;
        QVERIFY(!r.result.ok);
        QCOMPARE(r.result.exitCode, 5);
        QVERIFY2(r.result.error.find("exit code: 5") != std::string::npos, r.result.error.c_str());
        QVERIFY2(took < std::chrono::seconds(30), "the sleeping stage was not stopped");
        qInfo("failed build with a 60 s sibling stage ended after %lld ms",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
        QVERIFY2(buildTempDirs(o.dataDir).empty(), joined(buildTempDirs(o.dataDir)).c_str());
    }

    // Ctrl-C in the CLI: the build stops promptly, exits 130, and leaves no temp dirs behind, nor
    // the ssh-agent it started for a key file.
    void cliInterruptStopsCleanly_data()
    {
        QTest::addColumn<bool>("keyFile");
        QTest::newRow("plain") << false;
        QTest::newRow("ssh key file") << true;
    }
    void cliInterruptStopsCleanly()
    {
        QFETCH(bool, keyFile);
        const fs::path xdg = fresh("sigint-xdg");
        QProcess cli;
        QByteArray out;
        QVERIFY(startCliUntilStepAlive(cli, out, xdg, keyFile));
        const auto t0 = std::chrono::steady_clock::now();
        ::kill(static_cast<pid_t>(cli.processId()), SIGINT);
        QVERIFY(cli.waitForFinished(20000));
        out += cli.readAll();
        QVERIFY2(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(15), out.constData());
        QCOMPARE(cli.exitCode(), 130);
        QVERIFY2(out.contains("interrupted"), out.constData());
        QVERIFY2(buildTempDirs(xdg / "cachescope").empty(), joined(buildTempDirs(xdg / "cachescope")).c_str());
        QVERIFY2(keyAgentsRunning().empty(), joined(keyAgentsRunning()).c_str());
    }

    // A CLI killed outright cannot clean up, but the ssh-agent holding its keys does not outlive it.
    void killedCliLeavesNoKeyAgent()
    {
        const fs::path xdg = fresh("sigkill-xdg");
        QProcess cli;
        QByteArray out;
        // Its temp dirs stay behind: under a TMPDIR of the test's own, removed with the test's dir.
        QVERIFY(startCliUntilStepAlive(cli, out, xdg, true, fresh("sigkill-tmp")));
        QVERIFY2(!keyAgentsRunning().empty(), "the build started no ssh-agent");
        ::kill(static_cast<pid_t>(cli.processId()), SIGKILL);
        QVERIFY(cli.waitForFinished(20000));
        for (int i = 0; i < 100 && !keyAgentsRunning().empty(); ++i)
            QThread::msleep(50);
        QVERIFY2(keyAgentsRunning().empty(), joined(keyAgentsRunning()).c_str());
    }

private:
    // Starts `cachescope-cli build` of a step that prints a marker and sleeps, with a key file for
    // its ssh mount when `keyFile` (and TMPDIR=`tmpDir` when given); true once the step runs.
    bool startCliUntilStepAlive(QProcess& cli, QByteArray& out, const fs::path& xdg, bool keyFile,
                                const fs::path& tmpDir = {})
    {
        const fs::path ctx = fresh("sigint-ctx");
        write(ctx / "Dockerfile", std::string("FROM ") + BaseRef + "\nRUN " +
                                      (keyFile ? "--mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && " : "") +
                                      "echo step-\"\"alive && sleep 60\n");
        QStringList args{"build", "--build-context",
                         QString::fromStdString(std::string(BaseRef) + "=oci-layout://" + baseImageLayout().string() +
                                                ":latest")};
        if (keyFile) {
            const fs::path key = fresh("sigint-key") / "id";
            if (!generateKey(key, "ed25519"))
                return false;
            args << "--ssh" << QString::fromStdString("default=" + key.string());
        }
        args << QString::fromStdString(ctx.string());
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_DATA_HOME", QString::fromStdString(xdg.string()));
        if (!tmpDir.empty())
            env.insert("TMPDIR", QString::fromStdString(tmpDir.string()));
        cli.setProcessEnvironment(env);
        cli.setProcessChannelMode(QProcess::MergedChannels);
        cli.start(CACHESCOPE_CLI, args);
        if (!cli.waitForStarted())
            return false;
        // The step's own output (its name, printed before it runs, spells the marker differently).
        for (int i = 0; i < 300 && !out.contains("step-alive"); ++i) {
            cli.waitForReadyRead(100);
            out += cli.readAll();
        }
        if (!out.contains("step-alive"))
            qWarning("%s", out.constData());
        return out.contains("step-alive");
    }
};

QTEST_GUILESS_MAIN(TestBuildFeatures)
#include "test_build_features.moc"

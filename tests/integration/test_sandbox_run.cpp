// RUN in bubblewrap over real overlay snapshots of the real busybox image: logs, exit codes,
// env/cwd/user/hostname, networks, bind/cache/tmpfs/secret mounts, the step's diff as a layer
// (deletions as whiteouts, no mount stubs, no secrets), cancel. Runs as root and, through
// runuser, again as an ordinary user.
#include "base/error.h"
#include "base/files.h"
#include "exec/cache_mount_store.h"
#include "exec/layer_apply.h"
#include "exec/layer_writer.h"
#include "exec/sandbox.h"
#include "exec/snapshot_mode.h"
#include "exec/step_root.h"
#include "oci/content_store.h"
#include "support/fixtures.h"
#include "support/ssh_agent.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <archive.h>
#include <archive_entry.h>
#include <functional>
#include <pwd.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace cachescope;
using namespace cachescope::exec;
namespace fs = std::filesystem;

namespace {

const char* const BusyboxLayer = "d5f73a2c24a8e00a0532678dcd21244da4a03c08a41a383249bdc22c56a34b34";
const char* const TestUser = "cachescope-sbx";

struct Captured {
    std::vector<std::string> out, err;
    std::string joined() const
    {
        std::string s;
        for (const auto& l : out)
            s += l + "\n";
        return s;
    }
};

struct TarEntry {
    std::string name;
    std::uint32_t uid = 0;
};

std::vector<TarEntry> layerEntries(const fs::path& blob)
{
    std::vector<TarEntry> out;
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_open_filename(a, blob.c_str(), 65536);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK)
        out.push_back({archive_entry_pathname(e), static_cast<std::uint32_t>(archive_entry_uid(e))});
    archive_read_free(a);
    return out;
}

bool hasEntry(const std::vector<TarEntry>& entries, const std::string& prefix)
{
    for (const auto& e : entries)
        if (e.name.rfind(prefix, 0) == 0)
            return true;
    return false;
}

} // namespace

class TestSandboxRun : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    fs::path base_;
    fs::path lower_;
    SnapshotMode mode_ = SnapshotMode::Copy;
    OwnerMap owners_;
    int steps_ = 0;

    StepRoot newStep(const Snapshot& parent, std::optional<SnapshotMode> mode = std::nullopt)
    {
        return StepRoot::prepare(parent, base_ / ("step-" + std::to_string(++steps_)), mode.value_or(mode_));
    }
    Snapshot baseSnapshot() const { return Snapshot{{{lower_, WhiteoutFormat::Overlay}}}; }

    Captured run(const ExecSpec& spec, const StepRoot& root, SandboxOptions options = {})
    {
        Captured c;
        options.onLog = [&](LogStream s, std::string_view line) {
            (s == LogStream::Stdout ? c.out : c.err).emplace_back(line);
        };
        try {
            runInSandbox(spec, root, options);
        } catch (const Error& e) {
            std::string all = e.what();
            for (const auto& l : c.err)
                all += "\nstderr: " + l;
            throw Error(all);
        }
        return c;
    }

    static ExecSpec sh(const std::string& script)
    {
        ExecSpec spec;
        spec.args = {"/bin/sh", "-c", script};
        return spec;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        base_ = tmp_.path().toStdString();
        ::chmod(base_.c_str(), 0755);
        mode_ = detectSnapshotMode();
        qInfo("uid %u, snapshot mode: %s", ::geteuid(), std::string(toString(mode_)).c_str());
        if (::geteuid() != 0)
            owners_.hostOwner = Owner{::geteuid(), ::getegid()}; // what the sandbox's root wrote
        lower_ = base_ / "busybox";
        auto blob = test::fixturesDir() / "buildkit-v0.24/base-image/oci/blobs/sha256" / BusyboxLayer;
        auto r = applyLayer(blob, oci::media::OciLayerGzip, oci::Digest::fromHex(BusyboxLayer), lower_);
        QVERIFY(fs::exists(lower_ / "bin/sh"));
        for (const auto& n : r.notes)
            qInfo("apply: %s", n.c_str());
    }

    void cleanupTestCase()
    {
        // Unprivileged, read-only directories of the image would stop QTemporaryDir's cleanup.
        std::function<void(const fs::path&)> writable = [&](const fs::path& dir) {
            ::chmod(dir.c_str(), 0755);
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(dir, ec))
                if (e.is_directory(ec) && !e.is_symlink(ec))
                    writable(e.path());
        };
        writable(base_);
    }

    void outputDiffAndWhiteouts_data()
    {
        QTest::addColumn<int>("mode");
        QTest::newRow("detected") << -1;
        QTest::newRow("copy") << int(SnapshotMode::Copy);
    }

    void outputDiffAndWhiteouts()
    {
        QFETCH(int, mode);
        auto step = mode < 0 ? newStep(baseSnapshot()) : newStep(baseSnapshot(), SnapshotMode(mode));
        auto c = run(sh("echo hello; echo oops >&2; mkdir -p /app && echo data > /app/f && rm /bin/ls"), step);
        QCOMPARE(c.out, std::vector<std::string>{"hello"});
        QCOMPARE(c.err, std::vector<std::string>{"oops"});
        QVERIFY(fs::exists(lower_ / "bin/ls")); // the parent is untouched

        auto diff = step.finish();
        oci::ContentStore store(base_ / "store");
        LayerWriterOptions wo;
        wo.whiteouts = diff.format;
        wo.owners = owners_;
        auto layer = writeLayer(diff.dir, store, wo);
        auto entries = layerEntries(store.blobPath(layer.descriptor.digest));
        QVERIFY(hasEntry(entries, "app/f"));
        QVERIFY(hasEntry(entries, "bin/.wh.ls"));
        for (const auto& e : entries) {
            QVERIFY2(e.name.rfind("etc/hosts", 0) != 0 && e.name.rfind("etc/resolv.conf", 0) != 0 &&
                         e.name.rfind("proc", 0) != 0 && e.name.rfind("dev", 0) != 0,
                     ("mount stub in the layer: " + e.name).c_str());
            if (e.name == "app/f")
                QCOMPARE(e.uid, 0u);
        }
    }

    // 150 lower layers with long paths outgrow one page of mount options: the step's lower becomes
    // one flattened copy; upper layers still win and the diff holds only what the step wrote.
    void deepStackFlattensLowers()
    {
        Snapshot parent = baseSnapshot();
        const fs::path deep = base_ / "deep-stack-of-layers-with-rather-long-directory-names";
        for (int i = 0; i < 150; ++i) {
            const fs::path layer = deep / ("layer-" + std::to_string(i));
            fs::create_directories(layer / "deep");
            writeFileAtomic(layer / "deep" / ("f" + std::to_string(i)), "layer " + std::to_string(i) + "\n");
            if (i == 120)
                writeFileAtomic(layer / "deep" / "f0", "rewritten by 120\n");
            parent = parent.with({layer, WhiteoutFormat::Overlay});
        }
        auto step = newStep(parent);
        auto c = run(sh("cat /deep/f0 /deep/f149; ls /deep | wc -l; echo new > /deep/new"), step);
        QCOMPARE(c.out, (std::vector<std::string>{"rewritten by 120", "layer 149", "150"}));
        auto diff = step.finish();
        QVERIFY(fs::exists(diff.dir / "deep" / "new"));
        QVERIFY(!fs::exists(diff.dir / "deep" / "f0"));
        QVERIFY(!fs::exists(step.flatLowerDir())); // only the mount needed it
    }

    void exitCodeWithCommandAndLog()
    {
        auto step = newStep(baseSnapshot());
        std::string script;
        for (int i = 1; i <= 12; ++i)
            script += "echo line" + std::to_string(i) + "; ";
        script += "exit 3";
        try {
            runInSandbox(sh(script), step);
            QFAIL("exit 3 must fail");
        } catch (const ExecError& e) {
            QCOMPARE(e.exitCode(), 3);
            std::string m = e.what();
            QVERIFY2(m.find("process \"/bin/sh -c echo line1;") != std::string::npos, m.c_str());
            QVERIFY2(m.find("did not complete successfully: exit code: 3") != std::string::npos, m.c_str());
            QVERIFY2(m.find("line12") != std::string::npos && m.find("line3\n") != std::string::npos, m.c_str());
            QVERIFY2(m.find("line2\n") == std::string::npos, m.c_str()); // only the last 10
            QCOMPARE(e.tail().size(), std::size_t(10));
        }
    }

    void envCwdUserHostname()
    {
        // Step 1 adds users; step 2 runs over both layers as them.
        auto add = newStep(baseSnapshot());
        run(sh("echo 'builder:x:1000:1000::/home/builder:/bin/sh' >> /etc/passwd && "
               "echo 'builder:x:1000:' >> /etc/group && echo 'extra:x:2000:builder' >> /etc/group"),
            add);
        Snapshot withUsers = baseSnapshot().with(add.finish());

        auto step = newStep(withUsers);
        ExecSpec spec = sh("id -u; id -g; pwd; hostname; echo \"FOO=$FOO\"; echo \"PATH=$PATH\"; grep buildkitsandbox /etc/hosts; "
                           "grep extra.example /etc/hosts");
        spec.env = {"FOO=bar baz"};
        spec.cwd = "/work/dir";
        spec.user = "builder";
        spec.extraHosts = {{"extra.example", "10.1.2.3"}};
        auto c = run(spec, step);
        QCOMPARE(c.out.size(), std::size_t(8));
        QCOMPARE(c.out[0], std::string("1000"));
        QCOMPARE(c.out[1], std::string("1000"));
        QCOMPARE(c.out[2], std::string("/work/dir"));
        QCOMPARE(c.out[3], std::string("buildkitsandbox"));
        QCOMPARE(c.out[4], std::string("FOO=bar baz"));
        QCOMPARE(c.out[5], std::string("PATH=") + DefaultPath);
        QCOMPARE(c.out[6], std::string("127.0.0.1\tlocalhost buildkitsandbox"));
        QCOMPARE(c.out[7], std::string("10.1.2.3\textra.example"));
        QVERIFY(fs::exists(step.finish().dir / "work/dir")); // the created cwd is part of the diff

        auto numeric = newStep(withUsers);
        ExecSpec spec2 = sh("id -u; id -g; hostname; touch /tmp/mine && stat -c %u:%g /tmp/mine");
        spec2.user = "1234:5678";
        spec2.hostname = "custom-host";
        auto c2 = run(spec2, numeric);
        QCOMPARE(c2.out, (std::vector<std::string>{"1234", "5678", "custom-host", "1234:5678"}));
        if (::geteuid() == 0) {
            struct stat st {};
            QCOMPARE(::lstat((numeric.finish().dir / "tmp/mine").c_str(), &st), 0);
            QCOMPARE(st.st_uid, uid_t(1234)); // really the user's file on disk
        }

        QVERIFY_THROWS_EXCEPTION(Error, runInSandbox([] {
            ExecSpec s = sh("true");
            s.user = "nosuchuser";
            return s;
        }(), newStep(withUsers)));
    }

    void rootCanChown()
    {
        auto step = newStep(baseSnapshot());
        auto c = run(sh("touch /f && chown 42:43 /f 2>/dev/null; stat -c %u:%g /f && id -u"), step);
        if (::geteuid() == 0) {
            QCOMPARE(c.out, (std::vector<std::string>{"42:43", "0"}));
        } else {
            // One mapped id only (no newuidmap/subuids): RUN's root cannot give files away.
            QCOMPARE(c.out, (std::vector<std::string>{"0:0", "0"}));
        }
    }

    void networkModes()
    {
        auto step = newStep(baseSnapshot());
        ExecSpec none = sh("grep : /proc/net/dev | cut -d: -f1 | tr -d ' '");
        none.network = NetworkMode::None;
        QCOMPARE(run(none, step).out, std::vector<std::string>{"lo"});

        ExecSpec host = none;
        host.network = NetworkMode::Default;
        auto c = run(host, newStep(baseSnapshot()));
        QVERIFY2(c.out.size() > 1, c.joined().c_str()); // the host's interfaces
    }

    void bindMountReadOnly()
    {
        fs::path src = base_ / "bind-src";
        fs::create_directories(src);
        writeFileAtomic(src / "file", "from host");
        ::chmod(src.c_str(), 0755);
        ::chmod((src / "file").c_str(), 0644);
        auto step = newStep(baseSnapshot());
        ExecSpec spec = sh("cat /mnt/src/file; echo; if touch /mnt/src/new 2>/dev/null; then echo writable; else echo read-only; fi");
        spec.mounts.push_back(BindMount{src, "/mnt/src", true});
        QCOMPARE(run(spec, step).out, (std::vector<std::string>{"from host", "read-only"}));
        QVERIFY(!fs::exists(src / "new"));

        auto rwStep = newStep(baseSnapshot());
        ExecSpec rw = sh("echo changed > /mnt/src/file && cat /mnt/src/file");
        rw.mounts.push_back(BindMount{src, "/mnt/src", false});
        QCOMPARE(run(rw, rwStep).out, std::vector<std::string>{"changed"});
        QCOMPARE(readFile(src / "file"), std::string("from host")); // writes are discarded
        auto diff = rwStep.finish();
        QVERIFY(!fs::exists(diff.dir / "mnt")); // the mount point stub is gone
    }

    void cacheMountPersists()
    {
        CacheMountStore caches(base_ / "cache-mounts");
        SandboxOptions options;
        options.cacheMounts = &caches;
        ExecSpec spec = sh("echo run >> /root/.cache/count; wc -l < /root/.cache/count");
        spec.mounts.push_back(CacheMount{"go-build", "/root/.cache", CacheSharing::Locked, false, {}, 0755});
        auto s1 = newStep(baseSnapshot());
        QCOMPARE(run(spec, s1, options).out, std::vector<std::string>{"1"});
        auto s2 = newStep(baseSnapshot());
        QCOMPARE(run(spec, s2, options).out, std::vector<std::string>{"2"});
        QVERIFY(!fs::exists(s2.finish().dir / "root/.cache")); // not in the layer

        // Private: a second holder gets a fresh, empty directory.
        auto held = caches.acquire("go-build", CacheSharing::Locked);
        ExecSpec priv = sh("ls /root/.cache | wc -l");
        priv.mounts.push_back(CacheMount{"go-build", "/root/.cache", CacheSharing::Private, false, {}, 0755});
        QCOMPARE(run(priv, newStep(baseSnapshot()), options).out, std::vector<std::string>{"0"});
    }

    void tmpfsMount()
    {
        auto step = newStep(baseSnapshot());
        ExecSpec spec = sh("grep ' /scratch ' /proc/mounts | cut -d' ' -f1,3; echo x > /scratch/f && cat /scratch/f");
        spec.mounts.push_back(TmpfsMount{"/scratch", 16 << 20});
        QCOMPARE(run(spec, step).out, (std::vector<std::string>{"tmpfs tmpfs", "x"}));
        QVERIFY(!fs::exists(step.finish().dir / "scratch"));
    }

    void secretMount()
    {
        fs::path secret = base_ / "secret.txt";
        writeFileAtomic(secret, "s3cr3t");
        auto step = newStep(baseSnapshot());
        ExecSpec spec = sh("cat /run/secrets/token; echo; stat -c %a /run/secrets/token; echo \"env=$TOKEN\"; cat /etc/api-key");
        spec.mounts.push_back(SecretMount{"token", secret, "", "", 0400, {}, true, std::nullopt});
        spec.mounts.push_back(SecretMount{"token-env", secret, "", "TOKEN", 0400, {}, true, std::nullopt});
        spec.mounts.push_back(SecretMount{"key", secret, "/etc/api-key", "", 0444, {}, true, std::nullopt});
        auto c = run(spec, step);
        QCOMPARE(c.out, (std::vector<std::string>{"s3cr3t", "400", "env=s3cr3t", "s3cr3t"}));
        auto diff = step.finish();
        oci::ContentStore store(base_ / "store");
        LayerWriterOptions wo;
        wo.whiteouts = diff.format;
        auto layer = writeLayer(diff.dir, store, wo);
        auto entries = layerEntries(store.blobPath(layer.descriptor.digest));
        QVERIFY(!hasEntry(entries, "run"));
        QVERIFY(!hasEntry(entries, "etc/api-key"));
        QVERIFY(fs::is_empty(step.dir() / "upper") || !fs::exists(step.dir() / "upper/run"));

        ExecSpec missing = sh("true");
        missing.mounts.push_back(SecretMount{"absent", base_ / "nope", "", "", 0400, {}, true, std::nullopt});
        QVERIFY_THROWS_EXCEPTION(Error, runInSandbox(missing, newStep(baseSnapshot())));
    }

    // A real ssh-agent behind the relay: the RUN sees a socket with the mount's mode, owned by its
    // root, at the target; the mount point does not stay in the step's diff.
    void sshAgentMount()
    {
        const fs::path sock = base_ / ("agent-" + std::to_string(::getpid()) + ".sock");
        std::optional<test::SshAgent> agent(std::in_place);
        QVERIFY2(agent->start(sock), "ssh-agent (openssh-client) is required");
        auto step = newStep(baseSnapshot());
        ExecSpec spec = sh("test -S \"$SSH_AUTH_SOCK\" && stat -c '%u:%g:%a' \"$SSH_AUTH_SOCK\"");
        spec.env = {"SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"};
        spec.mounts.push_back(SshMount{"default", sock, "/run/buildkit/ssh_agent.0", 0600, {}, true});
        const auto c = run(spec, step);
        QCOMPARE(c.out, std::vector<std::string>{"0:0:600"});
        auto diff = step.finish();
        oci::ContentStore store(base_ / "store");
        LayerWriterOptions wo;
        wo.whiteouts = diff.format;
        const auto layer = writeLayer(diff.dir, store, wo);
        QVERIFY(!hasEntry(layerEntries(store.blobPath(layer.descriptor.digest)), "run/buildkit"));
        agent.reset();

        // An agent that is gone is named before the RUN starts.
        ExecSpec dead = sh("true");
        dead.mounts.push_back(SshMount{"default", sock, "/run/buildkit/ssh_agent.0", 0600, {}, true});
        try {
            runInSandbox(dead, newStep(baseSnapshot()));
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(sock.string()) != std::string::npos, e.what());
        }
    }

    void cancelKillsTheSandbox()
    {
        auto step = newStep(baseSnapshot());
        std::stop_source stop;
        SandboxOptions options;
        options.cancel = stop.get_token();
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            stop.request_stop();
        });
        auto started = std::chrono::steady_clock::now();
        try {
            runInSandbox(sh("sleep 30 & sleep 30; echo never"), step, options);
            canceller.join();
            QFAIL("a cancelled run must fail");
        } catch (const Error& e) {
            canceller.join();
            QVERIFY2(std::string(e.what()).find("cancelled") != std::string::npos, e.what());
        }
        QVERIFY(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    }

    void asOrdinaryUser()
    {
        if (::geteuid() != 0)
            QSKIP("already running as an ordinary user");
        if (!getpwnam(TestUser)) {
            QProcess useradd;
            useradd.start("useradd", {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TestUser});
            QVERIFY(useradd.waitForFinished(30000));
            QCOMPARE(useradd.exitCode(), 0);
        }
        QVERIFY(getpwnam(TestUser));
        QProcess child;
        child.setProcessChannelMode(QProcess::MergedChannels);
        child.setWorkingDirectory("/tmp");
        QStringList args = {"-u", TestUser, "--", QCoreApplication::applicationFilePath()};
        for (const char* f : {"outputDiffAndWhiteouts", "exitCodeWithCommandAndLog", "envCwdUserHostname",
                              "rootCanChown", "networkModes", "bindMountReadOnly", "cacheMountPersists", "tmpfsMount",
                              "secretMount", "sshAgentMount", "cancelKillsTheSandbox"})
            args << f;
        child.start("runuser", args);
        QVERIFY(child.waitForFinished(300000));
        const QByteArray output = child.readAll();
        qInfo("%s", output.constData());
        QVERIFY2(child.exitCode() == 0, output.constData());
        QVERIFY(output.contains("snapshot mode: overlay in user namespace"));
    }
};

QTEST_GUILESS_MAIN(TestSandboxRun)
#include "test_sandbox_run.moc"

// Real builds of the BuildKit v0.24 fixtures: cold (every step runs, RUN output as BuildKit printed
// it), rebuilt from the persistent local store (all CACHED from local), and interop with BuildKit's
// own cache exports (exactly the steps BuildKit ran run here; the image files equal a cold build's).
#include "base/error.h"
#include "build/build_session.h"
#include "cache/cache_export_spec.h"
#include "cache/cache_spec.h"
#include "exec/layer_apply.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"
#include "support/tree_snapshot.h"

#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

using namespace cachescope;
namespace fs = std::filesystem;

namespace {

fs::path fixtureDir(const std::string& name)
{
    return test::fixturesDir() / "buildkit-v0.24" / name;
}

struct Run {
    build::BuildResult result;
    std::vector<std::string> logs; // every RUN output line
    std::map<int, std::string> cachedFrom;
};

Run runBuild(const fs::path& context, const fs::path& dataDir, std::vector<cache::CacheSpec> cacheFrom = {},
             const fs::path& outDir = {}, std::stop_token cancel = {},
             std::function<void(const build::BuildEvent&)> also = {}, const std::string& cacheTo = {},
             const std::string& target = {}, const std::string& baseImage = {})
{
    build::BuildOptions o;
    o.contextDir = context;
    o.dataDir = dataDir;
    o.buildContexts["127.0.0.1:5055/library/busybox:latest"] =
        "oci-layout://" + (fixtureDir("base-image") / "oci").string() + ":latest";
    o.cacheFrom = std::move(cacheFrom);
    if (!outDir.empty())
        o.outputs.push_back(build::OutputSpec{"oci", outDir, "latest"});
    if (!baseImage.empty())
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] = baseImage;
    o.cancel = cancel;
    o.target = target;
    if (!cacheTo.empty())
        o.cacheTo.push_back(cache::parseCacheExportSpec(cacheTo));
    Run r;
    build::BuildSession session(o, [&](const build::BuildEvent& e) {
        if (const auto* l = std::get_if<build::StepLog>(&e))
            r.logs.push_back(l->line);
        if (const auto* c = std::get_if<build::StepCached>(&e))
            r.cachedFrom[c->vertex] = c->source;
        if (also)
            also(e);
    });
    r.result = session.run();
    return r;
}

bool isFrom(const build::StepOutcome& s)
{
    return s.name.find(" FROM ") != std::string::npos;
}

// The files of the image in an OCI layout, unpacked in layer order.
std::map<std::string, std::string> imageTree(const fs::path& layoutDir, const fs::path& scratch)
{
    const oci::OciLayout layout = oci::OciLayout::open(layoutDir);
    const auto top = layout.findTag("latest");
    if (!top)
        throw Error(layoutDir.string() + ": no latest tag");
    const oci::Manifest m = oci::Manifest::parse(layout.blobs().read(top->digest), "manifest");
    fs::create_directories(scratch);
    for (const auto& l : m.layers)
        exec::applyLayer(layout.blobs().blobPath(l.digest), l.mediaType, l.digest, scratch);
    auto tree = test::describeTree(scratch);
    // mtimes of files a RUN or COPY wrote differ between builds; compare type, mode, owner, content.
    for (auto& [path, line] : tree)
        line = std::regex_replace(line, std::regex(" mtime=[^ ]*"), "");
    return tree;
}

// Process output lines of a BuildKit plain log ("#8 0.049 combined: 12 bytes").
std::vector<std::string> fixtureOutput(const fs::path& log)
{
    std::ifstream in(log);
    std::vector<std::string> out;
    std::string line;
    const std::regex re(R"(^#\d+ \d+\.\d+ (.*)$)");
    std::smatch m;
    while (std::getline(in, line))
        if (std::regex_match(line, m, re))
            out.push_back(m[1]);
    return out;
}

// step name -> "DONE" (ran) | "CACHED" for one run of step-status.tsv (FROM rows left out).
std::map<std::string, std::string> fixtureStatus(const std::string& fixture, const std::string& run)
{
    std::ifstream in(fixtureDir(fixture) / "step-status.tsv");
    std::map<std::string, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::size_t pos = 0;
        while (true) {
            const auto tab = line.find('\t', pos);
            f.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
            if (tab == std::string::npos)
                break;
            pos = tab + 1;
        }
        // DONE with a cache hit in the raw events is a hit whose layers were pulled (remote caches).
        if (f.size() >= 3 && f[0] == run && f[2] != "FROM")
            out[f[1]] = f[2] == "DONE" && f.size() >= 5 && f[4] == "true" ? "CACHED" : f[2];
    }
    return out;
}

} // namespace

class TestBuildFixtures : public QObject {
    Q_OBJECT

    QTemporaryDir home_;

    fs::path fresh(const QString& name) { return test::freshDir(home_.path(), name.toStdString()); }

private slots:
    void initTestCase()
    {
        QVERIFY(home_.isValid());
        qputenv("XDG_DATA_HOME", QByteArray::fromStdString(home_.path().toStdString() + "/xdg"));
        if (!fs::exists("/usr/bin/bwrap"))
            QFAIL("bubblewrap (/usr/bin/bwrap) is required for builds");
    }

    void coldThenCached_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::newRow("01") << "01-single-stage";
        QTest::newRow("02") << "02-multi-stage";
        QTest::newRow("03") << "03-build-args";
        QTest::newRow("04") << "04-scratch-copy";
    }

    void coldThenCached()
    {
        QFETCH(QString, fixture);
        const std::string fx = fixture.toStdString();
        const fs::path data = fresh("cold-" + fixture);
        const fs::path context = fixtureDir(fx) / "context";

        const Run cold = runBuild(context, data, {}, data / "out-cold");
        QVERIFY2(cold.result.ok, cold.result.error.c_str());
        for (const auto& s : cold.result.steps)
            QVERIFY2(s.state == build::StepOutcome::State::Ran, ("cold build did not run " + s.name).c_str());
        // RUN output as BuildKit printed it.
        for (const auto& expected : fixtureOutput(fixtureDir(fx) / "logs" / "cold-noexport.plain.txt")) {
            bool found = false;
            for (const auto& l : cold.logs)
                found = found || l == expected;
            QVERIFY2(found, ("RUN output line missing: \"" + expected + "\"").c_str());
        }

        const Run again = runBuild(context, data, {}, data / "out-again");
        QVERIFY2(again.result.ok, again.result.error.c_str());
        QCOMPARE(again.result.stepsRun(), std::size_t(0));
        bool servedByLocal = false;
        for (const auto& s : again.result.steps) {
            if (isFrom(s))
                continue;
            QVERIFY2(s.state == build::StepOutcome::State::Cached || s.state == build::StepOutcome::State::NotEvaluated,
                     ("rebuild ran " + s.name).c_str());
            servedByLocal = servedByLocal || (s.state == build::StepOutcome::State::Cached && s.source == "local");
        }
        QVERIFY2(servedByLocal, "no step was served by the local store");
        QCOMPARE(again.result.finalDiffIds, cold.result.finalDiffIds);
        const auto a = imageTree(data / "out-cold", data / "tree-cold");
        const auto b = imageTree(data / "out-again", data / "tree-again");
        QVERIFY2(test::treeDifference(a, b).empty(), test::treeDifference(a, b).c_str());
        if (fx == "01-single-stage") {
            QVERIFY(a.count("app/combined.txt"));
            QVERIFY(a.count("app/sizes.txt"));
        }
    }

    void interop_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("contextName");
        QTest::addColumn<QString>("run");
        QTest::newRow("01") << "01-single-stage" << "context-modified" << "modified-import-local-max";
        QTest::newRow("02") << "02-multi-stage" << "context-modified" << "modified-import-local-max";
        QTest::newRow("02-same-output") << "02-multi-stage" << "context-modified-same-output"
                                        << "modified-same-output-import-local-max";
        QTest::newRow("03") << "03-build-args" << "context-modified" << "modified-import-local-max";
        QTest::newRow("04") << "04-scratch-copy" << "context-modified" << "modified-import-local-max";
    }

    void interop()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, contextName);
        QFETCH(QString, run);
        const std::string fx = fixture.toStdString();
        const fs::path context = fixtureDir(fx) / contextName.toStdString();
        const auto expected = fixtureStatus(fx, run.toStdString());
        QVERIFY2(!expected.empty(), "no such run in step-status.tsv");

        const fs::path data = fresh("interop-" + fixture + contextName);
        const auto specs =
            cache::parseCacheSpecs("type=local,src=" + (fixtureDir(fx) / "cache" / "local-max").string());
        const Run r = runBuild(context, data, specs, data / "out");
        QVERIFY2(r.result.ok, r.result.error.c_str());
        for (const auto& s : r.result.steps) {
            if (isFrom(s))
                continue;
            const auto it = expected.find(s.name);
            QVERIFY2(it != expected.end(), ("step not in the fixture: " + s.name).c_str());
            const bool ran = s.state == build::StepOutcome::State::Ran;
            QVERIFY2(ran == (it->second == "DONE"),
                     (s.name + ": BuildKit " + it->second + ", CacheScope " + (ran ? "ran it" : "CACHED")).c_str());
        }
        // The image equals a cold build of the same context.
        const fs::path coldData = fresh("interop-cold-" + fixture + contextName);
        const Run cold = runBuild(context, coldData, {}, coldData / "out");
        QVERIFY2(cold.result.ok, cold.result.error.c_str());
        const auto a = imageTree(coldData / "out", coldData / "tree");
        const auto b = imageTree(data / "out", data / "tree");
        QVERIFY2(test::treeDifference(a, b).empty(), test::treeDifference(a, b).c_str());
    }

    void roundTrip_data() { coldThenCached_data(); }

    // Cold with --cache-to type=local,mode=max, then a fresh store importing that export: every step
    // CACHED, the same image.
    void roundTrip()
    {
        QFETCH(QString, fixture);
        const std::string fx = fixture.toStdString();
        const fs::path context = fixtureDir(fx) / "context";
        const fs::path exportDir = fresh("rt-export-" + fixture);
        const Run cold = runBuild(context, fresh("rt-cold-" + fixture), {}, {}, {}, {},
                                  "type=local,dest=" + exportDir.string() + ",mode=max");
        QVERIFY2(cold.result.ok, cold.result.error.c_str());
        QCOMPARE(cold.result.cacheExports.size(), std::size_t(1));
        QVERIFY(fs::exists(exportDir / "index.json"));
        // The same cache keys as BuildKit's export of the same cold build, content keys of COPY
        // sources included.
        const auto recordDigests = [](const test::FixtureCache& c) {
            std::set<std::string> out;
            for (const auto& r : nlohmann::json::parse(c.configBytes).at("records"))
                out.insert(r.at("digest").get<std::string>());
            return out;
        };
        QCOMPARE(recordDigests(test::loadCacheLayout(exportDir, "latest")),
                 recordDigests(test::loadFixtureCache(fx, "local-max")));
        const fs::path data = fresh("rt-import-" + fixture);
        const Run warm = runBuild(context, data, cache::parseCacheSpecs("type=local,src=" + exportDir.string()),
                                  data / "out");
        QVERIFY2(warm.result.ok, warm.result.error.c_str());
        QCOMPARE(warm.result.stepsRun(), std::size_t(0));
        for (const auto& s : warm.result.steps)
            if (!isFrom(s))
                QVERIFY2(s.state != build::StepOutcome::State::Ran, ("ran " + s.name).c_str());
        QCOMPARE(warm.result.finalDiffIds, cold.result.finalDiffIds);
    }

    // cachescope-cli build: buildx-like plain progress, then all CACHED from the local store; compare.
    void cli()
    {
        const fs::path xdg = fresh("cli-xdg");
        const QString base = QString::fromStdString("127.0.0.1:5055/library/busybox:latest=oci-layout://" +
                                                    (fixtureDir("base-image") / "oci").string() + ":latest");
        const QString context = QString::fromStdString((fixtureDir("01-single-stage") / "context").string());
        auto run = [&](const QStringList& args, int& exitCode) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("XDG_DATA_HOME", QString::fromStdString(xdg.string()));
            p.setProcessEnvironment(env);
            p.start(CACHESCOPE_CLI, args);
            p.waitForFinished(300000);
            exitCode = p.exitCode();
            return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        };
        int rc = -1;
        const QString cold = run({"build", "--build-context", base, "--progress", "plain", context}, rc);
        QVERIFY2(rc == 0, qPrintable(cold));
        QVERIFY2(QRegularExpression("#4 \\d+\\.\\d+ combined: 12 bytes\n").match(cold).hasMatch(), qPrintable(cold));
        QVERIFY2(cold.contains("#6 DONE "), qPrintable(cold));
        const QString warm = run({"build", "--build-context", base, context}, rc);
        QVERIFY2(rc == 0, qPrintable(warm));
        QVERIFY2(!warm.contains(" DONE "), qPrintable(warm));
        QCOMPARE(warm.count("CACHED"), 6);

        const QString report = QString::fromStdString((xdg / "compare.json").string());
        const QString cmp = run({"compare", "--build-context", base, "--cache-from",
                                 QString::fromStdString("type=local,src=" +
                                                        (fixtureDir("01-single-stage") / "cache" / "local-max").string()),
                                 "--runs", "1", "--report", report, context},
                                rc);
        QVERIFY2(rc == 0, qPrintable(cmp));
        QVERIFY2(cmp.contains("ratio b/a"), qPrintable(cmp));
        QFile f(report);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(j["withImport"].toObject()["samples"].toArray().size(), 1);
        QCOMPARE(j["withImport"].toObject()["samples"].toArray()[0].toObject()["stepsRun"].toInt(), 0);
        QCOMPARE(j["withoutImport"].toObject()["samples"].toArray()[0].toObject()["stepsRun"].toInt(), 5);
        QVERIFY(j.contains("verdict"));

        // --progress json: one event object per line.
        const QString json = run({"build", "--build-context", base, "--progress", "json", context}, rc);
        QVERIFY2(rc == 0, qPrintable(json));
        QStringList events;
        for (const QString& line : json.split('\n', Qt::SkipEmptyParts)) {
            const QJsonObject e = QJsonDocument::fromJson(line.toUtf8()).object();
            QVERIFY2(e.contains("event"), qPrintable(line));
            events << e["event"].toString();
        }
        QVERIFY(events.contains("StepPlanned"));
        QVERIFY(events.contains("StepCached"));
        QCOMPARE(events.last(), QString("BuildFinished"));

        // Bad input names it.
        const QString bad = run({"build", "--output", "type=tar", context}, rc);
        QCOMPARE(rc, 2);
        QVERIFY2(bad.contains("type=tar"), qPrintable(bad));
    }

    // File semantics against BuildKit itself: a cold build here and BuildKit's own layers (every step
    // served from its export of the same context) give the same files, types, modes, owners and
    // contents: COPY --chown by name / ids / name:group, --chmod octal and symbolic, --link, wildcards,
    // directory sources, WORKDIR under a USER, heredocs, ADD of .tar/.tar.gz, RUN as a non-root USER.
    void catalogueFilesEqualBuildKit_data()
    {
        QTest::addColumn<QString>("caseName");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("ignored"); // a file whose bytes hold build times
        QTest::newRow("01-run-variants") << "01-run-variants" << "" << "";
        QTest::newRow("04-heredocs") << "04-heredocs" << "" << "";
        QTest::newRow("05-copy-add-flags") << "05-copy-add-flags" << "" << "";
        QTest::newRow("06-multi-stage") << "06-multi-stage" << "final" << "dst.txt";
        QTest::newRow("09-misc") << "09-misc" << "" << "";
    }

    void catalogueFilesEqualBuildKit()
    {
        QFETCH(QString, caseName);
        QFETCH(QString, target);
        QFETCH(QString, ignored);
        const fs::path dir = fixtureDir("catalogue") / caseName.toStdString();
        const fs::path ours = fresh("cat-ours-" + caseName);
        const Run cold = runBuild(dir / "context", ours, {}, ours / "out", {}, {}, {}, target.toStdString());
        QVERIFY2(cold.result.ok, cold.result.error.c_str());
        QVERIFY(cold.result.stepsRun() > 0);
        const fs::path theirs = fresh("cat-bk-" + caseName);
        const Run bk = runBuild(dir / "context", theirs,
                                cache::parseCacheSpecs("type=local,src=" + (dir / "export-local-max").string()),
                                theirs / "out", {}, {}, {}, target.toStdString());
        QVERIFY2(bk.result.ok, bk.result.error.c_str());
        QCOMPARE(bk.result.stepsRun(), std::size_t(0));
        auto a = imageTree(ours / "out", ours / "tree");
        auto b = imageTree(theirs / "out", theirs / "tree");
        QVERIFY2(a.size() > 10, qPrintable(QString::number(a.size())));
        if (!ignored.isEmpty()) {
            QVERIFY(a.erase(ignored.toStdString()) == 1);
            QVERIFY(b.erase(ignored.toStdString()) == 1);
        }
        QVERIFY2(test::treeDifference(a, b).empty(), test::treeDifference(a, b).c_str());
    }

    // Over the wire: the base image from a real registry (docker-image://) and BuildKit's registry
    // cache export of each fixture, pushed to it; the modified context runs exactly what BuildKit ran.
    void registryInterop()
    {
        test::RegistryLauncher registry;
        QVERIFY2(registry.start(), qPrintable(registry.errorString()));
        registry::RegistryClient client(registry.host());
        registry::pushLayoutTag(client, oci::OciLayout::open(fixtureDir("base-image") / "oci"), "latest",
                                "library/busybox", "latest");
        const std::string base = "docker-image://" + registry.host() + "/library/busybox:latest";
        for (const std::string fx : {"01-single-stage", "02-multi-stage"}) {
            const std::string tag = test::variantTag("registry-max");
            registry::pushLayoutTag(client, oci::OciLayout::open(test::cacheVariant(fx, "registry-max")), tag,
                                    "ref/" + fx, tag);
            const auto expected = fixtureStatus(fx, "modified-import-registry-max");
            QVERIFY(!expected.empty());
            const fs::path data = fresh(QString::fromStdString("reg-" + fx));
            const Run r = runBuild(fixtureDir(fx) / "context-modified", data,
                                   cache::parseCacheSpecs("type=registry,ref=" + registry.host() + "/ref/" + fx + ":" + tag),
                                   data / "out", {}, {}, {}, {}, base);
            QVERIFY2(r.result.ok, r.result.error.c_str());
            QVERIFY(r.result.bytesPulled > 0);
            for (const auto& s : r.result.steps) {
                if (isFrom(s))
                    continue;
                const auto it = expected.find(s.name);
                QVERIFY2(it != expected.end(), ("step not in the fixture: " + s.name).c_str());
                const bool ran = s.state == build::StepOutcome::State::Ran;
                QVERIFY2(ran == (it->second == "DONE"), (fx + " " + s.name + ": BuildKit " + it->second).c_str());
            }
            const fs::path cold = fresh(QString::fromStdString("reg-cold-" + fx));
            const Run c = runBuild(fixtureDir(fx) / "context-modified", cold, {}, cold / "out");
            QVERIFY2(c.result.ok, c.result.error.c_str());
            const auto a = imageTree(cold / "out", cold / "tree");
            const auto b = imageTree(data / "out", data / "tree");
            QVERIFY2(test::treeDifference(a, b).empty(), test::treeDifference(a, b).c_str());
        }

        // --output type=registry: the image is pushed (blobs, then the manifest under its tag).
        build::BuildOptions o;
        o.contextDir = fixtureDir("01-single-stage") / "context";
        o.dataDir = fresh("reg-push");
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] = base;
        o.outputs.push_back(build::parseOutputSpec("type=registry,name=" + registry.host() + "/built/app:v1"));
        const build::BuildResult pushed = build::BuildSession(o).run();
        QVERIFY2(pushed.ok, pushed.error.c_str());
        const auto manifest = client.getManifest("built/app", "v1");
        QCOMPARE(manifest.descriptor.digest.str(), pushed.imageManifest);
        const oci::Manifest m = oci::Manifest::parse(manifest.bytes, "pushed manifest");
        QCOMPARE(m.layers.size(), pushed.finalDiffIds.size());
        for (const auto& l : m.layers)
            QVERIFY(client.headBlob("built/app", l.digest).has_value());
    }

    void failingRunFailsTheBuild()
    {
        const fs::path ctx = fresh("failing-context");
        std::ofstream(ctx / "Dockerfile") << "FROM 127.0.0.1:5055/library/busybox:latest\n"
                                             "RUN echo about to fail && exit 3\n";
        const Run r = runBuild(ctx, fresh("failing-data"));
        QVERIFY(!r.result.ok);
        QCOMPARE(r.result.exitCode, 3);
        QVERIFY2(r.result.error.find("exit code: 3") != std::string::npos, r.result.error.c_str());
        bool logged = false;
        for (const auto& l : r.result.logTail)
            logged = logged || l.find("about to fail") != std::string::npos;
        QVERIFY(logged);
    }

    void badInputNamesIt()
    {
        const Run r = runBuild("/nonexistent/ctx", fresh("bad-data"));
        QVERIFY(!r.result.ok);
        QVERIFY2(r.result.error.find("/nonexistent/ctx") != std::string::npos, r.result.error.c_str());
    }

    void cancelLeavesStoreUsable()
    {
        const fs::path data = fresh("cancel-data");
        const fs::path context = fixtureDir("01-single-stage") / "context";
        std::stop_source stop;
        const Run cancelled = runBuild(context, data, {}, {}, stop.get_token(), [&](const build::BuildEvent& e) {
            // Cancel as soon as the first RUN starts.
            if (const auto* s = std::get_if<build::StepStarted>(&e); s && s->vertex >= 4)
                stop.request_stop();
        });
        QVERIFY(!cancelled.result.ok);
        QVERIFY2(cancelled.result.error.find("cancel") != std::string::npos, cancelled.result.error.c_str());
        const Run after = runBuild(context, data);
        QVERIFY2(after.result.ok, after.result.error.c_str());
        // The steps that finished before the cancel are in the store.
        QVERIFY(after.result.stepsCached() > 0);
    }
};

QTEST_GUILESS_MAIN(TestBuildFixtures)
#include "test_build_fixtures.moc"

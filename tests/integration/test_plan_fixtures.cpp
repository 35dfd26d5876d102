// The dry run against BuildKit's own outcomes: for every fixture and every run in its step-status.tsv
// (cold-*, import-*, modified-import-*, modified-same-output-import-*, buildarg-*), the planned hit or
// miss of every step equals what BuildKit v0.24 did (a hit is CACHED, or DONE with rawjson_cached_ever
// = true; FROM rows are not steps). Registry and inline variants, and the base image, are served by a
// real docker-registry; the Dockerfiles' 127.0.0.1:5055/library/busybox:latest is mapped to it with a
// docker-image:// named context (same manifest digest). rebuild-same-daemon is planned against the local
// store of a real cold build of the same context (BuildKit's daemon-local state): every step from "local".
//
// Steps whose outcome depends on executing a builder stage (COPY --from after a builder that misses)
// are not guessed: they must be reported as depending on the stage output.
#include "base/error.h"
#include "base/files.h"
#include "build/build_session.h"
#include "build/local_store.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/registry_client.h"
#include "solver/dry_run.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>


using namespace cachescope;
namespace fs = std::filesystem;

namespace {

fs::path bk() { return test::fixturesDir() / "buildkit-v0.24"; }

struct Row {
    std::string step;
    bool hit = false;
};

// run -> rows, in file order
std::map<std::string, std::vector<Row>> readStatus(const std::string& fixture)
{
    std::map<std::string, std::vector<Row>> runs;
    for (const auto& f : test::readTsv(bk() / fixture / "step-status.tsv")) {
        if (f.size() < 5 || f[0] == "run" || f[2] == "FROM")
            continue;
        runs[f[0]].push_back(Row{f[1], f[2] == "CACHED" || (f[2] == "DONE" && f[4] == "true")});
    }
    return runs;
}

const std::vector<std::string> kWireVariants = {"registry-min", "registry-max", "registry-max-index", "inline-image"};

// The cache variant behind a run's import ("local-max", "inline" -> "inline-image", …); empty for cold runs.
std::string variantOf(const std::string& run)
{
    const auto at = run.find("import-");
    if (at == std::string::npos)
        return {};
    std::string v = run.substr(at + 7);
    return v == "inline" ? "inline-image" : v;
}

std::string changedSource(const std::string& fixture)
{
    if (fixture == "01-single-stage")
        return "c.txt";
    if (fixture == "02-multi-stage")
        return "src/";
    if (fixture == "03-build-args")
        return "name.txt";
    return "data/";
}

} // namespace

class TestPlanFixtures : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY2(registry_.start(), qPrintable(registry_.errorString()));
        registry::RegistryClient client(registry_.host());
        registry::pushLayoutTag(client, oci::OciLayout::open(bk() / "base-image" / "oci"), "latest", "library/busybox",
                                "latest");
        for (const auto& fixture : test::fixtureNames())
            for (const auto& variant : kWireVariants) {
                const std::string tag = test::variantTag(variant);
                registry::pushLayoutTag(client, oci::OciLayout::open(test::cacheVariant(fixture, variant)), tag,
                                        "ref/" + fixture, tag);
            }
    }

    void matchesBuildKit_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("run");
        for (const auto& fixture : test::fixtureNames())
            for (const auto& [run, rows] : readStatus(fixture)) {
                QTest::newRow((fixture + "/" + run).c_str())
                    << QString::fromStdString(fixture) << QString::fromStdString(run);
            }
    }

    void matchesBuildKit()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, run);
        const std::string fx = fixture.toStdString(), r = run.toStdString();
        const auto rows = readStatus(fx).at(r);

        solver::DryRunOptions o;
        o.contextDir = bk() / fx /
                       (r.starts_with("modified-same-output") ? "context-modified-same-output"
                        : r.starts_with("modified")           ? "context-modified"
                                                              : "context");
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] =
            "docker-image://" + registry_.host() + "/library/busybox:latest";
        if (r.starts_with("buildarg-GREETING"))
            o.buildArgs["GREETING"] = "hi";
        if (r.starts_with("buildarg-UNUSED"))
            o.buildArgs["UNUSED"] = "y";
        std::string spec;
        if (const std::string v = variantOf(r); !v.empty()) {
            const std::string tag = test::variantTag(v);
            spec = v.starts_with("local-") ? "type=local,src=" + test::cacheVariant(fx, v).string() + ",tag=" + tag
                                           : "type=registry,ref=" + registry_.host() + "/ref/" + fx + ":" + tag;
            o.cacheFrom.push_back(cache::parseCacheSpec(spec));
        }
        std::optional<build::LocalStore> local;
        if (r == "rebuild-same-daemon") {
            // The same build again on the same machine: a real cold build fills the local store first.
            const fs::path data = fs::path(data_.path().toStdString()) / ("daemon-" + fx);
            build::BuildOptions b;
            b.contextDir = o.contextDir;
            b.dataDir = data;
            b.buildContexts = o.buildContexts;
            const build::BuildResult cold = build::BuildSession(b).run();
            QVERIFY2(cold.ok, cold.error.c_str());
            local.emplace(data);
            o.dataDir = data;
            spec = "local";
        }
        const solver::DryRunReport report = solver::dryRun(o, local ? &*local : nullptr);
        for (const auto& s : report.sources)
            QVERIFY2(s.ok, s.error.c_str());

        int compared = 0, depends = 0;
        for (const Row& row : rows) {
            const auto it = std::find_if(report.steps.begin(), report.steps.end(),
                                         [&](const solver::StepResult& s) { return s.name == row.step; });
            QVERIFY2(it != report.steps.end(), ("no planned step named " + row.step).c_str());
            if (it->dependsOnStage) {
                // Only a COPY --from after a builder that must run (and what follows it) may depend.
                QVERIFY2(fx == "02-multi-stage" && r.starts_with("modified"), (row.step + ": " + it->explanation).c_str());
                QVERIFY2(it->explanation.find("depends") != std::string::npos ||
                             it->explanation.find("stage output") != std::string::npos,
                         it->explanation.c_str());
                QVERIFY(!it->cached);
                ++depends;
                continue;
            }
            QVERIFY2(it->cached == row.hit, (row.step + ": planned " + (it->cached ? "CACHED" : "miss") +
                                             ", BuildKit " + (row.hit ? "hit" : "ran") + " — " + it->explanation)
                                                .c_str());
            if (it->cached && it->evaluated)
                QCOMPARE(QString::fromStdString(it->source), QString::fromStdString(spec));
            QCOMPARE(it->recordDigest.size(), std::size_t(71));
            ++compared;
        }
        QVERIFY(compared + depends == static_cast<int>(rows.size()));
        if (r.starts_with("modified-same-output"))
            QVERIFY2(depends > 0, "the COPY --from after the re-run builder must be reported as depending on it");
        qInfo("%s %s: %d steps agree with BuildKit, %d depend on a stage output", qPrintable(fixture), qPrintable(run),
              compared, depends);

        // The first miss names its cause.
        if (r.starts_with("modified-import") || r.starts_with("modified-same-output")) {
            bool named = false;
            for (const auto& s : report.steps)
                named = named || (s.cause == "context-changed" && s.explanation.find(changedSource(fx)) != std::string::npos);
            QVERIFY2(named, ("no step names the changed COPY source " + changedSource(fx)).c_str());
        }
        if (r.starts_with("buildarg-")) {
            const std::string arg = r.starts_with("buildarg-GREETING") ? "GREETING=hi" : "UNUSED=y";
            bool named = false;
            for (const auto& s : report.steps)
                named = named || (s.cause == "build-arg-changed" && s.explanation.find(arg) != std::string::npos);
            QVERIFY2(named, ("no step names build arg " + arg).c_str());
        }
        if (r.starts_with("cold-"))
            for (const auto& s : report.steps)
                if (!s.isFrom)
                    QCOMPARE(QString::fromStdString(s.cause), QString("no-source"));
    }

    void cliReportJson()
    {
        QTemporaryDir tmp;
        const QString reportPath = tmp.filePath("report.json");
        QProcess cli;
        const QString ctx = QString::fromStdString((bk() / "03-build-args" / "context").string());
        cli.start(CACHESCOPE_CLI,
                  {"build", "--dry-run", "--build-arg", "GREETING=hi", "--build-context",
                   "127.0.0.1:5055/library/busybox:latest=docker-image://" + QString::fromStdString(registry_.host()) +
                       "/library/busybox:latest",
                   "--cache-from",
                   QString::fromStdString("type=registry,ref=" + registry_.host() + "/ref/03-build-args:cache-max"),
                   "--cache-from", "type=registry,ref=" + QString::fromStdString(registry_.host()) + "/nobody/none:x",
                   "--report", reportPath, ctx});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 1); // one source failed
        const QString out = QString::fromUtf8(cli.readAllStandardOutput());
        QVERIFY2(out.contains("[2/4] COPY name.txt /name.txt") && out.contains("CACHED"), qPrintable(out));
        QFile f(reportPath);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
        const QJsonArray steps = j["steps"].toArray();
        QVERIFY(steps.size() == 4);
        const QJsonObject copy = steps[1].toObject();
        QCOMPARE(copy["name"].toString(), QString("[2/4] COPY name.txt /name.txt"));
        QVERIFY(copy["cached"].toBool());
        QVERIFY(copy["source"].toString().contains("03-build-args:cache-max"));
        QVERIFY(copy["recordDigest"].toString().startsWith("sha256:"));
        const QJsonObject run = steps[2].toObject();
        QVERIFY(!run["cached"].toBool());
        QVERIFY2(run["explanation"].toString().contains("GREETING=hi"), qPrintable(run["explanation"].toString()));
        const QJsonArray sources = j["sources"].toArray();
        QCOMPARE(sources.size(), 2);
        QVERIFY(sources[0].toObject()["ok"].toBool());
        QVERIFY(!sources[1].toObject()["ok"].toBool());
        QVERIFY(sources[1].toObject()["error"].toString().contains("nobody/none"));
    }

    void badInputIsNamed()
    {
        solver::DryRunOptions o;
        o.contextDir = bk() / "01-single-stage" / "context";
        o.target = "nope";
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] =
            "docker-image://" + registry_.host() + "/library/busybox:latest";
        QVERIFY_THROWS_EXCEPTION(Error, solver::dryRun(o));
        o.target.clear();
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] = "oci-layout:///no/such/layout";
        try {
            solver::dryRun(o);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("/no/such/layout") != std::string::npos, e.what());
        }
    }

    // A cache BuildKit built for linux/amd64, planned for linux/arm64: the first RUN misses because
    // its key carries the platform, and the explanation names both platforms. The file ops below the
    // base image (no platform in their keys) still hit through the layer-chain key.
    void platformDiffers()
    {
        solver::DryRunOptions o;
        o.contextDir = bk() / "01-single-stage" / "context";
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] =
            "docker-image://" + registry_.host() + "/library/busybox:latest";
        o.cacheFrom.push_back(cache::parseCacheSpec("type=local,src=" + test::cacheVariant("01-single-stage", "local-max").string() +
                                                    ",tag=" + test::variantTag("local-max")));
        o.dataDir = fs::path(data_.path().toStdString()) / "platform";
        o.platform = "linux/arm64";
        const solver::DryRunReport arm = solver::dryRun(o);
        QCOMPARE(QString::fromStdString(arm.platform), QString("linux/arm64"));
        std::map<std::string, const solver::StepResult*> byPrefix;
        for (const auto& s : arm.steps)
            byPrefix[s.name.substr(0, 5)] = &s;
        QVERIFY2(byPrefix["[1/6]"]->explanation.find("cached for linux/amd64") != std::string::npos,
                 byPrefix["[1/6]"]->explanation.c_str());
        QVERIFY(byPrefix["[2/6]"]->cached);
        QVERIFY(byPrefix["[3/6]"]->cached);
        const solver::StepResult& run = *byPrefix["[4/6]"];
        QVERIFY(!run.cached);
        QCOMPARE(QString::fromStdString(run.cause), QString("platform-differs"));
        QVERIFY2(run.explanation.find("cached for linux/amd64") != std::string::npos &&
                     run.explanation.find("this build is for linux/arm64") != std::string::npos,
                 run.explanation.c_str());
        QCOMPARE(QString::fromStdString(byPrefix["[6/6]"]->cause), QString("upstream"));

        // The same cache for the platform it was built for: no platform cause anywhere.
        o.platform = "linux/amd64";
        const solver::DryRunReport amd = solver::dryRun(o);
        for (const auto& s : amd.steps) {
            QVERIFY2(s.cause != "platform-differs", s.explanation.c_str());
            QVERIFY2(s.isFrom || s.cached, s.name.c_str());
        }
    }

    // A stop requested before or while planning ends the dry run with OperationCancelled and no history.
    void cancelStopsTheDryRun()
    {
        solver::DryRunOptions o;
        o.contextDir = bk() / "01-single-stage" / "context";
        o.buildContexts["127.0.0.1:5055/library/busybox:latest"] =
            "docker-image://" + registry_.host() + "/library/busybox:latest";
        o.dataDir = fs::path(data_.path().toStdString()) / "cancel";
        std::stop_source stop;
        o.cancel = stop.get_token();
        stop.request_stop();
        QVERIFY_THROWS_EXCEPTION(OperationCancelled, solver::dryRun(o));
        QVERIFY(!fs::exists(o.dataDir / "history"));
    }

private:
    QTemporaryDir data_;
    test::RegistryLauncher registry_;
};

QTEST_GUILESS_MAIN(TestPlanFixtures)
#include "test_plan_fixtures.moc"

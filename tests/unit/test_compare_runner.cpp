// The compare runner: its maths (medians, spread, ratio, verdict, per-step medians) from given
// samples, and the runner itself on a small real project: progress per build, cancel, and no
// temporary data directory left behind, also on error and cancel.
#include "base/error.h"
#include "base/files.h"
#include "build/compare_runner.h"
#include "cache/cache_spec.h"
#include "support/fixtures.h"

#include <QTemporaryDir>
#include <QTest>

using namespace cachescope;
using namespace cachescope::build;
using namespace std::chrono_literals;

namespace {

CompareSample sample(double seconds, std::vector<std::pair<std::string, std::chrono::milliseconds>> steps = {})
{
    CompareSample s;
    s.seconds = seconds;
    for (const auto& [name, d] : steps)
        s.steps.push_back(CompareStepTime{name, d > 0ms ? StepOutcome::State::Ran : StepOutcome::State::Cached, d});
    return s;
}

std::size_t entriesIn(const std::filesystem::path& dir)
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

} // namespace

class TestCompareRunner : public QObject {
    Q_OBJECT
private slots:
    void statsOfSamples()
    {
        const SampleStats odd = sampleStats({3.0, 1.0, 2.0});
        QCOMPARE(odd.median, 2.0);
        QCOMPARE(odd.min, 1.0);
        QCOMPARE(odd.max, 3.0);
        QCOMPARE(odd.spread(), 2.0);
        QCOMPARE(sampleStats({4.0, 1.0, 2.0, 3.0}).median, 2.5);
        QCOMPARE(sampleStats({}).median, 0.0);
    }

    void importThatHelped()
    {
        const CompareReport r = summarizeCompare({sample(2.0), sample(2.2), sample(1.8)},
                                                 {sample(0.5), sample(0.7), sample(0.6)});
        QCOMPARE(r.outcome, CompareReport::Outcome::Helped);
        QVERIFY(r.helped());
        QCOMPARE(r.without.median, 2.0);
        QCOMPARE(r.with.median, 0.6);
        QVERIFY(qFuzzyCompare(r.ratio, 0.3));
        QVERIFY(qFuzzyCompare(r.savedSeconds, 1.4));
        QVERIFY(qFuzzyCompare(r.savedPercent, 70.0));
        QVERIFY(qFuzzyCompare(r.without.spread(), 0.4));
        QVERIFY2(r.verdict.rfind("import saved 1.40 s (70 %)", 0) == 0, r.verdict.c_str());
    }

    void overlappingRunsClaimNothing()
    {
        // The medians differ, but one run with the import was slower than one without.
        const CompareReport r = summarizeCompare({sample(2.0), sample(1.0), sample(2.1)},
                                                 {sample(1.2), sample(1.5), sample(0.9)});
        QCOMPARE(r.outcome, CompareReport::Outcome::Unclear);
        QVERIFY(!r.helped());
        QVERIFY2(r.verdict.rfind("import did not help measurably", 0) == 0, r.verdict.c_str());
    }

    void slowerImport()
    {
        const CompareReport r = summarizeCompare({sample(1.0)}, {sample(1.5)});
        QCOMPARE(r.outcome, CompareReport::Outcome::Slower);
        QVERIFY(qFuzzyCompare(r.ratio, 1.5));
        QVERIFY2(r.verdict.rfind("import did not help: builds with it took 0.50 s (50 %) longer", 0) == 0,
                 r.verdict.c_str());
    }

    void perStepMedians()
    {
        const CompareReport r = summarizeCompare(
            {sample(1, {{"[1/3] FROM x", 0ms}, {"[2/3] RUN a", 100ms}, {"[3/3] RUN b", 300ms}}),
             sample(1, {{"[1/3] FROM x", 0ms}, {"[2/3] RUN a", 200ms}, {"[3/3] RUN b", 500ms}})},
            {sample(0.5, {{"[1/3] FROM x", 0ms}, {"[2/3] RUN a", 0ms}, {"[3/3] RUN b", 40ms}, {"[4/4] RUN c", 10ms}}),
             sample(0.5, {{"[1/3] FROM x", 0ms}, {"[2/3] RUN a", 0ms}, {"[3/3] RUN b", 60ms}})});
        QCOMPARE(r.steps.size(), std::size_t(4));
        QCOMPARE(r.steps[1].name, std::string("[2/3] RUN a"));
        QVERIFY(qFuzzyCompare(r.steps[1].withoutImportSeconds, 0.15));
        QCOMPARE(r.steps[1].withImportSeconds, 0.0);
        QVERIFY(qFuzzyCompare(r.steps[2].withoutImportSeconds, 0.4));
        QVERIFY(qFuzzyCompare(r.steps[2].withImportSeconds, 0.05));
        // A step only one mode has: absent counts as 0.
        QCOMPARE(r.steps[3].name, std::string("[4/4] RUN c"));
        QCOMPARE(r.steps[3].withoutImportSeconds, 0.0);
        QVERIFY(qFuzzyCompare(r.steps[3].withImportSeconds, 0.005));
        const auto j = compareReportJson(CompareOptions{}, r);
        QCOMPARE(j["steps"].size(), std::size_t(4));
        QCOMPARE(j["withImport"]["samples"].size(), std::size_t(2));
        QCOMPARE(j["withoutImport"]["samples"][1]["steps"][2]["durationMs"].get<int>(), 500);
        QCOMPARE(j["withImport"]["samples"][0]["steps"][1]["cached"].get<bool>(), true);
        QCOMPARE(j["helped"].get<bool>(), true);
    }

    void badOptionsAreRefused()
    {
        CompareOptions o;
        o.runs = 0;
        QVERIFY_THROWS_EXCEPTION(Error, runCompare(o));
        o.runs = 1;
        QVERIFY_THROWS_EXCEPTION(Error, runCompare(o)); // no cache source
        QVERIFY_THROWS_EXCEPTION(Error, summarizeCompare({}, {sample(1)}));
    }

    // Real builds of a FROM scratch project (file ops only), each in a temporary data dir under
    // TMPDIR: they report progress, a cancel stops the compare, and no directory stays behind.
    void runsCancelsAndCleansUp()
    {
        QTemporaryDir tmp, project;
        QVERIFY(tmp.isValid() && project.isValid());
        qputenv("TMPDIR", tmp.path().toUtf8());
        const std::filesystem::path ctx = project.path().toStdString();
        writeFileAtomic(ctx / "Dockerfile", "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\n");
        writeFileAtomic(ctx / "a.txt", "a\n");
        writeFileAtomic(ctx / "b.txt", "b\n");
        CompareOptions o;
        o.runs = 2;
        o.build.contextDir = ctx;
        o.build.cacheFrom.push_back(
            cache::parseCacheSpec("type=local,src=" + test::cacheVariant("01-single-stage", "local-max").string()));

        std::vector<std::pair<int, CompareMode>> seen;
        const CompareReport r = runCompare(o, [&](const CompareProgress& p) {
            QCOMPARE(p.runs, 2);
            QVERIFY(p.sample && p.sample->seconds > 0);
            seen.emplace_back(p.run, p.mode);
        });
        QCOMPARE(seen.size(), std::size_t(5)); // warm-up + 2 x 2
        QCOMPARE(seen[0].first, 0);
        QVERIFY(seen[4] == std::make_pair(2, CompareMode::WithImport));
        QCOMPARE(r.withoutImport.size(), std::size_t(2));
        QCOMPARE(r.withImport.size(), std::size_t(2));
        QVERIFY(r.without.median > 0 && r.with.median > 0);
        QCOMPARE(r.withoutImport[0].stepsRun, std::size_t(2)); // both COPYs ran: the store was empty
        QVERIFY(!r.verdict.empty());
        QCOMPARE(entriesIn(tmp.path().toStdString()), std::size_t(0));

        // Cancelled after the first counted build: the next build stops, nothing stays behind.
        std::stop_source stop;
        o.build.cancel = stop.get_token();
        QVERIFY_THROWS_EXCEPTION(CompareCancelled, runCompare(o, [&](const CompareProgress& p) {
                                     if (p.run == 1)
                                         stop.request_stop();
                                 }));
        QCOMPARE(entriesIn(tmp.path().toStdString()), std::size_t(0));

        // A failing build names the run and removes its directory too.
        o.build.cancel = {};
        writeFileAtomic(ctx / "Dockerfile", "FROM scratch\nCOPY missing.txt /m\n");
        try {
            runCompare(o);
            QFAIL("a compare of a failing build succeeded");
        } catch (const CompareCancelled&) {
            QFAIL("not cancelled");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).rfind("warm-up build: ", 0) == 0, e.what());
            QVERIFY2(std::string(e.what()).find("missing.txt") != std::string::npos, e.what());
        }
        QCOMPARE(entriesIn(tmp.path().toStdString()), std::size_t(0));
        qunsetenv("TMPDIR");
    }
};

QTEST_GUILESS_MAIN(TestCompareRunner)
#include "test_compare_runner.moc"

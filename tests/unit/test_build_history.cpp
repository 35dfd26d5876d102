// Build history: records written atomically per build, listed newest first (a damaged file is
// skipped with the reason), loaded by id, and two builds diffed step by step.
#include "base/error.h"
#include "base/files.h"
#include "build/build_history.h"

#include <QTemporaryDir>
#include <QTest>

using namespace cachescope;
using namespace cachescope::build;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

StepOutcome step(int vertex, std::string name, std::string stage, std::string key, StepOutcome::State state,
                 std::string source = {}, std::chrono::milliseconds d = 0ms, std::uint64_t bytes = 0)
{
    StepOutcome s;
    s.vertex = vertex;
    s.name = std::move(name);
    s.stage = std::move(stage);
    s.key = std::move(key);
    s.state = state;
    s.source = std::move(source);
    s.duration = d;
    s.bytes = bytes;
    return s;
}

HistoryStep hstep(std::string name, std::string stage, std::string key, std::string state, std::int64_t ms = 0)
{
    HistoryStep s;
    s.name = std::move(name);
    s.stage = std::move(stage);
    s.key = std::move(key);
    s.state = std::move(state);
    s.durationMs = ms;
    return s;
}

BuildRecord record(std::vector<HistoryStep> steps, std::int64_t totalMs)
{
    BuildRecord r;
    r.steps = std::move(steps);
    r.totals.totalMs = totalMs;
    return r;
}

} // namespace

class TestBuildHistory : public QObject {
    Q_OBJECT
private slots:
    void writeListLoad()
    {
        QTemporaryDir dir;
        const fs::path data = dir.path().toStdString();
        BuildOptions o;
        o.contextDir = data / "ctx";
        o.target = "app";
        BuildResult r;
        r.ok = true;
        r.steps = {step(1, "[base 1/2] FROM busybox", "base", "sha256:aa", StepOutcome::State::Ran),
                   step(2, "[base 2/2] RUN make", "base", "sha256:bb", StepOutcome::State::Ran, "", 1200ms, 4096)};
        r.steps[1].contentKey = "sha256:cc";
        r.timings.total = 1500ms;
        r.bytesPulled = 77;
        const auto t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'790'000'000'123));
        BuildRecord first = makeBuildRecord(o, r, t0);
        QCOMPARE(first.time, std::string("2026-09-21T14:13:20.123Z"));
        QCOMPARE(first.dockerfile, (data / "ctx" / "Dockerfile").string());
        const fs::path file = writeBuildRecord(data, first);
        QVERIFY(fs::exists(file));
        QVERIFY(file.parent_path() == data / "history" / "builds");

        // A failed build with an import, one second later.
        o.cacheFrom.push_back(cache::CacheSpec{});
        o.cacheFrom.back().raw = "type=local,src=/c";
        r.ok = false;
        r.error = "[base 2/2] RUN make: exit code 2";
        r.steps[1].state = StepOutcome::State::Failed;
        BuildRecord second = makeBuildRecord(o, r, t0 + 1s);
        writeBuildRecord(data, second);

        // Damage: not JSON, a wrong type, and a write in progress (ignored).
        writeFileAtomic(data / "history" / "builds" / "broken.json", "{\"version\": 1, \"id\": ");
        writeFileAtomic(data / "history" / "builds" / "wrongtype.json",
                        "{\"version\":1,\"id\":\"x\",\"time\":\"t\",\"steps\":\"nope\"}");
        writeFileAtomic(data / "history" / "builds" / "x.json.tmp-1-1", "garbage");

        const BuildHistoryListing l = listBuildHistory(data);
        QCOMPARE(l.builds.size(), std::size_t(2));
        QCOMPARE(l.builds[0].id, second.id); // newest first
        QCOMPARE(l.builds[0].ok, false);
        QCOMPARE(l.builds[0].withImport, true);
        QCOMPARE(l.builds[0].sources, std::vector<std::string>{"type=local,src=/c"});
        QCOMPARE(l.builds[0].error, r.error);
        QCOMPARE(l.builds[0].steps[1].state, std::string("failed"));
        QCOMPARE(l.builds[1].id, first.id);
        QCOMPARE(l.builds[1].target, std::string("app"));
        QCOMPARE(l.builds[1].steps.size(), std::size_t(2));
        QCOMPARE(l.builds[1].steps[1].stage, std::string("base"));
        QCOMPARE(l.builds[1].steps[1].durationMs, std::int64_t(1200));
        QCOMPARE(l.builds[1].steps[1].layerBytes, std::uint64_t(4096));
        QCOMPARE(l.builds[1].steps[1].contentKey, std::string("sha256:cc"));
        QCOMPARE(l.builds[1].totals.bytesPulled, std::uint64_t(77));
        QCOMPARE(l.builds[1].totals.stepsRun, std::size_t(1)); // FROM is not a step that runs
        QCOMPARE(l.skipped.size(), std::size_t(2));
        QVERIFY2(l.skipped[0].find("broken.json: not valid JSON") != std::string::npos, l.skipped[0].c_str());
        QVERIFY2(l.skipped[1].find("wrongtype.json: the build record has no \"steps\" array") != std::string::npos,
                 l.skipped[1].c_str());

        const BuildRecord loaded = loadBuildRecord(data, first.id);
        QCOMPARE(buildRecordJson(loaded).dump(), buildRecordJson(first).dump());
        QVERIFY_THROWS_EXCEPTION(Error, loadBuildRecord(data, "nope"));
        QVERIFY_THROWS_EXCEPTION(Error, loadBuildRecord(data, "../../etc/passwd"));
    }

    void keepsTheNewest()
    {
        QTemporaryDir dir;
        const fs::path data = dir.path().toStdString();
        BuildRecord r;
        const auto t0 = std::chrono::system_clock::now();
        for (std::size_t i = 0; i < kMaxBuildRecords + 3; ++i) {
            r.time = makeBuildRecord({}, {}, t0 + std::chrono::seconds(i)).time;
            writeBuildRecord(data, r);
        }
        const auto l = listBuildHistory(data);
        QCOMPARE(l.builds.size(), kMaxBuildRecords);
        QCOMPARE(l.builds.front().time, r.time);
    }

    // A failed build (no context) still leaves its record, through BuildSession itself.
    void sessionRecordsFailedBuild()
    {
        QTemporaryDir dir;
        BuildOptions o;
        o.dataDir = dir.path().toStdString();
        o.contextDir = o.dataDir / "no-such-context";
        const BuildResult r = BuildSession(o).run();
        QVERIFY(!r.ok);
        const auto l = listBuildHistory(o.dataDir);
        QCOMPARE(l.builds.size(), std::size_t(1));
        QCOMPARE(l.builds[0].ok, false);
        QCOMPARE(l.builds[0].error, r.error);
        QCOMPARE(l.builds[0].context, o.contextDir.string());
    }

    void diffAlignsSteps()
    {
        const BuildRecord a = record({hstep("[base 1/3] FROM img", "base", "k1", "ran"),
                                      hstep("[base 2/3] RUN setup", "base", "k2", "cached"),
                                      hstep("[base 3/3] RUN old", "base", "k3", "ran", 300),
                                      hstep("[4/5] COPY --from=base /x /x", "", "k4", "ran", 50),
                                      hstep("[5/5] RUN gone", "", "k5", "ran", 10)},
                                     1000);
        // b adds a step at the top of base (the counters shift), changes "RUN old" into "RUN new",
        // changes the key of the COPY, and drops "RUN gone".
        const BuildRecord b = record({hstep("[base 1/4] FROM img", "base", "k1", "ran"),
                                      hstep("[base 2/4] RUN added", "base", "k9", "ran", 20),
                                      hstep("[base 3/4] RUN setup", "base", "k2", "cached"),
                                      hstep("[base 4/4] RUN new", "base", "k8", "ran", 200),
                                      hstep("[4/4] COPY --from=base /x /x", "", "k7", "ran", 70)},
                                     800);
        const BuildDiff d = diffBuilds(a, b);
        QCOMPARE(d.totalDeltaMs, std::int64_t(-200));
        QCOMPARE(d.steps.size(), std::size_t(6));
        // FROM: the same step, unchanged (the counter differs).
        QVERIFY(d.steps[0].a && d.steps[0].b && !d.steps[0].changed());
        // The added step: only in b.
        QVERIFY(!d.steps[1].a && d.steps[1].b);
        QCOMPARE(d.steps[1].name(), std::string("[base 2/4] RUN added"));
        // setup: aligned by name across the shifted counter, unchanged.
        QCOMPARE(d.steps[2].a->name, std::string("[base 2/3] RUN setup"));
        QVERIFY(!d.steps[2].changed());
        // old -> new: paired by order within the stage; name and key changed, 100 ms faster.
        QCOMPARE(d.steps[3].a->name, std::string("[base 3/3] RUN old"));
        QCOMPARE(d.steps[3].b->name, std::string("[base 4/4] RUN new"));
        QVERIFY(d.steps[3].nameChanged && d.steps[3].keyChanged && !d.steps[3].stateChanged);
        QCOMPARE(d.steps[3].durationDeltaMs, std::int64_t(-100));
        // The COPY: same step, key changed.
        QVERIFY(d.steps[4].a && d.steps[4].b && d.steps[4].keyChanged && !d.steps[4].nameChanged);
        QCOMPARE(d.steps[4].durationDeltaMs, std::int64_t(20));
        // gone: only in a.
        QVERIFY(d.steps[5].a && !d.steps[5].b);
        QCOMPARE(d.changedSteps(), std::size_t(4));

        // A build against itself: nothing changed.
        const BuildDiff same = diffBuilds(a, a);
        QCOMPARE(same.steps.size(), a.steps.size());
        QCOMPARE(same.changedSteps(), std::size_t(0));
    }

    void diffStateAndSource()
    {
        HistoryStep cached = hstep("[2/2] COPY a /a", "", "k", "cached");
        cached.source = "local";
        const BuildDiff d = diffBuilds(record({cached}, 10), record({hstep("[2/2] COPY a /a", "", "k", "ran", 5)}, 20));
        QCOMPARE(d.steps.size(), std::size_t(1));
        QVERIFY(d.steps[0].stateChanged && d.steps[0].sourceChanged && !d.steps[0].keyChanged);
        QVERIFY(!d.steps[0].contentChanged);

        // The same COPY over changed files: only its content checksum differs.
        HistoryStep before = hstep("[2/2] COPY a /a", "", "k", "ran", 5), after = before;
        before.contentKey = "sha256:1";
        after.contentKey = "sha256:2";
        const BuildDiff files = diffBuilds(record({before}, 10), record({after}, 10));
        QVERIFY(files.steps[0].contentChanged && files.steps[0].changed() && !files.steps[0].keyChanged);
    }
};

QTEST_GUILESS_MAIN(TestBuildHistory)
#include "test_build_history.moc"

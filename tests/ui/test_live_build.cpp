// Real builds from the window on the offscreen platform (BuildSession, bubblewrap sandbox): the demo
// build ends with the statuses a BuildSession run here directly reports; a build without import runs
// every step and shows its RUN output; a failing RUN shows error and its log; Esc cancels; a bad cache
// export is refused in words, a good one is written; and a 500-step build never stalls the event loop.
#include "build/build_session.h"
#include "buildpanel/build_panel.h"
#include "cache/cache_spec.h"
#include "demo_project.h"
#include "main_window.h"
#include "models/live_build.h"
#include "models/source_list_model.h"
#include "models/steps_model.h"
#include "project_settings.h"
#include "steps/step_details.h"
#include "steps/steps_view.h"
#include "support/event_loop_stalls.h"
#include "support/screenshot.h"
#include "support/many_step_project.h"

#include <QAction>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <filesystem>

using namespace cachescope;
using namespace cachescope::ui;

namespace {
const QString kDemo = QStringLiteral(CACHESCOPE_SOURCE_DEMO_DIR);

// The same build run here, on the test thread, with its own empty local store.
build::BuildResult engineBuild(const BuildRequest& r, const QStringList& specs, bool withImport,
                               const std::filesystem::path& dataDir)
{
    build::BuildOptions o;
    o.contextDir = r.context.toStdString();
    if (!r.dockerfile.isEmpty())
        o.dockerfile = r.dockerfile.toStdString();
    for (const auto& [name, value] : r.buildContexts)
        o.buildContexts[name.toStdString()] = value.toStdString();
    if (withImport)
        for (const QString& s : specs)
            o.cacheFrom.push_back(cache::parseCacheSpec(s.toStdString()));
    o.noCache = !withImport;
    o.dataDir = dataDir;
    return build::BuildSession(o).run();
}

QString expectedStatus(const build::StepOutcome& o)
{
    using S = build::StepOutcome::State;
    const bool from = QString::fromStdString(o.name).contains(QStringLiteral("] FROM "));
    switch (o.state) {
    case S::Cached:
    case S::NotEvaluated: return QStringLiteral("CACHED");
    case S::Ran: return from ? QStringLiteral("image") : QStringLiteral("done");
    case S::Failed: return QStringLiteral("ERROR");
    case S::Pending: break;
    }
    return QStringLiteral("waiting");
}

QString statusOf(const StepsModel* model, const QString& name)
{
    const QModelIndex i = model->indexOfStep(name);
    return i.isValid() ? model->data(i.siblingAtColumn(StepsModel::StatusColumn)).toString() : QStringLiteral("(no row)");
}

// Every step of the engine's result is a row with the engine's status and serving source.
void compareWithEngine(const StepsModel* model, const build::BuildResult& engine)
{
    QCOMPARE(model->stepCount(), static_cast<int>(engine.steps.size()));
    for (const build::StepOutcome& o : engine.steps) {
        const QString name = QString::fromStdString(o.name);
        QCOMPARE(statusOf(model, name), expectedStatus(o));
        const StepInfo* s = model->step(model->indexOfStep(name));
        if (o.state == build::StepOutcome::State::Cached)
            QCOMPARE(s->source, QString::fromStdString(o.source));
        if (o.state == build::StepOutcome::State::Ran && !s->isFrom)
            QVERIFY2(s->durationMs >= 0 && !model->data(model->indexOfStep(name, StepsModel::DurationColumn)).toString().isEmpty(),
                     qPrintable(name));
        QCOMPARE(model->data(model->indexOfStep(name, StepsModel::KeyColumn)).toString().size(), 12);
    }
}

bool waitForBuild(MainWindow& window, int timeoutMs = 120000)
{
    QSignalSpy finished(&window, &MainWindow::buildFinished);
    return finished.wait(timeoutMs) || !finished.isEmpty();
}

// A one-stage project on the demo's base image.
BuildRequest projectWith(const QTemporaryDir& dir, const QByteArray& dockerfile)
{
    QFile f(dir.filePath(QStringLiteral("Dockerfile")));
    if (!f.open(QIODevice::WriteOnly))
        qFatal("cannot write %s", qPrintable(f.fileName()));
    f.write(dockerfile);
    f.close();
    BuildRequest r = DemoProject{kDemo}.request(false);
    r.context = dir.path();
    return r;
}
} // namespace

class TestLiveBuild : public QObject {
    Q_OBJECT

    QTemporaryDir home_;
    int fresh_ = 0;

    // A fresh, empty local store for the window's next build.
    void freshDataDir()
    {
        const QString dir = home_.filePath(QStringLiteral("xdg-%1").arg(++fresh_));
        QDir().mkpath(dir);
        qputenv("XDG_DATA_HOME", dir.toUtf8());
    }
    std::filesystem::path referenceDataDir()
    {
        return std::filesystem::path(home_.path().toStdString()) / ("reference-" + std::to_string(++fresh_));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(home_.isValid());
        qputenv("XDG_CONFIG_HOME", home_.filePath(QStringLiteral("config")).toUtf8());
        QCoreApplication::setOrganizationName(QStringLiteral("CacheScopeTest"));
        if (!QFile::exists(QStringLiteral("/usr/bin/bwrap")))
            QFAIL("bubblewrap (/usr/bin/bwrap) is required for builds");
    }

    void demoBuildShowsWhatTheEngineReports()
    {
        freshDataDir();
        MainWindow window;
        window.resize(1400, 860);
        window.show();
        QSignalSpy planned(&window, &MainWindow::planFinished);
        window.openDemo(kDemo);
        QVERIFY(planned.wait(60000));

        window.buildPanel()->buildAction()->trigger();
        QVERIFY(window.liveBuild()->running());
        QVERIFY(!window.buildPanel()->buildAction()->isEnabled());
        QVERIFY(waitForBuild(window));
        QVERIFY(window.liveBuild()->result());
        QVERIFY2(window.liveBuild()->result()->ok, window.liveBuild()->result()->error.c_str());

        const DemoProject demo{kDemo};
        const build::BuildResult engine = engineBuild(demo.request(false), demo.cacheSpecs(), true, referenceDataDir());
        QVERIFY2(engine.ok, engine.error.c_str());
        compareWithEngine(window.steps(), engine);
        // The caches were exported from this project: nothing runs, the served steps name their source.
        QCOMPARE(engine.stepsRun(), std::size_t(0));
        int served = 0;
        for (const StepInfo& s : window.steps()->steps())
            if (s.status == StepInfo::Status::Cached && s.evaluated) {
                QVERIFY2(demo.cacheSpecs().contains(s.source), qPrintable(s.source));
                QVERIFY(window.steps()->data(window.steps()->indexOfStep(s.name, StepsModel::SourceColumn))
                            .toString()
                            .startsWith(QStringLiteral("local cache-m")));
                ++served;
            }
        QVERIFY(served >= 1);
        int steps = 0, cached = 0;
        for (const build::StepOutcome& o : engine.steps) {
            if (QString::fromStdString(o.name).contains(QStringLiteral("] FROM ")))
                continue;
            ++steps;
            cached += o.state == build::StepOutcome::State::Cached || o.state == build::StepOutcome::State::NotEvaluated;
        }
        const QString summary = window.statusBar()->currentMessage();
        QVERIFY2(summary.startsWith(QStringLiteral("%1/%2 cached · 0 ran").arg(cached).arg(steps)), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("pulled")) && summary.contains(QStringLiteral("s total")), qPrintable(summary));

        // The changed project: its first miss is the COPY of the changed file, explained by the engine;
        // the steps after it run and print.
        window.buildPanel()->setRequest(demo.request(true));
        window.build(true);
        QVERIFY(waitForBuild(window));
        QVERIFY2(window.liveBuild()->result()->ok, window.liveBuild()->result()->error.c_str());
        const build::BuildResult changed = engineBuild(demo.request(true), demo.cacheSpecs(), true, referenceDataDir());
        compareWithEngine(window.steps(), changed);
        QVERIFY(window.stepsView()->jumpToFirstMiss());
        const StepInfo miss = *window.stepDetails()->step();
        QCOMPARE(miss.name, QStringLiteral("[builder 1/2] COPY src/ /src/"));
        QCOMPARE(miss.status, StepInfo::Status::Done);
        QVERIFY2(!miss.explanation.isEmpty(), "no explanation from StepMissed");
        QVERIFY2(window.stepDetails()->text().contains(miss.explanation), qPrintable(window.stepDetails()->text()));
        QTreeView* tree = window.stepsView()->tree();
        const QModelIndex lastShown = tree->model()->index(tree->model()->rowCount(tree->model()->index(3, 0)) - 1, 0,
                                                           tree->model()->index(3, 0));
        tree->setCurrentIndex(lastShown);
        QCOMPARE(window.stepDetails()->step()->name, QStringLiteral("[stage-3 4/4] RUN ls /out && cat /out/sorted.md5"));
        QVERIFY2(window.stepDetails()->text().contains(QStringLiteral("sorted.md5")), qPrintable(window.stepDetails()->text()));
        QTest::qWait(50);
        test::screenshot(&window, QStringLiteral("main-window-build.png"));
    }

    void buildWithoutImportRunsEveryStep()
    {
        freshDataDir();
        MainWindow window;
        window.resize(1400, 860);
        window.show();
        const DemoProject demo{kDemo};
        window.buildPanel()->setRequest(demo.request(false));
        window.openSources(demo.cacheSpecs());
        window.buildPanel()->buildWithoutImportAction()->trigger();
        QVERIFY(waitForBuild(window));
        const auto& result = *window.liveBuild()->result();
        QVERIFY2(result.ok, result.error.c_str());

        const build::BuildResult engine = engineBuild(demo.request(false), demo.cacheSpecs(), false, referenceDataDir());
        QVERIFY2(engine.ok, engine.error.c_str());
        compareWithEngine(window.steps(), engine);
        int done = 0;
        for (const StepInfo& s : window.steps()->steps()) {
            if (s.isFrom) {
                QCOMPARE(s.status, StepInfo::Status::Image);
                continue;
            }
            QCOMPARE(s.status, StepInfo::Status::Done);
            QVERIFY2(s.explanation.contains(QStringLiteral("--no-cache")), qPrintable(s.explanation));
            ++done;
        }
        QCOMPARE(done, 7);
        QCOMPARE(window.steps()->countWithStatus(StepInfo::Status::Cached), 0);

        // The last RUN's output is in its details, with its duration and layer size.
        const QModelIndex last = window.steps()->indexOfStep(QStringLiteral("[stage-3 4/4] RUN ls /out && cat /out/sorted.md5"));
        QVERIFY(last.isValid());
        const StepInfo* run = window.steps()->step(last);
        QVERIFY2(run->log.contains(QStringLiteral("other.txt")), qPrintable(run->log.join(QLatin1Char('|'))));
        QVERIFY(run->layerBytes >= 0 || run->durationMs >= 0);
        QTreeView* tree = window.stepsView()->tree();
        auto* proxy = tree->model();
        QModelIndex shown;
        for (int r = 0; r < proxy->rowCount() && !shown.isValid(); ++r)
            for (int c = 0; c < proxy->rowCount(proxy->index(r, 0)); ++c)
                if (proxy->index(c, 0, proxy->index(r, 0)).data().toString() == run->name)
                    shown = proxy->index(c, 0, proxy->index(r, 0));
        QVERIFY(shown.isValid());
        tree->setCurrentIndex(shown);
        const QString details = window.stepDetails()->text();
        QVERIFY2(details.contains(QStringLiteral("RUN log")) && details.contains(QStringLiteral("other.txt")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("took ")) && details.contains(QStringLiteral("--no-cache")), qPrintable(details));
        QVERIFY2(window.statusBar()->currentMessage().startsWith(QStringLiteral("0/7 cached · 7 ran")),
                 qPrintable(window.statusBar()->currentMessage()));
    }

    void failingRunShowsErrorAndLog()
    {
        freshDataDir();
        QTemporaryDir project;
        const BuildRequest r = projectWith(project, "FROM 127.0.0.1:5055/library/busybox:latest\n"
                                                    "RUN echo preparing\n"
                                                    "RUN echo about to fail && echo on stderr >&2 && exit 3\n"
                                                    "RUN echo never\n");
        MainWindow window;
        window.show();
        window.buildPanel()->setRequest(r);
        window.build(true);
        QSignalSpy finished(&window, &MainWindow::buildFinished);
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toBool(), false);
        const QString error = finished.first().at(1).toString();
        QVERIFY2(error.contains(QStringLiteral("exit code: 3")), qPrintable(error));

        const build::BuildResult engine = engineBuild(r, {}, true, referenceDataDir());
        QVERIFY(!engine.ok);
        compareWithEngine(window.steps(), engine);
        const QString failing = QStringLiteral("[3/4] RUN echo about to fail && echo on stderr >&2 && exit 3");
        QCOMPARE(statusOf(window.steps(), failing), QStringLiteral("ERROR"));
        QCOMPARE(statusOf(window.steps(), QStringLiteral("[2/4] RUN echo preparing")), QStringLiteral("done"));
        QCOMPARE(statusOf(window.steps(), QStringLiteral("[4/4] RUN echo never")), QStringLiteral("waiting"));

        window.stepsView()->jumpToFirstMiss(); // [2/4] ran: a miss; the failed step is the next
        QTreeView* tree = window.stepsView()->tree();
        tree->setCurrentIndex(tree->indexBelow(tree->currentIndex()));
        QCOMPARE(window.stepDetails()->step()->name, failing);
        const QString details = window.stepDetails()->text();
        QVERIFY2(details.contains(QStringLiteral("ERROR")) && details.contains(QStringLiteral("about to fail")) &&
                     details.contains(QStringLiteral("on stderr")),
                 qPrintable(details));
        QVERIFY2(window.stepsView()->findChildren<QLabel*>().size() > 0, "no message label");
        QVERIFY2(window.statusBar()->currentMessage().startsWith(QStringLiteral("Build failed:")),
                 qPrintable(window.statusBar()->currentMessage()));
    }

    // A RUN that prints 200,000 lines: the step keeps its last lines and says how many it dropped,
    // and the event loop keeps turning while they arrive.
    void floodingRunKeepsItsLastLines()
    {
        freshDataDir();
        QTemporaryDir project;
        const BuildRequest r = projectWith(project, "FROM 127.0.0.1:5055/library/busybox:latest\nRUN seq 1 200000\n");
        MainWindow window;
        window.show();
        window.buildPanel()->setRequest(r);
        test::EventLoopStalls stalls;
        stalls.start();
        window.build(true);
        QVERIFY(waitForBuild(window));
        stalls.stop();
        QVERIFY2(window.liveBuild()->result()->ok, window.liveBuild()->result()->error.c_str());
        const StepInfo* run = window.steps()->step(window.steps()->indexOfStep(QStringLiteral("[2/2] RUN seq 1 200000")));
        QVERIFY(run);
        QCOMPARE(run->log.size(), StepInfo::kMaxLogLines);
        QCOMPARE(run->log.last(), QStringLiteral("200000"));
        QVERIFY(run->logDropped > 0);
        // In order: the numbers kept only increase (a batch's skipped lines are one "… N lines not shown").
        int previous = 0;
        for (const QString& l : run->log) {
            if (l.startsWith(QStringLiteral("… ")))
                continue;
            QVERIFY2(l.toInt() > previous, qPrintable(l));
            previous = l.toInt();
        }
        qInfo("200000 RUN lines: worst event-loop gap %lld ms", stalls.worst());
        QVERIFY2(stalls.worst() < 500, qPrintable(QStringLiteral("the GUI stalled for %1 ms").arg(stalls.worst())));
    }

    void escCancelsARunningBuild()
    {
        freshDataDir();
        QTemporaryDir project;
        const BuildRequest r = projectWith(project, "FROM 127.0.0.1:5055/library/busybox:latest\nRUN sleep 30\n");
        MainWindow window;
        window.show();
        window.buildPanel()->setRequest(r);
        window.build(true);
        QTRY_COMPARE_WITH_TIMEOUT(statusOf(window.steps(), QStringLiteral("[2/2] RUN sleep 30")), QStringLiteral("running"), 30000);
        QElapsedTimer t;
        t.start();
        QVERIFY(window.buildPanel()->cancelAction()->isEnabled());
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTest::keyClick(&window, Qt::Key_Escape);
        QVERIFY(waitForBuild(window, 20000));
        QVERIFY2(t.elapsed() < 10000, "cancel took longer than 10 s");
        QVERIFY(!window.liveBuild()->result()->ok);
        QVERIFY2(window.liveBuild()->result()->error.find("cancelled") != std::string::npos,
                 window.liveBuild()->result()->error.c_str());
        QCOMPARE(statusOf(window.steps(), QStringLiteral("[2/2] RUN sleep 30")),
                 expectedStatus(window.liveBuild()->result()->steps.back()));
        QVERIFY(window.buildPanel()->buildAction()->isEnabled());
    }

    // A plan waiting on a registry that never answers: Esc ends it at once, and the window closes
    // without waiting for the transfers of the plan or of the sources' import (the stop reaches the
    // registry client).
    void escCancelsARunningPlan()
    {
        QTcpServer silent; // accepts connections and never answers
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        const DemoProject demo{kDemo};
        QElapsedTimer t;
        {
            MainWindow window;
            window.show();
            window.buildPanel()->setRequest(demo.request(false));
            // Imported (by the sources panel) and planned at once: both wait on the silent registry.
            window.openSources({QStringLiteral("type=registry,ref=127.0.0.1:%1/app:cache,registry.insecure=true")
                                    .arg(silent.serverPort())});
            QSignalSpy cancelled(window.buildPanel(), &BuildPanel::cancelRequested);
            window.plan();
            QVERIFY(window.buildPanel()->cancelAction()->isEnabled());
            QVERIFY(!window.buildPanel()->buildAction()->isEnabled());
            QTRY_VERIFY_WITH_TIMEOUT(silent.hasPendingConnections() || silent.waitForNewConnection(0), 10000);
            QVERIFY(QTest::qWaitForWindowActive(&window));
            QTest::keyClick(&window, Qt::Key_Escape);
            QCOMPARE(cancelled.size(), 1);
            QVERIFY(window.buildPanel()->buildAction()->isEnabled());
            QVERIFY(window.buildPanel()->planAction()->isEnabled());
            QLabel* state = nullptr;
            for (auto* l : window.stepsView()->findChildren<QLabel*>())
                if (l->accessibleName() == QStringLiteral("Plan state"))
                    state = l;
            QVERIFY(state);
            QCOMPARE(state->text(), QStringLiteral("Plan cancelled."));

            // A build importing from the same registry: Esc ends it too, in words.
            window.build(true);
            QVERIFY(window.liveBuild()->running());
            QTest::qWait(300);
            QElapsedTimer build;
            build.start();
            QTest::keyClick(&window, Qt::Key_Escape);
            QVERIFY(waitForBuild(window, 20000));
            QVERIFY2(build.elapsed() < 5000, qPrintable(QStringLiteral("the build took %1 ms to stop").arg(build.elapsed())));
            QVERIFY2(window.liveBuild()->result()->error.find("cancelled") != std::string::npos,
                     window.liveBuild()->result()->error.c_str());
            t.start();
        }
        QVERIFY2(t.elapsed() < 5000, qPrintable(QStringLiteral("closing waited %1 ms for the cancelled plan").arg(t.elapsed())));
    }

    void cacheExportIsCheckedAndWritten()
    {
        freshDataDir();
        MainWindow window;
        window.show();
        const DemoProject demo{kDemo};
        window.buildPanel()->setRequest(demo.request(false));
        QLineEdit* field = nullptr;
        QLabel* problem = nullptr;
        for (auto* e : window.buildPanel()->findChildren<QLineEdit*>())
            if (e->accessibleName() == QStringLiteral("Cache export"))
                field = e;
        for (auto* l : window.buildPanel()->findChildren<QLabel*>())
            if (l->accessibleName() == QStringLiteral("Cache export problem"))
                problem = l;
        QVERIFY(field && problem);

        field->setText(QStringLiteral("type=local,dest=/tmp/x; type=carrier-pigeon,dest=/y"));
        QSignalSpy started(window.buildPanel(), &BuildPanel::buildRequested);
        window.buildPanel()->buildAction()->trigger();
        QCOMPARE(started.size(), 0);
        QVERIFY(problem->isVisibleTo(window.buildPanel()));
        QVERIFY2(problem->text().contains(QStringLiteral("carrier-pigeon")), qPrintable(problem->text()));

        QTemporaryDir dest;
        field->setText(QStringLiteral("type=local,dest=%1,mode=max").arg(dest.path()));
        QVERIFY(problem->text().isEmpty() && !problem->isVisibleTo(window.buildPanel()));
        window.buildPanel()->buildWithoutImportAction()->trigger();
        QCOMPARE(started.size(), 1);
        QVERIFY(waitForBuild(window));
        QVERIFY2(window.liveBuild()->result()->ok, window.liveBuild()->result()->error.c_str());
        QVERIFY(QFile::exists(dest.filePath(QStringLiteral("index.json"))));
        QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("cache export")),
                 qPrintable(window.statusBar()->currentMessage()));
    }

    // A project keeps its sources and request under its context directory; the newest comes first.
    void projectsAreRememberedByContext()
    {
        const DemoProject demo{kDemo};
        QTemporaryDir other;
        {
            MainWindow window;
            BuildRequest r = demo.request(false);
            r.target = QStringLiteral("other");
            r.buildArgs = {{QStringLiteral("A"), QStringLiteral("1")}};
            window.buildPanel()->setRequest(r);
            window.openSources({demo.cacheSpecs().first()});
            window.plan();
            BuildRequest second;
            second.context = other.path();
            window.buildPanel()->setRequest(second);
            window.openSources(demo.cacheSpecs());
            window.plan(); // fails (no Dockerfile) but is remembered
        }
        QCOMPARE(ProjectSettings::recentProjects().mid(0, 2), (QStringList{other.path(), demo.project()}));
        MainWindow window;
        window.openProject(demo.project());
        QCOMPARE(window.sources()->specs(), QStringList{demo.cacheSpecs().first()});
        const BuildRequest restored = window.buildPanel()->request();
        QCOMPARE(restored.context, demo.project());
        QCOMPARE(restored.target, QStringLiteral("other"));
        QCOMPARE(restored.buildArgs.size(), 1);
        QCOMPARE(restored.buildContexts, demo.request(false).buildContexts);
        window.openProject(other.path());
        QCOMPARE(window.sources()->specs(), demo.cacheSpecs());
        QVERIFY(!ProjectSettings::project(QStringLiteral("/never/opened")).has_value());
    }

    // 500 cheap steps built from the window: the event loop never stops turning for long.
    void buildNeverStallsTheGui()
    {
        freshDataDir();
        QTemporaryDir project;
        QCOMPARE(test::writeManyStepProject(project.path(), 500), QString());
        MainWindow window;
        window.resize(1400, 860);
        window.show();
        BuildRequest r = DemoProject{kDemo}.request(false);
        r.context = project.path();
        window.buildPanel()->setRequest(r);

        test::EventLoopStalls stalls;
        stalls.start();
        QElapsedTimer t;
        t.start();
        window.build(false);
        QVERIFY(waitForBuild(window, 300000));
        const qint64 built = t.elapsed();
        stalls.stop();
        QVERIFY2(window.liveBuild()->result()->ok, window.liveBuild()->result()->error.c_str());
        QCOMPARE(window.steps()->stepCount(), static_cast<int>(window.liveBuild()->result()->steps.size()));
        QCOMPARE(window.steps()->countWithStatus(StepInfo::Status::Done), 500);
        qInfo("500-step build from the window: %lld ms; event-loop gaps: worst %lld ms, p99 %lld ms over %zu ticks",
              built, stalls.worst(), stalls.percentile(99), stalls.samples());
        QVERIFY2(stalls.worst() < 500, qPrintable(QStringLiteral("the GUI stalled for %1 ms").arg(stalls.worst())));
    }
};

QTEST_MAIN(TestLiveBuild)
#include "test_live_build.moc"

// The build view on the offscreen platform: the bundled demo is planned on the engine's threads and
// the steps view ends with the statuses the engine reports (checked against solver::dryRun called
// here directly); the changed project's first miss explains itself in the details; a failing source
// raises the banner without stopping the plan; and the GUI event loop never stalls while a large
// project is planned.
#include "browser/cache_browser.h"
#include "browser/key_graph_view.h"
#include "buildpanel/build_panel.h"
#include "cache/cache_spec.h"
#include "demo_project.h"
#include "main_window.h"
#include "models/records_model.h"
#include "models/source_list_model.h"
#include "models/steps_model.h"
#include "solver/dry_run.h"
#include "steps/step_details.h"
#include "steps/steps_view.h"
#include "support/event_loop_stalls.h"
#include "support/screenshot.h"
#include "support/test_settings.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QLabel>
#include <QListView>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeView>
#include <filesystem>

using namespace cachescope;
using namespace cachescope::ui;

namespace {
const QString kDemo = QStringLiteral(CACHESCOPE_SOURCE_DEMO_DIR);

// The engine's own answer for a request, computed here on the test thread.
solver::DryRunReport engineReport(const BuildRequest& r, const QStringList& specs)
{
    solver::DryRunOptions o;
    o.contextDir = r.context.toStdString();
    for (const auto& [name, value] : r.buildContexts)
        o.buildContexts[name.toStdString()] = value.toStdString();
    for (const QString& s : specs)
        o.cacheFrom.push_back(cache::parseCacheSpec(s.toStdString()));
    return solver::dryRun(o);
}

QString expectedStatus(const solver::StepResult& s)
{
    if (s.isFrom)
        return s.cause == "base-image-changed" ? QStringLiteral("image changed") : QStringLiteral("image");
    if (s.cached)
        return QStringLiteral("CACHED");
    return s.dependsOnStage ? QStringLiteral("depends on stage") : QStringLiteral("RUN");
}

// Every step of the report is in the model with the engine's status, source and key.
void compareWithEngine(const StepsModel* model, const solver::DryRunReport& report)
{
    QCOMPARE(model->stepCount(), static_cast<int>(report.steps.size()));
    for (const solver::StepResult& s : report.steps) {
        const QModelIndex i = model->indexOfStep(QString::fromStdString(s.name));
        QVERIFY2(i.isValid(), s.name.c_str());
        QCOMPARE(model->data(i.siblingAtColumn(StepsModel::StatusColumn)).toString(), expectedStatus(s));
        const StepInfo* info = model->step(i);
        QCOMPARE(info->source, QString::fromStdString(s.source));
        QCOMPARE(info->recordDigest, QString::fromStdString(s.recordDigest));
        QCOMPARE(info->stage, QString::fromStdString(s.stage));
        QVERIFY(model->data(i.siblingAtColumn(StepsModel::KeyColumn)).toString().size() == 12);
    }
}

bool waitForPlan(MainWindow& window, int timeoutMs = 60000)
{
    QSignalSpy finished(&window, &MainWindow::planFinished);
    QSignalSpy failed(&window, &MainWindow::planFailed);
    QElapsedTimer t;
    t.start();
    while (finished.isEmpty() && failed.isEmpty() && t.elapsed() < timeoutMs)
        QTest::qWait(20);
    if (!failed.isEmpty())
        qWarning() << "plan failed:" << failed.first().first().toString();
    return !finished.isEmpty();
}

// The demo's build request with another context directory, and the demo's caches as sources.
void openDemoAt(MainWindow& window, const QString& context)
{
    window.show();
    BuildRequest r = DemoProject{kDemo}.request(false);
    r.context = context;
    window.buildPanel()->setRequest(r);
    window.openSources(DemoProject{kDemo}.cacheSpecs());
}

// Opens the demo in a window of the documentation's size and plans its changed project.
bool planChangedDemo(MainWindow& window)
{
    window.resize(1400, 860);
    window.show();
    window.openDemo(kDemo);
    if (!waitForPlan(window))
        return false;
    window.showDemo(true);
    return waitForPlan(window);
}
} // namespace

class TestBuildView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        test::keepSettingsIn(settingsDir_, /*dataToo=*/true);
    }

    void demoPlansWhatTheEngineReports()
    {
        MainWindow window;
        window.show();
        window.openDemo(kDemo); // imports, then plans on its own
        QVERIFY(waitForPlan(window));

        const DemoProject demo{kDemo};
        const solver::DryRunReport report = engineReport(demo.request(false), demo.cacheSpecs());
        compareWithEngine(window.steps(), report);
        // The demo project is the one the caches were exported from: every step is served.
        int cached = 0;
        for (const auto& s : report.steps) {
            if (s.isFrom) {
                QVERIFY2(s.cause.empty(), s.explanation.c_str()); // the offline base image is the one built with
                continue;
            }
            QVERIFY2(s.cached, (s.name + ": " + s.explanation).c_str());
            ++cached;
        }
        QVERIFY(cached >= 6);
        QVERIFY(!window.steps()->firstMiss().isValid());
        QVERIFY(!window.stepsView()->jumpToFirstMiss());
        // The final RUN is evaluated and served by cache-max; the steps it needs are never evaluated
        // (BuildKit's lazy rule) and show CACHED without a source.
        const QModelIndex last = window.steps()->indexOfStep(QStringLiteral("[stage-3 4/4] RUN ls /out && cat /out/sorted.md5"));
        QVERIFY(last.isValid());
        QVERIFY(window.steps()->step(last)->evaluated);
        // Both caches hold it; the newest record serves, the other is listed as also having it.
        const StepInfo* lastStep = window.steps()->step(last);
        QVERIFY2(demo.cacheSpecs().contains(lastStep->source), qPrintable(lastStep->source));
        QCOMPARE(lastStep->alsoIn.size(), 1);
        QVERIFY(demo.cacheSpecs().contains(lastStep->alsoIn.first()) && lastStep->alsoIn.first() != lastStep->source);
        QVERIFY(window.steps()->data(last.siblingAtColumn(StepsModel::SourceColumn)).toString().startsWith(QStringLiteral("local cache-m")));
        const QModelIndex copy = window.steps()->indexOfStep(QStringLiteral("[builder 1/2] COPY src/ /src/"));
        QVERIFY(copy.isValid());
        QVERIFY(!window.steps()->step(copy)->evaluated);

        // The target picker lists the stages parsed from the Dockerfile.
        QComboBox* target = nullptr;
        for (auto* c : window.buildPanel()->findChildren<QComboBox*>())
            if (c->accessibleName() == QStringLiteral("Target stage"))
                target = c;
        QVERIFY(target);
        QTRY_VERIFY_WITH_TIMEOUT(target->findData(QStringLiteral("builder")) >= 0, 10000);
        QVERIFY(target->findData(QStringLiteral("base")) >= 0);
        QVERIFY(target->findData(QStringLiteral("other")) >= 0);

        // Planning another target plans only what it reaches.
        target->setCurrentIndex(target->findData(QStringLiteral("other")));
        window.plan();
        QVERIFY(waitForPlan(window));
        BuildRequest other = demo.request(false);
        other.target = QStringLiteral("other");
        const solver::DryRunReport otherReport = [&] {
            solver::DryRunOptions opts;
            opts.contextDir = other.context.toStdString();
            opts.target = "other";
            for (const auto& [n, v] : other.buildContexts)
                opts.buildContexts[n.toStdString()] = v.toStdString();
            for (const QString& s : demo.cacheSpecs())
                opts.cacheFrom.push_back(cache::parseCacheSpec(s.toStdString()));
            return solver::dryRun(opts);
        }();
        compareWithEngine(window.steps(), otherReport);
        QVERIFY(!window.steps()->indexOfStep(QStringLiteral("[builder 1/2] COPY src/ /src/")).isValid());
    }

    void changedProjectExplainsTheMiss()
    {
        MainWindow window;
        QVERIFY(planChangedDemo(window));

        const DemoProject demo{kDemo};
        const solver::DryRunReport report = engineReport(demo.request(true), demo.cacheSpecs());
        compareWithEngine(window.steps(), report);

        QVERIFY(window.stepsView()->jumpToFirstMiss());
        const std::optional<StepInfo>& shown = window.stepDetails()->step();
        QVERIFY(shown.has_value());
        QCOMPARE(shown->name, QStringLiteral("[builder 1/2] COPY src/ /src/"));
        QCOMPARE(shown->cause, QStringLiteral("context-changed"));
        const QString details = window.stepDetails()->text();
        QVERIFY2(details.contains(QStringLiteral("MISS")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("context files changed")) && details.contains(QStringLiteral("src/")), qPrintable(details));
        // What was hashed: the op's plaintext and the content checksum over the changed path.
        QVERIFY2(details.contains(QStringLiteral("content checksum over: /src")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("Cache key plaintext")), qPrintable(details));
        QVERIFY2(details.contains(shown->recordDigest), qPrintable(details));

        // The RUN after it misses as a consequence; "misses only" hides the cached steps.
        const QModelIndex run = window.steps()->indexOfStep(
            QStringLiteral("[builder 2/2] RUN cat /src/*.txt | sort > /work/sorted.txt && md5sum /work/sorted.txt > /work/sorted.md5"));
        QVERIFY(run.isValid());
        QVERIFY(window.steps()->step(run)->isMiss());
        window.stepsView()->setMissesOnly(true);
        QTreeView* tree = window.stepsView()->tree();
        int shownSteps = 0;
        for (int r = 0; r < tree->model()->rowCount(); ++r)
            shownSteps += tree->model()->rowCount(tree->model()->index(r, 0));
        int misses = 0;
        for (const auto& s : report.steps)
            misses += !s.isFrom && !s.cached;
        QCOMPARE(shownSteps, misses);
        window.stepsView()->setMissesOnly(false);
        QVERIFY(window.stepsView()->jumpToFirstMiss());
        QTest::qWait(50);
        test::screenshot(&window, QStringLiteral("main-window-steps.png"));
    }

    // A project planned before, then edited: the engine's local history names the changed file, and
    // the details show it in the changed-files table.
    void editedProjectShowsChangedFile()
    {
        QTemporaryDir project;
        QVERIFY(project.isValid());
        for (const QString& rel : {QStringLiteral("Dockerfile"), QStringLiteral("src/one.txt"), QStringLiteral("src/two.txt")}) {
            QDir().mkpath(QFileInfo(project.filePath(rel)).path());
            QVERIFY(QFile::copy(kDemo + QStringLiteral("/project/") + rel, project.filePath(rel)));
        }
        MainWindow window;
        openDemoAt(window, project.path());
        window.plan();
        QVERIFY(waitForPlan(window));
        QVERIFY(!window.steps()->firstMiss().isValid());

        QFile two(project.filePath(QStringLiteral("src/two.txt")));
        QVERIFY(two.open(QIODevice::Append));
        two.write("one more line\n");
        two.close();
        window.plan();
        QVERIFY(waitForPlan(window));
        QVERIFY(window.stepsView()->jumpToFirstMiss());
        const StepInfo shown = *window.stepDetails()->step();
        QCOMPARE(shown.cause, QStringLiteral("context-changed"));
        QCOMPARE(shown.changedFiles.size(), 1);
        QCOMPARE(shown.changedFiles.first().path, QStringLiteral("src/two.txt"));
        QVERIFY(shown.changedFiles.first().contentChanged);
        const QString details = window.stepDetails()->text();
        QVERIFY2(details.contains(QStringLiteral("Changed files")) && details.contains(QStringLiteral("src/two.txt")),
                 qPrintable(details));
    }

    void failingSourceStillPlans()
    {
        MainWindow window;
        window.show();
        QTemporaryDir empty;
        const DemoProject demo{kDemo};
        window.buildPanel()->setRequest(demo.request(false));
        QSignalSpy imported(&window, &MainWindow::importsFinished);
        window.openSources({demo.cacheSpecs().first(), QStringLiteral("type=local,src=") + empty.path()});
        QVERIFY(imported.wait(20000));
        QVERIFY(window.failureBanner()->isVisible());
        QVERIFY(window.failureBanner()->text().contains(empty.path()));

        window.plan();
        QVERIFY(waitForPlan(window));
        QVERIFY(window.failureBanner()->isVisible());
        const solver::DryRunReport report =
            engineReport(demo.request(false), {demo.cacheSpecs().first(), QStringLiteral("type=local,src=") + empty.path()});
        compareWithEngine(window.steps(), report);
        QVERIFY(window.steps()->countWithStatus(StepInfo::Status::Cached) > 0);
        QLabel* state = nullptr;
        for (auto* l : window.stepsView()->findChildren<QLabel*>())
            if (l->accessibleName() == QStringLiteral("Plan state"))
                state = l;
        QVERIFY(state);
        QVERIFY2(state->text().contains(QStringLiteral("1 source failed")), qPrintable(state->text()));
    }


    // The cache browser maps the plan onto the selected source: the records that served a step are
    // marked CACHED with the step, the record of the changed step is only looked up.
    void cacheBrowserMarksThePlannedSteps()
    {
        MainWindow window;
        QVERIFY(planChangedDemo(window));

        const QString lastName = QStringLiteral("[stage-3 4/4] RUN ls /out && cat /out/sorted.md5");
        const StepInfo* last = window.steps()->step(window.steps()->indexOfStep(lastName));
        QVERIFY(last);
        QVERIFY(last->isMiss()); // src/two.txt changed: the final RUN runs
        // Browse the source that serves the most steps.
        auto servedBy = [&](int r) {
            int n = 0;
            window.steps()->visitSteps([&](const StepInfo& st) { n += st.source == window.sources()->entry(r).spec; });
            return n;
        };
        int row = 0;
        for (int r = 1; r < window.sources()->rowCount(); ++r)
            if (servedBy(r) > servedBy(row))
                row = r;
        const QString spec = window.sources()->entry(row).spec;
        window.findChild<QListView*>()->setCurrentIndex(window.sources()->index(row));
        window.tabs()->setCurrentWidget(window.cacheBrowser());
        QTest::qWait(400); // the browser maps steps a moment after they change

        QTableView* records = nullptr;
        for (auto* view : window.cacheBrowser()->findChildren<QTableView*>())
            if (view->accessibleName() == QStringLiteral("Cache records"))
                records = view;
        QVERIFY(records);
        QStringList servedSteps;
        window.steps()->visitSteps([&](const StepInfo& s) {
            if (s.status == StepInfo::Status::Cached && s.source == spec)
                servedSteps << s.name;
        });
        QVERIFY(!servedSteps.isEmpty());
        QStringList marked;
        for (int r = 0; r < records->model()->rowCount(); ++r) {
            const QString cell = records->model()->index(r, RecordsModel::StepColumn).data().toString();
            if (cell.startsWith(QStringLiteral("CACHED from here: ")))
                marked << cell.mid(18).split(QStringLiteral(", "));
            else if (cell.startsWith(QStringLiteral("looked up: ")))
                for (const QString& name : cell.mid(11).split(QStringLiteral(", ")))
                    QVERIFY2(!servedSteps.contains(name), qPrintable(name));
        }
        marked.removeDuplicates();
        marked.sort();
        servedSteps.sort();
        QCOMPARE(marked, servedSteps);
        QVERIFY(!marked.contains(lastName)); // it missed: no record served it

        // The graph marks the same records.
        auto* graph = window.cacheBrowser()->findChild<KeyGraphView*>();
        QVERIFY(graph);
        int servedNodes = 0;
        for (QGraphicsItem* item : graph->scene()->items())
            if (item->toolTip().contains(QStringLiteral("\nserved: ")))
                ++servedNodes;
        QVERIFY(servedNodes > 0);
        QVERIFY2(window.cacheBrowser()->stepSummary().contains(QStringLiteral("served")),
                 qPrintable(window.cacheBrowser()->stepSummary()));
        test::screenshot(&window, QStringLiteral("main-window-cache-browser-steps.png"));
    }

    // The plan uses the caches the sources panel imported: a source that has gone away since its
    // import (the directory removed) still serves the plan, exactly as the panel shows it.
    void planReusesThePanelsImports()
    {
        MainWindow window;
        window.show();
        const DemoProject demo{kDemo};
        QTemporaryDir copy;
        QVERIFY(copy.isValid());
        const std::filesystem::path cacheDir = std::filesystem::path(copy.path().toStdString()) / "cache-max";
        std::filesystem::copy((kDemo + QStringLiteral("/cache-max")).toStdString(), cacheDir,
                              std::filesystem::copy_options::recursive);
        const QString spec = QStringLiteral("type=local,src=") + QString::fromStdString(cacheDir.string());
        window.buildPanel()->setRequest(demo.request(false));
        QSignalSpy imported(&window, &MainWindow::importsFinished);
        window.openSources({spec});
        QVERIFY(imported.wait(20000));
        QCOMPARE(window.sources()->entry(0).state, SourceEntry::State::Imported);

        std::filesystem::remove_all(cacheDir); // importing it again now fails
        window.plan();
        QVERIFY(waitForPlan(window));
        QVERIFY(!window.failureBanner()->isVisible());
        const QModelIndex last = window.steps()->indexOfStep(QStringLiteral("[stage-3 4/4] RUN ls /out && cat /out/sorted.md5"));
        QVERIFY(last.isValid());
        QCOMPARE(window.steps()->step(last)->status, StepInfo::Status::Cached);
        QCOMPARE(window.steps()->step(last)->source, spec);
        QCOMPARE(imported.size(), 1); // the plan imported nothing

        // A source re-imported after the change shows the failure, and the next plan agrees.
        window.importAll();
        QVERIFY(imported.wait(20000));
        QCOMPARE(window.sources()->entry(0).state, SourceEntry::State::Failed);
        window.plan();
        QVERIFY(waitForPlan(window));
        QVERIFY(window.failureBanner()->isVisible());
        QVERIFY(window.steps()->step(window.steps()->indexOfStep(
                    QStringLiteral("[stage-3 4/4] RUN ls /out && cat /out/sorted.md5")))->status != StepInfo::Status::Cached);
    }
    void badInputFailsInWords()
    {
        MainWindow window;
        window.show();
        QTemporaryDir noDockerfile;
        BuildRequest r;
        r.context = noDockerfile.path();
        window.buildPanel()->setRequest(r);
        QSignalSpy failed(&window, &MainWindow::planFailed);
        window.plan();
        QVERIFY(failed.wait(20000));
        QVERIFY2(failed.first().first().toString().contains(QStringLiteral("Dockerfile")),
                 qPrintable(failed.first().first().toString()));
    }

    // A 500-step project with a large context: the event loop keeps turning while it is planned.
    void planNeverStallsTheGui()
    {
        QTemporaryDir project;
        QVERIFY(project.isValid());
        QString dockerfile = QStringLiteral("FROM 127.0.0.1:5055/library/busybox:latest\n");
        for (int i = 0; i < 250; ++i) {
            QDir().mkpath(project.filePath(QStringLiteral("d%1").arg(i)));
            for (int f = 0; f < 80; ++f) {
                QFile file(project.filePath(QStringLiteral("d%1/f%2.txt").arg(i).arg(f)));
                QVERIFY(file.open(QIODevice::WriteOnly));
                file.write(QByteArray(4096, char('a' + (i + f) % 26)));
            }
            dockerfile += QStringLiteral("COPY d%1/ /d%1/\nRUN echo %1 >> /steps.txt\n").arg(i);
        }
        QFile df(project.filePath(QStringLiteral("Dockerfile")));
        QVERIFY(df.open(QIODevice::WriteOnly));
        df.write(dockerfile.toUtf8());
        df.close();

        MainWindow window;
        openDemoAt(window, project.path());

        test::EventLoopStalls stalls;
        stalls.start();
        QElapsedTimer planTime;
        planTime.start();
        window.plan();
        QVERIFY(waitForPlan(window, 300000));
        const qint64 planned = planTime.elapsed();
        stalls.stop();
        const qint64 maxGap = stalls.worst();
        QCOMPARE(window.steps()->stepCount(), 501);
        QCOMPARE(window.steps()->countWithStatus(StepInfo::Status::Run), 500);
        // The same plan on this thread, for scale: a stall of about this length is what the check catches.
        QElapsedTimer syncTime;
        syncTime.start();
        BuildRequest r = DemoProject{kDemo}.request(false);
        r.context = project.path();
        const solver::DryRunReport sync = engineReport(r, DemoProject{kDemo}.cacheSpecs());
        const qint64 syncMs = syncTime.elapsed();
        QCOMPARE(static_cast<int>(sync.steps.size()), 501);
        qInfo("plan of 500 steps (20000 context files): %lld ms on the engine's threads, %lld ms if run on this thread; "
              "longest event-loop gap %lld ms", planned, syncMs, maxGap);
        QVERIFY2(maxGap < 500, qPrintable(QStringLiteral("the GUI stalled for %1 ms").arg(maxGap)));
        // Here the plan costs less than 500 ms, so also compare with its cost: a plan run on the GUI
        // thread would stall it for about that long.
        const qint64 bound = std::max<qint64>(150, syncMs / 2);
        QVERIFY2(maxGap < bound, qPrintable(QStringLiteral("the GUI stalled for %1 ms (plan cost %2 ms)")
                                                .arg(maxGap)
                                                .arg(syncMs)));
    }

private:
    QTemporaryDir settingsDir_;
};

QTEST_MAIN(TestBuildView)
#include "test_build_view.moc"

// The Compare and History tabs on the offscreen platform, with real builds of the bundled demo
// (bubblewrap for its RUN steps): a compare produces both modes' series and a verdict; two builds
// show up in the history and their diff names the step the changed file broke.
#include "build/build_history.h"
#include "buildpanel/build_request_options.h"
#include "compare/compare_view.h"
#include "demo_project.h"
#include "history/history_view.h"
#include "main_window.h"
#include "support/screenshot.h"
#include "support/test_settings.h"

#include <QBarSet>
#include <QBoxPlotSeries>
#include <QBoxSet>
#include <QChart>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStackedBarSeries>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace cachescope;
using namespace cachescope::ui;

namespace {
const QString kDemoDir = QStringLiteral(CACHESCOPE_SOURCE_DEMO_DIR);

QString screenshotDir()
{
    return qEnvironmentVariable("CACHESCOPE_SCREENSHOT_DIR");
}

int rowContaining(QTableWidget* table, int column, const QString& text)
{
    for (int row = 0; row < table->rowCount(); ++row)
        if (table->item(row, column) && table->item(row, column)->text().contains(text))
            return row;
    return -1;
}
} // namespace

class TestCompareHistory : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        test::keepSettingsIn(settingsDir_);
    }

    void compareDemo()
    {
        MainWindow window;
        window.resize(1400, 860);
        window.show();
        QSignalSpy imported(&window, &MainWindow::importsFinished);
        window.openDemo(kDemoDir);
        QVERIFY(imported.wait(30000));
        auto* compare = window.findChild<CompareView*>();
        QVERIFY(compare);
        window.tabs()->setCurrentWidget(compare);
        // One run each is what the test needs; the documentation picture shows the spread of three.
        compare->runsBox()->setValue(screenshotDir().isEmpty() ? 1 : 3);
        QSignalSpy finished(compare, &CompareView::compareFinished);
        QSignalSpy failed(compare, &CompareView::compareFailed);
        QTest::mouseClick(compare->runButton(), Qt::LeftButton);
        QVERIFY(!compare->runButton()->isEnabled());
        QVERIFY(compare->cancelButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() + failed.count() > 0, 300000);
        QVERIFY2(failed.isEmpty(), qPrintable(failed.isEmpty() ? QString() : failed.first().first().toString()));
        QVERIFY(compare->runButton()->isEnabled());

        // Wall times: two box plot series, one per mode, with real values.
        const auto series = compare->timesChart()->series();
        QCOMPARE(series.size(), 2);
        for (QAbstractSeries* s : series) {
            auto* box = qobject_cast<QBoxPlotSeries*>(s);
            QVERIFY(box);
            QCOMPARE(box->count(), 1);
            const QBoxSet* set = box->boxSets().first();
            QVERIFY2(set->at(QBoxSet::Median) > 0, qPrintable(box->name()));
            QVERIFY(set->at(QBoxSet::LowerExtreme) <= set->at(QBoxSet::Median));
            QVERIFY(set->at(QBoxSet::Median) <= set->at(QBoxSet::UpperExtreme));
        }
        QVERIFY(series[0]->name().startsWith(QStringLiteral("No import")));
        QVERIFY(series[1]->name().startsWith(QStringLiteral("With import")));

        // Per step: stacked per mode; the cold build ran its steps, so its bar has step time.
        QCOMPARE(compare->stepsChart()->series().size(), 1);
        auto* stacked = qobject_cast<QStackedBarSeries*>(compare->stepsChart()->series().first());
        QVERIFY(stacked);
        QVERIFY(stacked->count() >= 2); // at least one step and the rest
        double cold = 0, warm = 0, coldSteps = 0;
        for (const QBarSet* set : stacked->barSets()) {
            QCOMPARE(set->count(), 2);
            cold += set->at(0);
            warm += set->at(1);
            if (set != stacked->barSets().last())
                coldSteps += set->at(0);
        }
        QVERIFY(cold > 0 && warm > 0 && coldSteps > 0);

        const QString verdict = compare->verdictLabel()->text();
        QVERIFY2(verdict.startsWith(QStringLiteral("import saved")) || verdict.startsWith(QStringLiteral("import did not help")),
                 qPrintable(verdict));
        QCOMPARE(compare->runsTable()->rowCount(), 2 * compare->runsBox()->value());
        QTest::qWait(50);
        test::screenshot(&window, QStringLiteral("main-window-compare.png"));
    }

    // Cancel stops the running build promptly; its temporary data dir goes with it.
    void cancelCompare()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        qputenv("TMPDIR", tmp.path().toUtf8());
        MainWindow window;
        window.show();
        QSignalSpy imported(&window, &MainWindow::importsFinished);
        window.openDemo(kDemoDir);
        QVERIFY(imported.wait(30000));
        auto* compare = window.findChild<CompareView*>();
        compare->runsBox()->setValue(20);
        QSignalSpy finished(compare, &CompareView::compareFinished);
        QSignalSpy cancelled(compare, &CompareView::compareCancelled);
        QTest::mouseClick(compare->runButton(), Qt::LeftButton);
        QTest::mouseClick(compare->cancelButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!cancelled.isEmpty(), 30000);
        QVERIFY(finished.isEmpty());
        QVERIFY(compare->runButton()->isEnabled());
        QVERIFY(!compare->cancelButton()->isEnabled());
        QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
        qunsetenv("TMPDIR");
    }

    void historyDiffOfTwoBuilds()
    {
        // Two real builds into one data dir: the demo, then the demo with src/two.txt changed.
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const DemoProject demo{kDemoDir};
        for (bool changed : {false, true}) {
            build::BuildOptions o = buildOptionsFor(demo.request(changed), {});
            o.dataDir = data.path().toStdString();
            const build::BuildResult r = build::BuildSession(o).run();
            QVERIFY2(r.ok, r.error.c_str());
        }

        MainWindow window;
        window.resize(1400, 860);
        window.show();
        auto* history = window.findChild<HistoryView*>();
        QVERIFY(history);
        QSignalSpy loaded(history, &HistoryView::loaded);
        history->setDataDir(data.path().toStdString());
        window.tabs()->setCurrentWidget(history);
        QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 10000);
        QTRY_COMPARE(history->buildList()->topLevelItemCount(), 2);
        QCOMPARE(history->builds()[0].context, demo.changedProject().toStdString()); // newest first

        history->buildList()->topLevelItem(0)->setSelected(true);
        history->buildList()->topLevelItem(1)->setSelected(true);
        QTableWidget* diff = history->diffTable();
        QVERIFY(diff->rowCount() >= 8);
        // The COPY of the changed file: the files it copies changed (its definition key did not).
        const int copy = rowContaining(diff, 0, QStringLiteral("COPY src/ /src/"));
        QVERIFY(copy >= 0);
        QCOMPARE(diff->item(copy, 4)->text(), QStringLiteral("files it copies"));
        QVERIFY(diff->item(copy, 2)->text().startsWith(QStringLiteral("run")));
        // A step before it: run in the first build, from the local store in the second.
        const int setup = rowContaining(diff, 0, QStringLiteral("[base 2/2] RUN"));
        QVERIFY(setup >= 0);
        QVERIFY(diff->item(setup, 1)->text().startsWith(QStringLiteral("run")));
        QCOMPARE(diff->item(setup, 2)->text(), QStringLiteral("cached from local"));
        QVERIFY(diff->item(setup, 4)->text().contains(QStringLiteral("state")));
        QVERIFY(!diff->item(setup, 4)->text().contains(QStringLiteral("cache key")));
        // The last step ran in both, over the same definition: nothing to report.
        const int last = rowContaining(diff, 0, QStringLiteral("[stage-3 4/4] RUN"));
        QVERIFY(last >= 0);
        QCOMPARE(diff->item(last, 4)->text(), QString());
        QVERIFY2(history->diffSummary()->text().contains(QStringLiteral("steps changed")),
                 qPrintable(history->diffSummary()->text()));
        QTest::qWait(50);
        test::screenshot(&window, QStringLiteral("main-window-history.png"));
    }

private:
    QTemporaryDir settingsDir_;
};

QTEST_MAIN(TestCompareHistory)
#include "test_compare_history.moc"

// The main window on the offscreen platform: sources added through the dialog import on the
// engine's threads, their state shows in the list, failures raise the banner, and the cache
// browser shows the records of the selected source.
#include "browser/cache_browser.h"
#include "cache/imported_cache.h"
#include "main_window.h"
#include "models/source_list_model.h"
#include "sources/source_dialog.h"
#include "sources/sources_panel.h"
#include "support/fixtures.h"
#include "support/screenshot.h"
#include "support/test_settings.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace cachescope;
using namespace cachescope::ui;

namespace {
QString fixtureCache(const char* fixture, const char* variant)
{
    return QString::fromStdString(test::cacheVariant(fixture, variant).string());
}
} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        test::keepSettingsIn(settingsDir_);
    }

    void addSourceThroughDialog()
    {
        MainWindow window;
        window.show();
        QSignalSpy finished(&window, &MainWindow::importsFinished);
        // The dialog is modal: fill it in once it is up.
        QTimer::singleShot(0, this, [] {
            auto* dialog = qobject_cast<SourceDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            auto* tabs = dialog->findChild<QTabWidget*>();
            tabs->setCurrentIndex(1); // Local directory
            auto edits = tabs->currentWidget()->findChildren<QLineEdit*>();
            QVERIFY(!edits.isEmpty());
            QLineEdit* dir = nullptr;
            for (QLineEdit* e : edits)
                if (e->accessibleName() == QStringLiteral("Local cache directory"))
                    dir = e;
            QVERIFY(dir);
            dir->setText(fixtureCache("01-single-stage", "local-max"));
            QCOMPARE(dialog->spec(), QStringLiteral("type=local,src=") + fixtureCache("01-single-stage", "local-max"));
            dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->click();
        });
        window.sourcesPanel()->addSourceInteractively();
        QVERIFY(finished.wait(20000));
        QCOMPARE(window.sources()->rowCount(), 1);
        const SourceEntry& e = window.sources()->entry(0);
        QCOMPARE(e.state, SourceEntry::State::Imported);
        QVERIFY2(e.summary.contains(QStringLiteral("9 records")), qPrintable(e.summary));
        QVERIFY(!window.failureBanner()->isVisible());

        // The browser follows the selected source and lists its records.
        QTableView* records = nullptr;
        for (auto* view : window.cacheBrowser()->findChildren<QTableView*>())
            if (view->accessibleName() == QStringLiteral("Cache records"))
                records = view;
        QVERIFY(records);
        QCOMPARE(records->model()->rowCount(), 9);
    }

    void failedSourceShowsBanner()
    {
        MainWindow window;
        window.show();
        QSignalSpy finished(&window, &MainWindow::importsFinished);
        QTemporaryDir empty;
        window.openSources({fixtureCache("02-multi-stage", "local-max").prepend(QStringLiteral("type=local,src=")),
                            QStringLiteral("type=local,src=") + empty.path()});
        QVERIFY(finished.wait(20000));
        QCOMPARE(window.sources()->entry(0).state, SourceEntry::State::Imported);
        QCOMPARE(window.sources()->entry(1).state, SourceEntry::State::Failed);
        QVERIFY(window.failureBanner()->isVisible());
        QVERIFY2(window.failureBanner()->text().contains(empty.path()), qPrintable(window.failureBanner()->text()));
        QVERIFY(window.failureBanner()->text().contains(QStringLiteral("index.json")));
        window.findChild<QListView*>()->setCurrentIndex(window.sources()->index(0));
        window.tabs()->setCurrentWidget(window.cacheBrowser());
        window.resize(1400, 860);
        QTest::qWait(50);
        test::screenshot(&window, QStringLiteral("main-window-cache-browser.png"));
    }

    void dialogRejectsBadSpec()
    {
        SourceDialog dialog;
        dialog.setSpec(QStringLiteral("type=nope,ref=x"));
        auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        QVERIFY(!ok->isEnabled());
        dialog.setSpec(QStringLiteral("type=registry,ref=127.0.0.1:5000/cache:main,registry.insecure=true"));
        QVERIFY(ok->isEnabled());
        QCOMPARE(dialog.spec(), QStringLiteral("type=registry,ref=127.0.0.1:5000/cache:main,registry.insecure=true"));
    }

private:
    QTemporaryDir settingsDir_;
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"

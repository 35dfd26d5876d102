// cachescope-cli history: two real builds of fixture 01 (the context, then context-modified with
// c.txt changed) are listed newest first, a damaged record is skipped with its reason, and the diff
// names the COPY whose file changed and the steps the second build took from the local store or
// never needed.
#include "support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <fstream>

namespace fs = std::filesystem;

class TestHistoryCli : public QObject {
    Q_OBJECT
private:
    QTemporaryDir xdg_;
    int rc_ = -1;
    QString err_;

    QString run(const QStringList& args)
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_DATA_HOME", xdg_.path());
        p.setProcessEnvironment(env);
        p.start(CACHESCOPE_CLI, args);
        p.waitForFinished(300000);
        rc_ = p.exitCode();
        err_ = QString::fromUtf8(p.readAllStandardError());
        return QString::fromUtf8(p.readAllStandardOutput());
    }

private slots:
    void listAndDiff()
    {
        QVERIFY(xdg_.isValid());
        const fs::path fixture = cachescope::test::fixturesDir() / "buildkit-v0.24" / "01-single-stage";
        const QString base = QString::fromStdString("127.0.0.1:5055/library/busybox:latest=oci-layout://" +
                                                    (cachescope::test::fixturesDir() / "buildkit-v0.24" / "base-image" /
                                                     "oci")
                                                        .string() +
                                                    ":latest");
        QCOMPARE(run({"history"}), QString("no builds in " + xdg_.path() + "/cachescope/history/builds\n"));
        for (const char* variant : {"context", "context-modified"}) {
            const QString out = run({"build", "--build-context", base, QString::fromStdString((fixture / variant).string())});
            QVERIFY2(rc_ == 0, qPrintable(out + err_));
        }
        std::ofstream(fs::path(xdg_.path().toStdString()) / "cachescope" / "history" / "builds" / "damaged.json") << "{";

        const QString list = run({"history"});
        QCOMPARE(rc_, 0);
        const QStringList lines = list.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].startsWith("  1  ") && lines[0].endsWith("/context-modified"), qPrintable(list));
        QVERIFY2(lines[1].contains("0 cached, 5 run"), qPrintable(list));
        QVERIFY2(err_.contains("skipped ") && err_.contains("damaged.json: not valid JSON"), qPrintable(err_));

        const QJsonArray builds = QJsonDocument::fromJson(run({"history", "--json"}).toUtf8()).array();
        QCOMPARE(builds.size(), 2);
        QCOMPARE(builds[1].toObject()["steps"].toArray().size(), 6);
        QCOMPARE(builds[1].toObject()["withImport"].toBool(), false);

        const QString diff = run({"history", "diff", "2", "1"});
        QVERIFY2(rc_ == 0, qPrintable(err_));
        QVERIFY2(diff.contains("\n~ [5/6] COPY c.txt ./: ran ") && diff.contains(" files changed\n"), qPrintable(diff));
        QVERIFY2(diff.contains("\n~ [4/6] RUN cat a.txt b.txt") && diff.contains("-> cached (local)\n"), qPrintable(diff));
        // Below the cached RUN nothing was needed (BuildKit's lazy rule); the last RUN ran in both.
        QVERIFY2(diff.contains("\n~ [2/6] WORKDIR /app: ran ") && diff.contains("ms -> not-evaluated\n"), qPrintable(diff));
        QVERIFY2(diff.contains("\n= [6/6] RUN wc -c"), qPrintable(diff));
        QVERIFY2(diff.contains("5 of 6 steps changed"), qPrintable(diff));

        run({"history", "diff", "1", "9"});
        QCOMPARE(rc_, 1);
        QVERIFY2(err_.contains("build 9: there are 2 builds in the history"), qPrintable(err_));
    }
};

QTEST_GUILESS_MAIN(TestHistoryCli)
#include "test_history_cli.moc"

// removeTree: a scratch tree goes completely, on several threads, without following symlinks out of it.
#include "base/tree_removal.h"

#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace cachescope;
namespace fs = std::filesystem;

class TestTreeRemoval : public QObject {
    Q_OBJECT
private slots:
    void removesEverythingAndFollowsNoSymlink()
    {
        QTemporaryDir tmp;
        const fs::path base = tmp.path().toStdString();
        const fs::path outside = base / "outside";
        fs::create_directories(outside / "keep");
        std::ofstream(outside / "keep" / "file") << "stays";

        const fs::path root = base / "scratch";
        for (int d = 0; d < 20; ++d)
            for (int f = 0; f < 50; ++f) {
                const fs::path dir = root / ("step-" + std::to_string(d)) / "diff" / ("pkg" + std::to_string(f % 5));
                fs::create_directories(dir);
                std::ofstream(dir / ("file" + std::to_string(f))) << "content " << f;
            }
        fs::create_directory_symlink(outside, root / "step-0" / "link-to-outside");
        fs::create_symlink(outside / "keep" / "file", root / "step-1" / "link-to-file");
        fs::create_hard_link(outside / "keep" / "file", root / "step-2" / "hardlink");
        ::mkfifo((root / "step-3" / "fifo").c_str(), 0600);
        if (::geteuid() == 0) // a read-only dir, as layers have; only root can empty it
            fs::permissions(root / "step-4" / "diff", fs::perms(0555));

        QVERIFY(removeTree(root, 4));
        QVERIFY(!fs::exists(fs::symlink_status(root)));
        std::string text;
        std::ifstream(outside / "keep" / "file") >> text;
        QCOMPARE(text, std::string("stays"));
    }

    void missingRootAndPlainFile()
    {
        QTemporaryDir tmp;
        const fs::path base = tmp.path().toStdString();
        QVERIFY(removeTree(base / "never-created"));
        std::ofstream(base / "file") << "x";
        QVERIFY(removeTree(base / "file"));
        QVERIFY(!fs::exists(base / "file"));
    }
};

QTEST_GUILESS_MAIN(TestTreeRemoval)
#include "test_tree_removal.moc"

// .dockerignore: reading the file like Docker and matching paths like moby/patternmatcher.
#include "base/error.h"
#include "base/files.h"
#include "dockerfile/dockerignore.h"
#include "support/fixtures.h"

#include <QTest>

using namespace cachescope;
using namespace cachescope::dockerfile;

class TestDockerignore : public QObject {
    Q_OBJECT
private slots:
    void readsLinesLikeDocker()
    {
        const std::string text = "\xEF\xBB\xBF# comment\n"
                                 "  # not a comment: '#' must be in column 0\n"
                                 "\n"
                                 "   node_modules/  \r\n"
                                 "/abs/./x/../y\n"
                                 "! keep.txt\n"
                                 "./rel\n"
                                 "a//b/\n";
        QCOMPARE(DockerIgnore::readPatterns(text),
                 (std::vector<std::string>{"# not a comment: '#' must be in column 0", "node_modules", "abs/y",
                                           "!keep.txt", "rel", "a/b"}));
    }

    void patternTable()
    {
        struct Row {
            std::vector<std::string> patterns;
            std::string path;
            bool excluded;
        };
        const std::vector<Row> rows = {
            {{"*.log"}, "a.log", true},
            {{"*.log"}, "dir/a.log", false},            // '*' does not cross '/'
            {{"**/*.log"}, "dir/sub/a.log", true},
            {{"**/*.log"}, "a.log", true},
            {{"**"}, "anything/at/all", true},
            {{"dir/**"}, "dir/x/y", true},
            {{"dir/**"}, "dir", false},
            {{"dir/**"}, "dirx/y", false},
            {{"**/foo"}, "a/b/foo", true},
            {{"**/foo"}, "foo", true},
            {{"**/foo"}, "a/foobar", false},
            {{"a?c"}, "abc", true},
            {{"a?c"}, "a/c", false},
            {{"[a-c]x"}, "bx", true},
            {{"[a-c]x"}, "dx", false},
            {{"[^a-c]x"}, "dx", true},
            {{"\\*star"}, "*star", true},
            {{"\\*star"}, "xstar", false},
            {{"a.b"}, "axb", false},                    // '.' is literal
            {{"secret*"}, "secret-key.txt", true},
            {{"dir"}, "dir/deep/file", true},           // a parent directory matches
            {{"dir", "!dir/keep"}, "dir/keep", false},  // exceptions re-include children
            {{"dir", "!dir/keep"}, "dir/other", true},
            {{"*.md", "!README.md"}, "README.md", false},
            {{"!README.md", "*.md"}, "README.md", true}, // the later pattern wins
            {{"a/b"}, "a", false},
            {{"/rooted"}, "rooted", true},
            {{"./dot"}, "dot", true},
            {{"x/"}, "x/y", true},
            {{"**/*.log", "!keep.log", "secret*"}, "nested/a/skip.log", true},
            {{"**/*.log", "!keep.log", "secret*"}, "keep.log", false},
            {{"**/*.log", "!keep.log", "secret*"}, "nested/keep.log", true}, // "!keep.log" is the root file only
            {{"**/*.log", "!**/keep.log"}, "nested/keep.log", false},
        };
        for (const Row& r : rows) {
            std::vector<std::string> cleaned;
            for (const std::string& p : r.patterns) {
                const auto read = DockerIgnore::readPatterns(p);
                cleaned.insert(cleaned.end(), read.begin(), read.end());
            }
            const DockerIgnore di = DockerIgnore::fromPatterns(cleaned);
            std::string msg = r.path + " with";
            for (const auto& p : r.patterns)
                msg += " " + p;
            QVERIFY2(di.excluded(r.path) == r.excluded, msg.c_str());

            // The incremental walk gives the same answer as the one-shot check.
            DockerIgnore::MatchInfo info;
            std::string prefix;
            bool walked = false;
            for (std::size_t pos = 0;;) {
                const auto slash = r.path.find('/', pos);
                prefix = r.path.substr(0, slash);
                DockerIgnore::MatchInfo next;
                walked = di.matchesUsingParentResults(prefix, info, next);
                info = next;
                if (slash == std::string::npos)
                    break;
                pos = slash + 1;
            }
            QVERIFY2(walked == r.excluded, ("walk: " + msg).c_str());
        }
    }

    void rootAndErrors()
    {
        const DockerIgnore all = DockerIgnore::fromPatterns({"**"});
        QVERIFY(!all.excluded("."));
        QVERIFY(!all.excluded(""));
        QVERIFY_THROWS_EXCEPTION(Error, DockerIgnore::fromPatterns({"!"}));
        QVERIFY_THROWS_EXCEPTION(Error, DockerIgnore::fromPatterns({"[abc"}));
    }

    void descendIntoExcludedDirectories()
    {
        const DockerIgnore plain = DockerIgnore::fromPatterns({"build", "!build/keep/me.txt"});
        QVERIFY(plain.excluded("build"));
        QVERIFY(plain.mayReincludeBelow("build"));
        QVERIFY(plain.mayReincludeBelow("build/keep"));
        QVERIFY(!plain.mayReincludeBelow("build/other"));
        QVERIFY(!DockerIgnore::fromPatterns({"build"}).mayReincludeBelow("build"));
        QVERIFY(DockerIgnore::fromPatterns({"build", "!**/*.txt"}).mayReincludeBelow("build/x"));
    }

    // Catalogue 08: BuildKit left build.log, nested/a/skip.log and secret-key.txt out and kept keep.log.
    void catalogueContextChecksums()
    {
        const auto dir = test::fixturesDir() / "buildkit-v0.24/catalogue/08-context-checksums/context";
        const DockerIgnore di = DockerIgnore::parse(readFile(dir / ".dockerignore"));
        QCOMPARE(di.patterns(), (std::vector<std::string>{"**/*.log", "!keep.log", "secret*"}));
        const std::vector<std::pair<std::string, bool>> expect = {
            {".dockerignore", false}, {"Dockerfile", false}, {"build.log", true}, {"exec.sh", false},
            {"keep.log", false}, {"link-abs", false}, {"link-rel", false}, {"nested", false},
            {"nested/a", false}, {"nested/a/b", false}, {"nested/a/b/deep.txt", false},
            {"nested/a/skip.log", true}, {"nested/top.txt", false}, {"plain.txt", false},
            {"secret-key.txt", true}, {"suid.bin", false}, {"xattr.txt", false}, {"emptydir", false},
        };
        for (const auto& [path, excluded] : expect)
            QVERIFY2(di.excluded(path) == excluded, path.c_str());
    }
};

QTEST_APPLESS_MAIN(TestDockerignore)
#include "test_dockerignore.moc"

// Cache keys byte for byte against real BuildKit v0.24: every op below is built by hand from its
// Dockerfile instruction, encoded by engine/solver, and compared with the plaintexts BuildKit's
// debug DB recorded (dumps/cache-all.json), the exported cache config (records and links) and the
// step table of each case's keys.md. Content keys are computed over the real fixture contexts
// (and over stage outputs re-created in temp dirs with the owners and modes keys.md lists).
#include "base/error.h"
#include "base/files.h"
#include "base/go_json.h"
#include "solver/cache_map.h"
#include "solver/content_hash.h"
#include "solver/go_path.h"
#include "solver/path_patterns.h"
#include "support/buildkit_oracle.h"
#include "support/fixtures.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace cachescope;
using namespace cachescope::solver;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path bk() { return test::fixturesDir() / "buildkit-v0.24"; }
fs::path cat(const std::string& name) { return bk() / "catalogue" / name; }

QByteArray qb(const std::string& s) { return QByteArray::fromStdString(s); }

// ---- BuildKit's own record of what it hashed -------------------------------------------------

// The shared oracle (plaintexts, exported records) plus what a catalogue case's keys.md lists.
struct Oracle : test::BuildkitOracle {
    std::multimap<std::string, std::string> steps; // "L12" -> record digest (catalogue keys.md)
    std::set<std::string> tableSelectors;          // selector digests listed in keys.md
};

json readJson(const fs::path& p) { return json::parse(readFile(p)); }

void loadKeysMd(Oracle& o, const fs::path& keysMd)
{
    std::ifstream in(keysMd);
    std::string line;
    const std::regex row(R"(^\| (L\d+) .*\| `\[\d+\] (sha256:[0-9a-f]{64})` \|)");
    const std::regex digest(R"(sha256:[0-9a-f]{64})");
    bool inSelectors = false;
    while (std::getline(in, line)) {
        if (line.starts_with("## "))
            inSelectors = line.starts_with("## Selectors");
        if (inSelectors && line.starts_with("| `sha256:")) {
            std::smatch m;
            if (std::regex_search(line, m, digest))
                o.tableSelectors.insert(m.str());
        }
        // Rows name one or more lines ("L1 …<br>L4 …"); all of them map to the record.
        std::smatch m;
        if (std::regex_search(line, m, row)) {
            const std::string rec = m[2].str();
            const std::regex label(R"((?:^\| |<br>)(L\d+) )");
            for (auto it = std::sregex_iterator(line.begin(), line.end(), label); it != std::sregex_iterator(); ++it)
                o.steps.emplace((*it)[1].str(), rec);
        }
    }
}

Oracle catalogueOracle(const std::string& name, const fs::path& dir = {})
{
    const fs::path base = dir.empty() ? cat(name) : dir;
    Oracle o;
    static_cast<test::BuildkitOracle&>(o) = test::catalogueOracle(base);
    if (fs::exists(base / "keys.md"))
        loadKeysMd(o, base / "keys.md");
    return o;
}

Oracle fixtureOracle(const std::string& fixture)
{
    Oracle o;
    static_cast<test::BuildkitOracle&>(o) = test::fixtureOracle(fixture);
    return o;
}

// ---- checks ----------------------------------------------------------------------------------

// The op's plaintext equals BuildKit's byte for byte, its record was exported, and (catalogue)
// the keys.md step table lists that record for the Dockerfile line.
bool checkOp(const Oracle& o, const CacheMap& cm, const std::string& line = {}, int output = 0)
{
    const auto it = o.plain.find(cm.digest.str());
    if (it == o.plain.end()) {
        qWarning("no BuildKit plaintext for %s; ours:\n%s", cm.digest.str().c_str(), cm.plaintext.c_str());
        return false;
    }
    [&] { QCOMPARE(qb(cm.plaintext), qb(it->second)); }();
    if (QTest::currentTestFailed())
        return false;
    const std::string record = cm.record(output).str();
    if (!o.recordIx.count(record)) {
        qWarning("record %s not exported", record.c_str());
        return false;
    }
    const auto rp = o.plain.find(record);
    if (rp != o.plain.end() && rp->second != cm.digest.str() + "@" + std::to_string(output)) {
        qWarning("record plaintext differs for %s", record.c_str());
        return false;
    }
    if (!line.empty()) {
        auto [b, e] = o.steps.equal_range(line);
        bool found = false;
        for (auto i = b; i != e; ++i)
            found = found || i->second == record;
        if (!found) {
            qWarning("keys.md does not list %s for %s", record.c_str(), line.c_str());
            return false;
        }
    }
    return true;
}

// The exported config links `parent` into input `input` of `child` with exactly this selector.
bool hasLink(const Oracle& o, const oci::Digest& child, int input, const oci::Digest& parent, const oci::Digest& selector)
{
    const auto c = o.recordIx.find(child.str());
    const auto p = o.recordIx.find(parent.str());
    if (c == o.recordIx.end() || p == o.recordIx.end())
        return false;
    const auto& inputs = o.config.at("records").at(c->second).value("inputs", json::array());
    if (static_cast<std::size_t>(input) >= inputs.size())
        return false;
    for (const auto& alt : inputs.at(static_cast<std::size_t>(input))) {
        if (alt.at("link").get<std::size_t>() == p->second && alt.value("selector", std::string()) == selector.str())
            return true;
    }
    return false;
}

// A selector digest BuildKit used: exported on a link, recorded in the debug DB, or in keys.md.
bool knownSelector(const Oracle& o, const CacheMapDep& dep)
{
    if (dep.selector.empty())
        return false;
    const auto it = o.plain.find(dep.selector.str());
    if (it != o.plain.end())
        return it->second == dep.selectorPlaintext;
    if (o.tableSelectors.count(dep.selector.str()))
        return true;
    for (const auto& r : o.config.at("records"))
        for (const auto& in : r.value("inputs", json::array()))
            for (const auto& alt : in)
                if (alt.value("selector", std::string()) == dep.selector.str())
                    return true;
    return false;
}

// The content key's digest list equals BuildKit's, its record was exported and links into `child`.
bool checkContent(const Oracle& o, const ContentKey& k, const oci::Digest& child, int input)
{
    const auto it = o.plain.find(k.key.digest.str());
    if (it == o.plain.end()) {
        std::string list;
        for (const auto& c : k.checksums)
            list += c.str() + " ";
        qWarning("content key %s (checksums %s) unknown to BuildKit", k.key.digest.str().c_str(), list.c_str());
        return false;
    }
    if (it->second != k.key.plaintext)
        return false;
    return hasLink(o, child, input, k.key.record, oci::Digest());
}

// Every file/dir checksum of the tree that BuildKit also recorded has the same header bytes.
int compareHeaders(const Oracle& o, const ContentTree& tree, const ContentKey& k)
{
    int compared = 0;
    std::vector<oci::Digest> todo = k.checksums;
    std::set<std::string> seen;
    while (!todo.empty()) {
        oci::Digest d = todo.back();
        todo.pop_back();
        if (!seen.insert(d.str()).second)
            continue;
        const auto mine = tree.plaintext(d);
        const auto theirs = o.plain.find(d.str());
        if (!mine || theirs == o.plain.end())
            continue;
        if (*mine != theirs->second)
            return -1;
        ++compared;
        const std::regex digest(R"(sha256:[0-9a-f]{64})");
        for (auto i = std::sregex_iterator(mine->begin(), mine->end(), digest); i != std::sregex_iterator(); ++i)
            todo.push_back(oci::Digest::parse(i->str()));
    }
    return compared;
}

// ---- building ops the way the Dockerfile frontend does ----------------------------------------

Platform linuxAmd64()
{
    Platform p;
    p.os = "linux";
    p.architecture = "amd64";
    return p;
}

struct Image {
    ImageSource source;
    std::vector<std::string> env;
};

Image imageFromLayout(const fs::path& layout)
{
    const json index = readJson(layout / "index.json");
    const std::string manifest = index.at("manifests").at(0).at("digest").get<std::string>();
    const json m = readJson(layout / "blobs" / "sha256" / manifest.substr(7));
    const json config = readJson(layout / "blobs" / "sha256" / m.at("config").at("digest").get<std::string>().substr(7));
    Image img;
    img.source.manifestDigest = oci::Digest::parse(manifest);
    img.source.platform = linuxAmd64();
    for (const auto& d : config.at("rootfs").at("diff_ids"))
        img.source.diffIds.push_back(oci::Digest::parse(d.get<std::string>()));
    img.env = config.at("config").value("Env", std::vector<std::string>{});
    return img;
}

Image busybox() { return imageFromLayout(bk() / "base-image" / "oci"); }

// An image kept as its registry bytes: <name>.manifest.json and <name>.config.json.
Image imageFromFiles(const fs::path& dir, const std::string& name)
{
    Image img;
    img.source.manifestDigest = oci::Digest::of(readFile(dir / (name + ".manifest.json")));
    img.source.platform = linuxAmd64();
    const json config = readJson(dir / (name + ".config.json"));
    for (const auto& d : config.at("rootfs").at("diff_ids"))
        img.source.diffIds.push_back(oci::Digest::parse(d.get<std::string>()));
    img.env = config.at("config").value("Env", std::vector<std::string>{});
    return img;
}

ExecOp runArgs(std::vector<std::string> args, std::vector<std::string> env, std::string cwd = "/", std::string user = {})
{
    ExecOp op;
    op.meta.args = std::move(args);
    op.meta.env = std::move(env);
    op.meta.cwd = std::move(cwd);
    op.meta.user = std::move(user);
    op.meta.removeMountStubsRecursive = true;
    op.mounts = {rootMount()};
    op.platform = linuxAmd64();
    return op;
}

ExecOp sh(std::string cmd, std::vector<std::string> env, std::string cwd = "/", std::string user = {})
{
    return runArgs({"/bin/sh", "-c", std::move(cmd)}, std::move(env), std::move(cwd), std::move(user));
}

std::vector<std::string> plus(std::vector<std::string> env, const std::vector<std::string>& more)
{
    env.insert(env.end(), more.begin(), more.end());
    return env;
}

// A RUN line's command text exactly as written (after "RUN ").
std::string dockerfileRun(const fs::path& dockerfile, int line)
{
    std::ifstream in(dockerfile, std::ios::binary);
    std::string text;
    for (int i = 0; i < line && std::getline(in, text); ++i) {
    }
    return text.substr(4);
}

FileActionCopy contextCopy(std::string src, std::string dest)
{
    FileActionCopy c;
    c.src = std::move(src);
    c.dest = std::move(dest);
    c.followSymlink = c.dirCopyContents = c.createDestPath = c.allowWildcard = c.allowEmptyWildcard = true;
    return c;
}

// One COPY: an action per source, chained; input 0 the stage (or scratch), the source next.
FileOp copyOp(std::vector<FileActionCopy> copies, bool scratch = false)
{
    FileOp op;
    op.numInputs = scratch ? 1 : 2;
    for (std::size_t i = 0; i < copies.size(); ++i) {
        FileAction a;
        a.input = i == 0 ? (scratch ? -1 : 0) : op.numInputs + static_cast<std::int64_t>(i) - 1;
        a.secondaryInput = scratch ? 0 : 1;
        a.output = i + 1 == copies.size() ? 0 : -1;
        a.action = copies[i];
        op.actions.push_back(a);
    }
    return op;
}

FileOp workdir(std::string path, std::optional<ChownOpt> owner = {})
{
    FileActionMkDir mk;
    mk.path = std::move(path);
    mk.mode = 0755;
    mk.makeParents = true;
    mk.owner = std::move(owner);
    FileOp op;
    op.actions.push_back(FileAction{0, -1, 0, mk});
    return op;
}

// A file op on scratch with one action and no inputs (heredoc files, cache mount dirs).
FileOp onScratch(FileActionKind action)
{
    FileOp op;
    op.numInputs = 0;
    op.actions.push_back(FileAction{-1, -1, 0, std::move(action)});
    return op;
}

ChownOpt chownIds(std::uint32_t uid, std::optional<std::uint32_t> gid = {})
{
    ChownOpt c;
    c.user = UserOpt::byId(uid);
    if (gid)
        c.group = UserOpt::byId(*gid);
    return c;
}

Mount bindMount(std::int64_t input, std::string selector, std::string dest, bool readonly = true)
{
    Mount m;
    m.input = input;
    m.selector = std::move(selector);
    m.dest = std::move(dest);
    m.output = SkipOutput;
    m.readonly = readonly;
    return m;
}

Mount cacheMount(std::string dest, std::string id, CacheSharing sharing = CacheSharing::Shared, std::int64_t input = NoInput)
{
    Mount m;
    m.input = input;
    m.dest = std::move(dest);
    m.output = SkipOutput;
    m.mountType = MountType::Cache;
    m.cacheOpt = CacheOpt{std::move(id), sharing};
    return m;
}

// ---- files for stage snapshots -----------------------------------------------------------------

void writeFile(const fs::path& p, const std::string& content, mode_t mode = 0644, uid_t uid = 0, gid_t gid = 0)
{
    fs::create_directories(p.parent_path());
    {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << content;
    }
    QVERIFY(::chmod(p.c_str(), mode) == 0);
    QVERIFY(::lchown(p.c_str(), uid, gid) == 0);
}

void makeDir(const fs::path& p, mode_t mode = 0755, uid_t uid = 0, gid_t gid = 0)
{
    fs::create_directories(p);
    QVERIFY(::chmod(p.c_str(), mode) == 0);
    QVERIFY(::lchown(p.c_str(), uid, gid) == 0);
}

ContentTree contextTree(const fs::path& dir)
{
    ScanOptions o;
    o.keepPlaintexts = true;
    return ContentTree::scan(dir, o);
}

ContentTree snapshotTree(const fs::path& dir)
{
    ScanOptions o;
    o.mode = ScanMode::Snapshot;
    o.keepPlaintexts = true;
    return ContentTree::scan(dir, o);
}

} // namespace

class TestCacheKeys : public QObject {
    Q_OBJECT
private slots:
    void goJsonEscapingOfRunVariants()
    {
        // Catalogue 01 L11/L12: quotes, <>&, backslashes, TAB, U+2028/9, DEL, a control char, emoji.
        const fs::path df = cat("01-run-variants") / "context" / "Dockerfile";
        std::string out;
        appendGoJsonString(out, dockerfileRun(df, 12));
        QCOMPARE(qb(out), qb(std::string("\"printf '%s\\\\n' \\\"tab:\\t ls:\\u2028 ps:\\u2029 del:\x7f ctl:\\u0001 "
                                          "snow:\xe2\x98\x83 emoji:\xf0\x9f\x98\x80\\\" \\u003e /unicode.txt\"")));
    }

    void goPathAndPatterns()
    {
        QCOMPARE(qb(goPathBase("/data/")), qb("data"));
        QCOMPARE(qb(goPathBase("/")), qb("/"));
        QCOMPARE(qb(goPathJoin("/", "")), qb("/"));
        QCOMPARE(qb(goPathJoin("/", "dir/../x/")), qb("/x"));
        QVERIFY(goPathMatch("/*.md", "/a.md"));
        QVERIFY(!goPathMatch("/*.md", "/d/a.md"));
        QVERIFY(goPathMatch("/[ab].txt", "/b.txt"));
        PathPatterns ignore({"**/*.log", "!keep.log", "secret*"});
        QVERIFY(ignore.matches("build.log"));
        QVERIFY(ignore.matches("nested/a/skip.log"));
        QVERIFY(!ignore.matches("keep.log"));
        QVERIFY(ignore.matches("secret-key.txt"));
        QVERIFY(!ignore.matches("plain.txt"));
    }

    void specTestVectors()
    {
        // §7.2 vectors; the fixtures below are the real check.
        ImageSource img;
        std::string abab;
        for (int i = 0; i < 32; ++i)
            abab += "ab";
        img.manifestDigest = oci::Digest::parse("sha256:" + abab);
        img.platform = linuxAmd64();
        img.diffIds = {oci::Digest::parse("sha256:" + std::string(64, '1'))};
        const auto maps = cacheMaps(img);
        QCOMPARE(qb(maps[0].record().str()), qb("sha256:21e9dbb4ce1f85525be3ac7b854e75e7da0f2e5bfa35a93e246f832cc7540f26"));
        QCOMPARE(qb(maps[1].record().str()), qb("sha256:cef9b905e08a1ce7457c4f17292af31ef8f0e25769b876a97fec5b72ba52e2ac"));
        const auto k = contentKeyDigest({oci::Digest::parse("sha256:" + [] {
            std::string s;
            for (int i = 0; i < 32; ++i)
                s += "cd";
            return s;
        }())});
        QCOMPARE(qb(k.record.str()), qb("sha256:4a682478cad2f892ed1d90fba419d1b857a444353c26bd0368d799b62dcffca3"));
    }

    // ---- fixtures 01..04 ------------------------------------------------------------------

    void fixture01SingleStage()
    {
        const Oracle o = fixtureOracle("01-single-stage");
        const Image img = busybox();
        const auto images = cacheMaps(img.source);
        QVERIFY(checkOp(o, images[0]));
        QVERIFY(checkOp(o, images[1]));
        QCOMPARE(qb(images[0].keyPlaintext), qb(o.plain.at(oci::Digest::of(images[0].keyPlaintext).str())));

        const CacheMap wd = cacheMap(workdir("/app"));
        QVERIFY(checkOp(o, wd));
        QVERIFY(hasLink(o, wd.record(), 0, images[0].record(), {}));
        QVERIFY(hasLink(o, wd.record(), 0, images[1].record(), {}));

        const CacheMap copyAb = cacheMap(copyOp({contextCopy("/a.txt", "/app/"), contextCopy("/b.txt", "/app/")}));
        QVERIFY(checkOp(o, copyAb));
        QCOMPARE(qb(copyAb.deps[1].selectorPlaintext), qb(std::string("/b.txt\0/a.txt", 13)));
        QCOMPARE(qb(copyAb.deps[1].selector.str()), qb("sha256:0ffaed2b566100ca06beeb83799a56fc87d269087db375facd80d8bbb8d4cd10"));
        QVERIFY(copyAb.deps[0].selector.empty() && !copyAb.deps[0].contentBased);

        const fs::path ctx = bk() / "01-single-stage" / "context";
        ContentTree tree = contextTree(ctx);
        const ContentKey abKey = tree.contentKey(copyAb.deps[1].contentSelectors);
        QVERIFY(checkContent(o, abKey, copyAb.record(), 1));
        QVERIFY(compareHeaders(o, tree, abKey) >= 2);

        const std::vector<std::string> env = img.env;
        const CacheMap run1 = cacheMap(
            sh("cat a.txt b.txt > combined.txt && echo \"combined: $(wc -c < combined.txt) bytes\"", env, "/app"));
        QVERIFY(checkOp(o, run1));
        QVERIFY(hasLink(o, run1.record(), 0, copyAb.record(), run1.deps[0].selector));
        QCOMPARE(qb(run1.deps[0].selector.str()), qb("sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1"));
        QVERIFY(!run1.deps[0].contentBased);

        const CacheMap copyC = cacheMap(copyOp({contextCopy("/c.txt", "/app/")}));
        QVERIFY(checkOp(o, copyC));
        QVERIFY(checkContent(o, tree.contentKey(copyC.deps[1].contentSelectors), copyC.record(), 1));
        QVERIFY(checkOp(o, cacheMap(sh("wc -c combined.txt c.txt > sizes.txt && cat sizes.txt", env, "/app"))));

        // The modified context (c.txt = "charlie v2") gives the content key BuildKit computed then.
        const Oracle modified = [] {
            Oracle m;
            test::addDebugDump(m, bk() / "01-single-stage" / "keys" / "after-context-modified" / "cache-all.json");
            return m;
        }();
        ContentTree tree2 = contextTree(bk() / "01-single-stage" / "context-modified");
        const ContentKey c2 = tree2.contentKey(copyC.deps[1].contentSelectors);
        QCOMPARE(qb(c2.key.record.str()), qb(std::string("sha256:6b95f2aae471e3f94bc9a8f11ceb21be95c9a326d2d2295b2f298360a3b55690")));
        QCOMPARE(qb(modified.plain.at(c2.key.digest.str())), qb(c2.key.plaintext));
    }

    void fixture02MultiStage()
    {
        const Oracle o = fixtureOracle("02-multi-stage");
        const Image img = busybox();
        const auto images = cacheMaps(img.source);
        QVERIFY(checkOp(o, images[0]) && checkOp(o, images[1]));
        const auto& env = img.env;
        const CacheMap base = cacheMap(sh("mkdir -p /work && echo base > /work/base.txt", env));
        QVERIFY(checkOp(o, base));
        QVERIFY(hasLink(o, base.record(), 0, images[1].record(), base.deps[0].selector));

        const CacheMap copySrc = cacheMap(copyOp({contextCopy("/src", "/src/")}));
        QVERIFY(checkOp(o, copySrc));
        ContentTree ctx = contextTree(bk() / "02-multi-stage" / "context");
        const ContentKey srcKey = ctx.contentKey(copySrc.deps[1].contentSelectors);
        QVERIFY(checkContent(o, srcKey, copySrc.record(), 1));
        QVERIFY(compareHeaders(o, ctx, srcKey) >= 3);

        const CacheMap builder = cacheMap(
            sh("cat /src/*.txt | sort > /work/sorted.txt && md5sum /work/sorted.txt > /work/sorted.md5", env));
        QVERIFY(checkOp(o, builder));
        const CacheMap other = cacheMap(sh("echo independent > /work/other.txt", env));
        QVERIFY(checkOp(o, other));

        const CacheMap fromBuilder =
            cacheMap(copyOp({contextCopy("/work/sorted.txt", "/out/"), contextCopy("/work/sorted.md5", "/out/")}));
        QVERIFY(checkOp(o, fromBuilder));
        QVERIFY(hasLink(o, fromBuilder.record(), 1, builder.record(), fromBuilder.deps[1].selector));
        QCOMPARE(qb(fromBuilder.deps[1].selector.str()),
                 qb("sha256:e2540cc07364d29df530236c336dda96399b03555bd7d1691f07d491583ea114"));

        // The builder stage's output, re-created: root-owned files written by a root RUN.
        QTemporaryDir tmp;
        const fs::path snap = tmp.path().toStdString();
        makeDir(snap);
        makeDir(snap / "work");
        writeFile(snap / "work" / "sorted.txt", "alpha\nbravo\ncharlie\ndelta\n");
        // What `md5sum /work/sorted.txt` wrote (keys.md quotes the md5 of the modified run here).
        const QByteArray md5 =
            QCryptographicHash::hash("alpha\nbravo\ncharlie\ndelta\n", QCryptographicHash::Md5).toHex();
        writeFile(snap / "work" / "sorted.md5", md5.toStdString() + "  /work/sorted.txt\n");
        writeFile(snap / "work" / "other.txt", "independent\n");
        ContentTree stage = snapshotTree(snap);
        QVERIFY(checkContent(o, stage.contentKey(fromBuilder.deps[1].contentSelectors), fromBuilder.record(), 1));

        const CacheMap fromOther = cacheMap(copyOp({contextCopy("/work/other.txt", "/out/")}));
        QVERIFY(checkOp(o, fromOther));
        QVERIFY(hasLink(o, fromOther.record(), 1, other.record(), fromOther.deps[1].selector));
        QVERIFY(checkContent(o, stage.contentKey(fromOther.deps[1].contentSelectors), fromOther.record(), 1));
        QVERIFY(checkOp(o, cacheMap(sh("ls /out && cat /out/sorted.md5", env))));
    }

    void fixture03BuildArgs()
    {
        const Oracle o = fixtureOracle("03-build-args");
        const Image img = busybox();
        QVERIFY(checkOp(o, cacheMaps(img.source)[0]));
        const CacheMap copy = cacheMap(copyOp({contextCopy("/name.txt", "/name.txt")}));
        QVERIFY(checkOp(o, copy));
        ContentTree ctx = contextTree(bk() / "03-build-args" / "context");
        QVERIFY(checkContent(o, ctx.contentKey(copy.deps[1].contentSelectors), copy.record(), 1));
        const auto env = plus(img.env, {"GREETING=hello", "UNUSED=x"});
        const CacheMap run1 = cacheMap(sh("echo \"${GREETING}, $(cat /name.txt)\" > /greeting.txt", env));
        QVERIFY(checkOp(o, run1));
        QVERIFY(hasLink(o, run1.record(), 0, copy.record(), run1.deps[0].selector));
        QVERIFY(checkOp(o, cacheMap(sh("cat /greeting.txt", env))));
        // The build-arg variants recorded in keys.md.
        QCOMPARE(qb(cacheMap(sh("echo \"${GREETING}, $(cat /name.txt)\" > /greeting.txt",
                                plus(img.env, {"GREETING=hi", "UNUSED=x"})))
                        .record()
                        .str()),
                 qb("sha256:165f36deb5a40a31f033b9b390a4a9257830ce099becac3b30a03d6d777cda89"));
        QCOMPARE(qb(cacheMap(sh("cat /greeting.txt", plus(img.env, {"GREETING=hello", "UNUSED=y"}))).record().str()),
                 qb("sha256:061848ab9b5a3f38c1c3146e642c148ba226f32957bbfe058302c9d412e41e89"));
    }

    void fixture04ScratchCopy()
    {
        const Oracle o = fixtureOracle("04-scratch-copy");
        const CacheMap hello = cacheMap(copyOp({contextCopy("/hello.txt", "/hello.txt")}, true));
        QVERIFY(checkOp(o, hello));
        QVERIFY(hello.plaintext.ends_with(",\"indexes\":[[-1,0,0]]}"));
        const CacheMap data = cacheMap(copyOp({contextCopy("/data", "/data/")}));
        QVERIFY(checkOp(o, data));
        QVERIFY(hasLink(o, data.record(), 0, hello.record(), {}));
        ContentTree ctx = contextTree(bk() / "04-scratch-copy" / "context");
        QVERIFY(checkContent(o, ctx.contentKey(hello.deps[0].contentSelectors), hello.record(), 0));
        const ContentKey dataKey = ctx.contentKey(data.deps[1].contentSelectors);
        QVERIFY(checkContent(o, dataKey, data.record(), 1));
        QVERIFY(compareHeaders(o, ctx, dataKey) >= 3);
    }

    // ---- catalogue ------------------------------------------------------------------------

    void catalogue01RunVariants()
    {
        const Oracle o = catalogueOracle("01-run-variants");
        const Image img = busybox();
        const auto images = cacheMaps(img.source);
        QVERIFY(checkOp(o, images[0], "L1") && checkOp(o, images[1], "L1"));
        const fs::path df = cat("01-run-variants") / "context" / "Dockerfile";
        const auto& path = img.env;
        QVERIFY(checkOp(o, cacheMap(sh("echo shell-form > /shell.txt", path)), "L2"));
        QVERIFY(checkOp(o, cacheMap(runArgs({"/bin/sh", "-c", "echo exec-form > /exec.txt"}, path)), "L3"));
        QVERIFY(checkOp(o, cacheMap(runArgs({"/bin/touch", "/exec-noshell.txt"}, path)), "L4"));
        QVERIFY(checkOp(o, cacheMap(runArgs({"/bin/sh", "-e", "-c", "echo after-shell-change > /shell2.txt"}, path)), "L6"));
        QVERIFY(checkOp(o, cacheMap(sh("echo one     && echo two     && echo three > /multi.txt", path)), "L8"));
        QVERIFY(checkOp(o, cacheMap(sh(dockerfileRun(df, 11), path)), "L11"));
        QVERIFY(checkOp(o, cacheMap(sh(dockerfileRun(df, 12), path)), "L12"));
        const auto env1 = plus(path, {"A=1", "B=two", "C=three four"});
        QVERIFY(checkOp(o, cacheMap(sh("echo \"$A $B $C\" > /env1.txt", env1)), "L14"));
        const auto env2 = plus(path, {"C=three four", "B=2", "A=one", "D=new"});
        QVERIFY(checkOp(o, cacheMap(sh("echo \"$A $B $C $D\" > /env2.txt", env2)), "L16"));
        QVERIFY(checkOp(o, cacheMap(sh(dockerfileRun(df, 17), env2)), "L17"));
        QVERIFY(checkOp(o, cacheMap(sh("id > /tmp/id-name.txt", env2, "/", "app")), "L19"));
        ChownOpt app;
        app.user = UserOpt::byName("app");
        QVERIFY(checkOp(o, cacheMap(workdir("/home/app/w", app)), "L20"));
        QVERIFY(checkOp(o, cacheMap(sh("id > /tmp/id-uidgid.txt", env2, "/home/app/w", "1000:1000")), "L22"));
        QVERIFY(checkOp(o, cacheMap(workdir("/ids/w", chownIds(1000, 1000))), "L23"));
        QVERIFY(checkOp(o, cacheMap(workdir("/work", chownIds(0))), "L25"));
        QVERIFY(checkOp(o, cacheMap(workdir("/work/sub/dir", chownIds(0))), "L26"));
        QVERIFY(checkOp(o, cacheMap(sh("pwd > here.txt", env2, "/work/sub/dir", "root")), "L27"));
        QVERIFY(checkOp(o, cacheMap(workdir("/abs", chownIds(0))), "L28"));
        QVERIFY(checkOp(o, cacheMap(sh("pwd > here.txt", env2, "/abs", "root")), "L29"));
    }

    void catalogue02ArgEnv()
    {
        const Oracle o = catalogueOracle("02-arg-env");
        const Image img = busybox();
        QVERIFY(checkOp(o, cacheMaps(img.source)[0], "L3"));
        const auto env = plus(img.env, {"WITH_DEFAULT=dflt", "OVERRIDDEN=changed", "NO_VALUE_SET=given",
                                        "GLOBAL_V=global-default", "TARGETPLATFORM=linux/amd64", "TARGETARCH=amd64",
                                        "FROM_ARG=dflt-x"});
        QVERIFY(checkOp(o,
                        cacheMap(sh("echo \"$WITH_DEFAULT $OVERRIDDEN $NO_VALUE $NO_VALUE_SET $GLOBAL_V $FROM_ARG\" > "
                                    "/args.txt",
                                    env)),
                        "L12"));
        QVERIFY(checkOp(o, cacheMap(sh("echo \"$TARGETPLATFORM $TARGETARCH\" > /target.txt", env)), "L13"));
        QVERIFY(checkOp(o, cacheMap(sh("echo \"$LATE\" > /late.txt", plus(env, {"LATE=late"}))), "L15"));
    }

    void catalogue03RunMounts()
    {
        const Oracle o = catalogueOracle("03-run-mounts");
        const Image img = busybox();
        const auto& path = img.env;
        const CacheMap files = cacheMap(sh("mkdir -p /out && echo from-stage > /out/stage.txt", path));
        QVERIFY(checkOp(o, files, "L2"));
        QVERIFY(checkOp(o, cacheMap(workdir("/w")), "L5"));

        const auto withMounts = [&](std::string cmd, std::vector<Mount> extra, int numInputs = 1) {
            ExecOp op = sh(std::move(cmd), path, "/w");
            for (auto& m : extra)
                op.mounts.push_back(std::move(m));
            op.numInputs = numInputs;
            return op;
        };
        QVERIFY(checkOp(o, cacheMap(withMounts("touch /var/cache/default/x", {cacheMount("/var/cache/default", "//var/cache/default")})), "L6"));
        QVERIFY(checkOp(o, cacheMap(withMounts("touch /var/cache/named/x", {cacheMount("/var/cache/named", "/named")})), "L7"));
        QVERIFY(checkOp(o, cacheMap(withMounts("touch /var/cache/private/x",
                                               {cacheMount("/var/cache/private", "//var/cache/private", CacheSharing::Private)})),
                        "L8"));
        QVERIFY(checkOp(o, cacheMap(withMounts("touch /var/cache/locked/x",
                                               {cacheMount("/var/cache/locked", "//var/cache/locked", CacheSharing::Locked)})),
                        "L9"));
        QVERIFY(checkOp(o, cacheMap(withMounts("touch relcache/x", {cacheMount("/w/relcache", "/relcache")})), "L10"));

        // uid/gid/mode: a mkdir on scratch, mounted as input 1 with selector /cache.
        FileActionMkDir cacheDir;
        cacheDir.path = "/cache";
        cacheDir.mode = 0700;
        cacheDir.owner = chownIds(1000, 1000);
        const CacheMap mkdir = cacheMap(onScratch(cacheDir));
        QVERIFY(checkOp(o, mkdir, "L11"));
        Mount owned = cacheMount("/var/cache/owned", "//var/cache/owned", CacheSharing::Shared, 1);
        owned.selector = "cache";
        const CacheMap ownedRun = cacheMap(withMounts("ls -ld /var/cache/owned", {owned}, 2));
        QVERIFY(checkOp(o, ownedRun, "L11"));
        QVERIFY(hasLink(o, ownedRun.record(), 1, mkdir.record(), ownedRun.deps[1].selector));
        QVERIFY(knownSelector(o, ownedRun.deps[1]));
        QVERIFY(ownedRun.deps[1].contentBased);
        {
            QTemporaryDir tmp;
            const fs::path snap = tmp.path().toStdString();
            makeDir(snap);
            makeDir(snap / "cache", 0700, 1000, 1000);
            ContentTree t = snapshotTree(snap);
            QVERIFY(checkContent(o, t.contentKey(ownedRun.deps[1].contentSelectors), ownedRun.record(), 1));
        }

        ContentTree ctx = contextTree(cat("03-run-mounts") / "context");
        const CacheMap bindData =
            cacheMap(withMounts("cat /mnt/data.txt", {bindMount(1, "data.txt", "/mnt/data.txt")}, 2));
        QVERIFY(checkOp(o, bindData, "L12"));
        QVERIFY(knownSelector(o, bindData.deps[1]));
        QVERIFY(checkContent(o, ctx.contentKey(bindData.deps[1].contentSelectors), bindData.record(), 1));

        const CacheMap twoMounts = cacheMap(withMounts(
            "cat /m1 /m2/x.txt", {bindMount(1, "data.txt", "/m1"), bindMount(1, "dir", "/m2")}, 2));
        QVERIFY(checkOp(o, twoMounts, "L13"));
        QCOMPARE(qb(twoMounts.deps[1].selectorPlaintext), qb(std::string("/data.txt\0/dir", 14)));
        QVERIFY(knownSelector(o, twoMounts.deps[1]));
        const ContentKey twoKey = ctx.contentKey(twoMounts.deps[1].contentSelectors);
        QVERIFY(checkContent(o, twoKey, twoMounts.record(), 1));
        QVERIFY(compareHeaders(o, ctx, twoKey) >= 3);

        const CacheMap swapped = cacheMap(withMounts(
            "cat /a1/x.txt /z9", {bindMount(1, "dir", "/a1"), bindMount(1, "data.txt", "/z9")}, 2));
        QVERIFY(checkOp(o, swapped, "L14"));
        QCOMPARE(qb(swapped.deps[1].selectorPlaintext), qb(std::string("/dir\0/data.txt", 14)));
        QVERIFY(knownSelector(o, swapped.deps[1]));
        QVERIFY(checkContent(o, ctx.contentKey(swapped.deps[1].contentSelectors), swapped.record(), 1));

        const CacheMap fromStage =
            cacheMap(withMounts("cat /mnt/out/stage.txt", {bindMount(1, "/out", "/mnt/out")}, 2));
        QVERIFY(checkOp(o, fromStage, "L15"));
        QVERIFY(hasLink(o, fromStage.record(), 1, files.record(), fromStage.deps[1].selector));
        {
            QTemporaryDir tmp;
            const fs::path snap = tmp.path().toStdString();
            makeDir(snap);
            makeDir(snap / "out");
            writeFile(snap / "out" / "stage.txt", "from-stage\n");
            ContentTree t = snapshotTree(snap);
            QVERIFY(checkContent(o, t.contentKey(fromStage.deps[1].contentSelectors), fromStage.record(), 1));
        }

        const CacheMap rwContext =
            cacheMap(withMounts("touch /mnt/ctx/new && ls /mnt/ctx", {bindMount(1, "", "/mnt/ctx", false)}, 2));
        QVERIFY(checkOp(o, rwContext, "L16"));
        QVERIFY(rwContext.deps[1].contentBased && rwContext.deps[1].contentSelectors.empty());
        const ContentKey whole = ctx.contentKey(rwContext.deps[1].contentSelectors);
        QVERIFY(checkContent(o, whole, rwContext.record(), 1));
        QVERIFY(compareHeaders(o, ctx, whole) >= 4);

        Mount tmpfs;
        tmpfs.input = NoInput;
        tmpfs.dest = "/mnt/tmp";
        tmpfs.output = SkipOutput;
        tmpfs.mountType = MountType::Tmpfs;
        tmpfs.tmpfsSize = 1 << 20;
        QVERIFY(checkOp(o, cacheMap(withMounts("df /mnt/tmp", {tmpfs})), "L17"));

        Mount secret;
        secret.input = NoInput;
        secret.dest = "/run/secrets/other";
        secret.mountType = MountType::Secret;
        secret.secretOpt = SecretOpt{"tok", 0, 0, 0400, true};
        QVERIFY(checkOp(o, cacheMap(withMounts("cat /run/secrets/other", {secret})), "L18"));

        ExecOp secretEnv = sh("test -n \"$TOKEN\"", path, "/w");
        secretEnv.secretenv = {SecretEnv{"tok", "TOKEN", true}};
        QVERIFY(checkOp(o, cacheMap(secretEnv), "L19"));

        Mount ssh;
        ssh.input = NoInput;
        ssh.dest = "/run/buildkit/ssh_agent.0";
        ssh.mountType = MountType::Ssh;
        ssh.sshOpt = SshOpt{"", 0, 0, 0600, true};
        ExecOp sshRun = withMounts("test -S \"$SSH_AUTH_SOCK\"", {ssh});
        sshRun.meta.env.push_back("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0");
        QVERIFY(checkOp(o, cacheMap(sshRun), "L20"));

        ExecOp none = sh("echo nonet", path, "/w");
        none.network = NetMode::None;
        QVERIFY(checkOp(o, cacheMap(none), "L21"));
        ExecOp host = sh("echo hostnet", path, "/w");
        host.network = NetMode::Host;
        QVERIFY(checkOp(o, cacheMap(host), "L22"));
    }

    void catalogue04Heredocs()
    {
        const Oracle o = catalogueOracle("04-heredocs");
        const Image img = busybox();
        const auto& path = img.env;
        QVERIFY(checkOp(o, cacheMap(sh("echo plain heredoc > /h1.txt\necho second line >> /h1.txt\n", path)), "L2"));

        FileActionMkFile shebang;
        shebang.path = "/EOF";
        shebang.mode = 0755;
        shebang.data = "#!/bin/sh\necho shebang > /h2.txt\n";
        const CacheMap file = cacheMap(onScratch(shebang));
        QVERIFY(checkOp(o, file, "L6"));
        ExecOp pipe = sh("/dev/pipes/EOF", path);
        pipe.mounts.push_back(bindMount(1, "", "/dev/pipes/"));
        pipe.numInputs = 2;
        const CacheMap pipeRun = cacheMap(pipe);
        QVERIFY(checkOp(o, pipeRun, "L6"));
        QVERIFY(hasLink(o, pipeRun.record(), 1, file.record(), pipeRun.deps[1].selector));
        {
            QTemporaryDir tmp;
            const fs::path snap = tmp.path().toStdString();
            makeDir(snap);
            writeFile(snap / "EOF", shebang.data, 0755);
            ContentTree t = snapshotTree(snap);
            const ContentKey k = t.contentKey(pipeRun.deps[1].contentSelectors);
            QVERIFY(checkContent(o, k, pipeRun.record(), 1));
            QVERIFY(compareHeaders(o, t, k) >= 2);
        }

        QVERIFY(checkOp(o,
                        cacheMap(sh("<<FIRST cat > /h3a.txt && cat <<SECOND > /h3b.txt\nfirst doc\nFIRST\nsecond doc\nSECOND",
                                    path)),
                        "L10"));

        const auto heredocFile = [](std::string name, std::string data) {
            FileActionMkFile f;
            f.path = "/" + name;
            f.mode = 0644;
            f.data = std::move(data);
            return cacheMap(onScratch(f));
        };
        const CacheMap one = heredocFile("one.txt", "content of one\n");
        const CacheMap two = heredocFile("two.txt", "content of two\n");
        QVERIFY(checkOp(o, one, "L15") && checkOp(o, two, "L15"));
        FileActionCopy c1;
        c1.src = "/one.txt";
        c1.dest = "/docs/";
        c1.createDestPath = true;
        FileActionCopy c2 = c1;
        c2.src = "/two.txt";
        FileOp docs;
        docs.numInputs = 3;
        docs.actions = {FileAction{0, 1, -1, c1}, FileAction{3, 2, 0, c2}};
        const CacheMap docsOp = cacheMap(docs);
        QVERIFY(checkOp(o, docsOp, "L15"));
        QVERIFY(hasLink(o, docsOp.record(), 1, one.record(), docsOp.deps[1].selector));
        QVERIFY(hasLink(o, docsOp.record(), 2, two.record(), docsOp.deps[2].selector));
        {
            QTemporaryDir tmp;
            const fs::path snap = tmp.path().toStdString();
            makeDir(snap);
            writeFile(snap / "one.txt", "content of one\n");
            ContentTree t = snapshotTree(snap);
            QVERIFY(checkContent(o, t.contentKey(docsOp.deps[1].contentSelectors), docsOp.record(), 1));
        }

        const CacheMap tabbed = heredocFile("EOF", "tab indented\ntwo tabs\n");
        QVERIFY(checkOp(o, tabbed, "L20"));
        FileActionCopy ct;
        ct.src = "/EOF";
        ct.dest = "/docs/tabbed.txt";
        ct.createDestPath = true;
        const CacheMap tabCopy = cacheMap(copyOp({ct}));
        QVERIFY(checkOp(o, tabCopy, "L20"));
        QVERIFY(hasLink(o, tabCopy.record(), 0, docsOp.record(), {}));
    }

    void catalogue05CopyAddFlags()
    {
        const Oracle o = catalogueOracle("05-copy-add-flags");
        const Image img = busybox();
        const fs::path df = cat("05-copy-add-flags") / "context" / "Dockerfile";
        QVERIFY(checkOp(o, cacheMap(sh(dockerfileRun(df, 2), img.env)), "L2"));
        ContentTree ctx = contextTree(cat("05-copy-add-flags") / "context");

        const auto check = [&](FileActionCopy c, const std::string& line, bool scratch = false) {
            const CacheMap cm = cacheMap(copyOp({std::move(c)}, scratch));
            const int in = scratch ? 0 : 1;
            return checkOp(o, cm, line) && knownSelector(o, cm.deps[static_cast<std::size_t>(in)]) &&
                   checkContent(o, ctx.contentKey(cm.deps[static_cast<std::size_t>(in)].contentSelectors), cm.record(), in);
        };
        FileActionCopy c = contextCopy("/f1.txt", "/c/chown-name.txt");
        c.owner = ChownOpt{UserOpt::byName("app"), std::nullopt};
        QVERIFY(check(c, "L3"));
        c = contextCopy("/f1.txt", "/c/chown-ids.txt");
        c.owner = chownIds(1000, 1000);
        QVERIFY(check(c, "L4"));
        c = contextCopy("/f1.txt", "/c/chown-name-group.txt");
        c.owner = ChownOpt{UserOpt::byName("app"), UserOpt::byName("staff")};
        QVERIFY(check(c, "L5"));
        c = contextCopy("/f1.txt", "/c/chown-zero.txt");
        c.owner = chownIds(0, 0);
        QVERIFY(check(c, "L6"));
        c = contextCopy("/f1.txt", "/c/chmod-octal.txt");
        c.mode = 0640;
        QVERIFY(check(c, "L7"));
        c = contextCopy("/f1.txt", "/c/chmod-symbolic.txt");
        c.mode = 0;
        c.modeStr = "u+x";
        QVERIFY(check(c, "L8"));

        // --link: the copy on scratch, then a merge onto the stage.
        const CacheMap linkCopy = cacheMap(copyOp({contextCopy("/f2.txt", "/c/link.txt")}, true));
        QVERIFY(check(contextCopy("/f2.txt", "/c/link.txt"), "L9", true));
        const CacheMap merge = cacheMap(MergeOp{{0, 1}});
        QVERIFY(checkOp(o, merge, "L9"));
        QVERIFY(hasLink(o, merge.record(), 1, linkCopy.record(), {}));
        c = contextCopy("/f2.txt", "/c/link-chmod.txt");
        c.mode = 0600;
        QVERIFY(check(c, "L10"));

        const CacheMap wild = cacheMap(copyOp({contextCopy("/*.md", "/c/wild/")}));
        QVERIFY(wild.deps[1].contentSelectors.at(0).wildcard);
        QVERIFY(check(contextCopy("/*.md", "/c/wild/"), "L11"));
        const ContentKey wildKey = ctx.contentKey(wild.deps[1].contentSelectors);
        QCOMPARE(qb(o.plain.at(wildKey.checksums.at(0).str())), qb(ctx.plaintext(wildKey.checksums.at(0)).value()));

        QVERIFY(check(contextCopy("/dir", "/c/dir/"), "L12"));
        QVERIFY(compareHeaders(o, ctx, ctx.contentKey({ContentSelector::of("/dir", true)})) >= 4);
        QVERIFY(check(contextCopy("/f1.txt", "/c/todir/"), "L13"));
        QVERIFY(checkOp(o, cacheMap(workdir("/rel")), "L14"));
        QVERIFY(check(contextCopy("/f2.txt", "/rel/sub/"), "L15"));
        const auto add = [](std::string src, std::string dest, std::int32_t mode = -1) {
            FileActionCopy a = contextCopy(std::move(src), std::move(dest));
            a.attemptUnpackDockerCompatibility = true;
            a.mode = mode;
            return a;
        };
        QVERIFY(check(add("/f3.txt", "/a/"), "L16"));
        QVERIFY(check(add("/arch.tar", "/a/tar/"), "L17"));
        QVERIFY(check(add("/arch.tar.gz", "/a/targz/"), "L18"));
        QVERIFY(check(add("/f3.txt", "/a/exec.sh", 0755), "L19"));
    }

    void catalogue06MultiStage()
    {
        const Oracle o = catalogueOracle("06-multi-stage");
        const Image img = busybox();
        const fs::path df = cat("06-multi-stage") / "context" / "Dockerfile";
        const CacheMap l2 = cacheMap(sh(dockerfileRun(df, 2), img.env));
        QVERIFY(checkOp(o, l2, "L2"));
        QVERIFY(checkOp(o, cacheMap(sh(dockerfileRun(df, 4), img.env, "/", "app")), "L4"));
        const CacheMap build = cacheMap(sh("echo root-file > /out/r.txt", img.env, "/", "root"));
        QVERIFY(checkOp(o, build, "L6"));
        const CacheMap derived = cacheMap(sh("echo derived > /derived.txt", img.env, "/", "root"));
        QVERIFY(checkOp(o, derived, "L9"));

        QTemporaryDir tmp;
        const fs::path snap = tmp.path().toStdString();
        makeDir(snap);
        makeDir(snap / "out", 0755, 1000, 1000);
        makeDir(snap / "out" / "sub", 0755, 1000, 1000);
        writeFile(snap / "out" / "sub" / "u.txt", "user-file\n", 0640, 1000, 1000);
        writeFile(snap / "out" / "run.sh", "#!/bin/sh\n", 0750, 1000, 1000);
        writeFile(snap / "out" / "r.txt", "root-file\n");
        writeFile(snap / "derived.txt", "derived\n");
        makeDir(snap / "etc");
        writeFile(snap / "etc" / "passwd", "root:x:0:0:root:/root:/bin/sh\n");
        ContentTree stage = snapshotTree(snap);

        const CacheMap copyOut = cacheMap(copyOp({contextCopy("/out", "/dst/out")}));
        QVERIFY(checkOp(o, copyOut, "L12"));
        QVERIFY(hasLink(o, copyOut.record(), 1, build.record(), copyOut.deps[1].selector));
        const ContentKey outKey = stage.contentKey(copyOut.deps[1].contentSelectors);
        QVERIFY(checkContent(o, outKey, copyOut.record(), 1));
        QVERIFY(compareHeaders(o, stage, outKey) >= 6);

        const CacheMap copyDerived = cacheMap(copyOp({contextCopy("/derived.txt", "/dst/")}));
        QVERIFY(checkOp(o, copyDerived, "L13"));
        QVERIFY(hasLink(o, copyDerived.record(), 1, derived.record(), copyDerived.deps[1].selector));
        QVERIFY(checkContent(o, stage.contentKey(copyDerived.deps[1].contentSelectors), copyDerived.record(), 1));

        const CacheMap copyPasswd = cacheMap(copyOp({contextCopy("/etc/passwd", "/dst/passwd.orig")}));
        QVERIFY(checkOp(o, copyPasswd, "L14"));
        QVERIFY(hasLink(o, copyPasswd.record(), 1, cacheMaps(img.source)[1].record(), copyPasswd.deps[1].selector));
        QVERIFY(checkContent(o, stage.contentKey(copyPasswd.deps[1].contentSelectors), copyPasswd.record(), 1));
        QVERIFY(checkOp(o, cacheMap(sh("ls -lnR /dst > /dst.txt", img.env)), "L15"));
    }

    void catalogue07BaseImages()
    {
        const Oracle o = catalogueOracle("07-base-images");
        const fs::path images = cat("07-base-images") / "images";
        const Image twoImg = imageFromFiles(images, "two-layer");
        const Image threeImg = imageFromFiles(images, "three-layer");
        const ImageSource& two = twoImg.source;
        const ImageSource& three = threeImg.source;
        const auto& twoEnv = twoImg.env;
        const auto& threeEnv = threeImg.env;
        QVERIFY(checkOp(o, cacheMaps(two)[0], "L1") && checkOp(o, cacheMaps(two)[1], "L1"));
        QVERIFY(checkOp(o, cacheMaps(three)[0], "L4") && checkOp(o, cacheMaps(three)[1], "L7"));
        QCOMPARE(qb(chainId(three.diffIds).str()), qb("sha256:c421b1a1e45c3029bc4efedf47e306324491ef1bceb8dcf8c651a784b91ad9af"));
        QVERIFY(checkOp(o, cacheMap(sh("cat /layer2.txt > /seen2.txt", twoEnv)), "L2"));
        QVERIFY(checkOp(o, cacheMap(sh("cat /layer2.txt /layer3.txt > /seen3.txt", threeEnv)), "L8"));

        const CacheMap only = cacheMap(copyOp({contextCopy("/only.txt", "/")}, true));
        QVERIFY(checkOp(o, only, "L11"));
        ContentTree ctx = contextTree(cat("07-base-images") / "context");
        QVERIFY(checkContent(o, ctx.contentKey(only.deps[0].contentSelectors), only.record(), 0));
        QVERIFY(checkOp(o, cacheMap(copyOp({contextCopy("/seen2.txt", "/")})), "L12"));
        QVERIFY(checkOp(o, cacheMap(copyOp({contextCopy("/seen3.txt", "/")})), "L13"));
        QVERIFY(checkOp(o, cacheMap(copyOp({contextCopy("/seen3.txt", "/seen3-digest.txt")})), "L14"));
    }

    void catalogue08ContextChecksums()
    {
        const Oracle o = catalogueOracle("08-context-checksums");
        // Re-create what git does not keep: modes, setuid, xattr, symlinks, the empty dir.
        QTemporaryDir tmp;
        const fs::path ctx = tmp.path().toStdString();
        fs::copy(cat("08-context-checksums") / "context", ctx, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        const auto chmodAll = [](const fs::path& root) {
            for (const auto& e : fs::recursive_directory_iterator(root))
                ::chmod(e.path().c_str(), e.is_directory() ? 0755 : 0644);
        };
        chmodAll(ctx);
        QVERIFY(::chmod((ctx / "exec.sh").c_str(), 0755) == 0);
        QVERIFY(::chmod((ctx / "suid.bin").c_str(), 04755) == 0);
        fs::remove(ctx / "link-rel");
        fs::remove(ctx / "link-abs");
        fs::create_symlink("plain.txt", ctx / "link-rel");
        fs::create_symlink("/plain.txt", ctx / "link-abs");
        fs::create_directory(ctx / "emptydir");
        QVERIFY(::chmod((ctx / "emptydir").c_str(), 0755) == 0);
        const bool xattrOk = ::setxattr((ctx / "xattr.txt").c_str(), "user.test", "1", 1, 0) == 0;

        const PathPatterns ignore({"**/*.log", "!keep.log", "secret*"});
        ScanOptions options;
        options.keepPlaintexts = true;
        options.excluded = [&](const std::string& rel, bool) { return ignore.matches(rel); };
        ContentTree tree = ContentTree::scan(ctx, options);

        const auto check = [&](std::vector<FileActionCopy> copies, const std::string& line) {
            const CacheMap cm = cacheMap(copyOp(std::move(copies)));
            const ContentKey k = tree.contentKey(cm.deps[1].contentSelectors);
            return checkOp(o, cm, line) && knownSelector(o, cm.deps[1]) && checkContent(o, k, cm.record(), 1) &&
                   compareHeaders(o, tree, k) >= 1;
        };
        QVERIFY(check({contextCopy("/plain.txt", "/c/")}, "L2"));
        QVERIFY(check({contextCopy("/exec.sh", "/c/"), contextCopy("/suid.bin", "/c/")}, "L3"));
        if (xattrOk)
            QVERIFY(check({contextCopy("/xattr.txt", "/c/")}, "L4"));
        QVERIFY(check({contextCopy("/link-rel", "/c/links/"), contextCopy("/link-abs", "/c/links/")}, "L5"));
        QVERIFY(check({contextCopy("/emptydir", "/c/emptydir/")}, "L6"));
        QVERIFY(check({contextCopy("/nested", "/c/nested/")}, "L7"));
        if (xattrOk)
            QVERIFY(check({contextCopy("/", "/c/all/")}, "L8"));
        else
            QWARN("user xattrs unsupported here: L4 and L8 content keys not compared");
        QVERIFY(checkOp(o, cacheMap(sh("ls -laR /c > /c/listing.txt", busybox().env)), "L9"));
    }

    void catalogue09Misc()
    {
        const Oracle o = catalogueOracle("09-misc");
        const Image img = busybox();
        QVERIFY(checkOp(o, cacheMap(sh("echo before > /before.txt", img.env)), "L2"));
        ExecOp one = sh("echo one > /cache/one.txt", img.env);
        one.mounts.push_back(cacheMount("/cache", "/shared"));
        QVERIFY(checkOp(o, cacheMap(one), "L11"));
        ExecOp seen = sh("ls /cache > /seen.txt", img.env);
        seen.mounts.push_back(cacheMount("/cache", "/shared"));
        QVERIFY(checkOp(o, cacheMap(seen), "L12"));

        // onbuild/: the child build on the 4-layer base runs the trigger as a plain exec op.
        const fs::path child = cat("09-misc") / "onbuild";
        const Oracle oc = catalogueOracle("", child);
        const Image base = imageFromFiles(child / "base-image", "onbuild-base");
        const auto maps = cacheMaps(base.source);
        QVERIFY(checkOp(oc, maps[0]) && checkOp(oc, maps[1]));
        const CacheMap trigger = cacheMap(sh("echo onbuild-trigger > /onbuild.txt", base.env));
        QVERIFY(checkOp(oc, trigger));
        QVERIFY(hasLink(oc, trigger.record(), 0, maps[1].record(), trigger.deps[0].selector));
        QVERIFY(checkOp(oc, cacheMap(sh("cat /onbuild.txt > /child.txt", base.env))));
    }

    // ---- engine behaviour the fixtures do not pin ---------------------------------------------

    void execCleanupsAndDefaults()
    {
        ExecOp op = sh("true", {"PATH=/bin"});
        op.meta.extraHosts = {HostIp{"db", "10.0.0.1"}};
        op.meta.proxyEnv = ProxyEnv{"http://proxy", {}, {}, {}, {}};
        const CacheMap cm = cacheMap(op);
        QVERIFY(cm.plaintext.find("\"extraHosts\":[{\"Host\":\"db\"}]") != std::string::npos);
        QVERIFY(cm.plaintext.find("proxy") == std::string::npos);
        QVERIFY(cm.plaintext.find("mounts") == std::string::npos);
        // A read-only root mount is not the compatibility case: mounts stay in the key.
        ExecOp ro = sh("true", {"PATH=/bin"});
        ro.mounts[0].readonly = true;
        QVERIFY(cacheMap(ro).plaintext.find("\"mounts\":[{\"dest\":\"/\",\"readonly\":true}]") != std::string::npos);
        // A namespaced default cache id keeps its ID; content cache off disables the slow key.
        ExecOp ns = sh("true", {"PATH=/bin"});
        ns.mounts.push_back(cacheMount("/root/.cache", "myns//root/.cache"));
        Mount bind = bindMount(1, "src", "/src");
        bind.contentCache = MountContentCache::Off;
        ns.mounts.push_back(bind);
        ns.numInputs = 2;
        const CacheMap nsMap = cacheMap(ns);
        QVERIFY(nsMap.plaintext.find("\"cacheOpt\":{\"ID\":\"myns//root/.cache\"}") != std::string::npos);
        QVERIFY(!nsMap.deps[1].contentBased);
        QCOMPARE(qb(nsMap.deps[1].selectorPlaintext), qb("/src"));
    }

    void fileOpIndexesAndSelectors()
    {
        // Three sources from one input: BuildKit's default-shape test compares with the action
        // count, so this common wiring still writes "indexes".
        const CacheMap three = cacheMap(
            copyOp({contextCopy("/a", "/d/"), contextCopy("/b", "/d/"), contextCopy("/a/x", "/d/")}));
        QVERIFY(three.plaintext.find("\"indexes\":[[0,1,-1],[2,1,-1],[3,1,0]]") != std::string::npos);
        QCOMPARE(qb(three.deps[1].selectorPlaintext), qb(std::string("/b\0/a/x\0/a", 10)));
        // /a/x lies below /a: dropped from the content selectors.
        QCOMPARE(three.deps[1].contentSelectors.size(), std::size_t(2));
        // --chown by name on a scratch copy selects /etc/passwd of the named input.
        FileActionCopy c = contextCopy("/f", "/f");
        c.owner = ChownOpt{UserOpt::byName("app"), std::nullopt};
        const CacheMap chown = cacheMap(copyOp({c}, true));
        QCOMPARE(qb(chown.deps[0].selectorPlaintext), qb(std::string("/f\0/etc/passwd", 14)));
        // Rm and symlink actions encode their fields in order.
        FileActionSymlink s;
        s.oldpath = "/a";
        s.newpath = "/b";
        QCOMPARE(qb(goJson(toGoJson(FileActionKind(s)))), qb(R"({"oldpath":"/a","newpath":"/b","timestamp":-1})"));
        FileActionRm rm;
        rm.path = "/x";
        rm.allowNotFound = true;
        QCOMPARE(qb(goJson(toGoJson(FileActionKind(rm)))), qb(R"({"path":"/x","allowNotFound":true})"));
    }

    void contentHashCornerCases()
    {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        makeDir(root);
        makeDir(root / "real");
        writeFile(root / "real" / "f.txt", "f\n");
        fs::create_symlink("real", root / "via");
        fs::create_hard_link(root / "real" / "f.txt", root / "hard.txt");
        ContentTree t = contextTree(root);
        // A symlink in a parent component is followed.
        QCOMPARE(t.checksum(ContentSelector::of("/via/f.txt")), t.checksum(ContentSelector::of("/real/f.txt")));
        // A hard link hashes like its target (the header has no name).
        QCOMPARE(t.checksum(ContentSelector::of("/hard.txt")), t.checksum(ContentSelector::of("/real/f.txt")));
        // The last component is followed only when asked.
        QVERIFY(t.checksum(ContentSelector::of("/via")) != t.checksum(ContentSelector::of("/via", true)));
        QCOMPARE(t.checksum(ContentSelector::of("/via", true)), t.checksum(ContentSelector::of("/real")));
        // A wildcard with no match hashes the empty string; one match named like the pattern is that file.
        ContentSelector none = ContentSelector::of("/*.none", true);
        none.wildcard = true;
        QCOMPARE(t.checksum(none), oci::Digest::of(""));
        ContentSelector single = ContentSelector::of("/hard.tx?", true);
        single.wildcard = true;
        QVERIFY(t.checksum(single) != t.checksum(ContentSelector::of("/hard.txt")));
        // Exclude patterns drop files from a directory's list.
        ContentSelector excl = ContentSelector::of("/real", true);
        excl.excludePatterns = {"*.txt"};
        QVERIFY(t.checksum(excl) != t.checksum(ContentSelector::of("/real", true)));
        QVERIFY_THROWS_EXCEPTION(Error, t.checksum(ContentSelector::of("/missing")));
        // Content changes change the checksum, mtime does not.
        const oci::Digest before = t.checksum(ContentSelector::of("/real"));
        ContentTree again = contextTree(root);
        QCOMPARE(again.checksum(ContentSelector::of("/real")), before);
        writeFile(root / "real" / "f.txt", "g\n");
        ContentTree changed = contextTree(root);
        QVERIFY(changed.checksum(ContentSelector::of("/real")) != before);
    }
};

QTEST_GUILESS_MAIN(TestCacheKeys)
#include "test_cache_keys.moc"

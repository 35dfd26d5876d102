// File-level miss detail: context manifests in the local history and in a cache export, the diff a dry
// run reports per step (changedFiles), and the stat cache behind fast re-checks of a context.
#include "base/error.h"
#include "base/files.h"
#include "cache/cache_importer.h"
#include "cache/context_manifest.h"
#include "cache/default_providers.h"
#include "solver/content_hash.h"
#include "solver/dry_run.h"
#include "solver/stat_cache.h"
#include "support/fixtures.h"

#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>

using namespace cachescope;
using namespace cachescope::solver;
namespace fs = std::filesystem;

namespace {

fs::path fixture() { return test::fixturesDir() / "buildkit-v0.24" / "01-single-stage"; }
fs::path baseLayout() { return test::fixturesDir() / "buildkit-v0.24" / "base-image" / "oci"; }

DryRunOptions optionsFor(const fs::path& context, const fs::path& cache = {})
{
    DryRunOptions o;
    o.contextDir = context;
    o.buildContexts["127.0.0.1:5055/library/busybox:latest"] = "oci-layout://" + baseLayout().string();
    o.platform = "linux/amd64";
    if (!cache.empty())
        o.cacheFrom.push_back(cache::parseCacheSpec("type=local,src=" + cache.string() + ",tag=latest"));
    return o;
}

const StepResult& step(const DryRunReport& r, const std::string& prefix)
{
    for (const auto& s : r.steps)
        if (s.name.starts_with(prefix))
            return s;
    throw Error("no step " + prefix);
}

void write(const fs::path& p, const std::string& bytes)
{
    fs::create_directories(p.parent_path());
    writeFileAtomic(p, bytes);
}

std::string summary(const std::vector<ChangedFile>& files)
{
    std::string out;
    for (const auto& f : files)
        out += describeChange(f) + "\n";
    return out;
}

// Copies a local cache layout and lists `manifestJson` in its cache manifest as an extra layer
// descriptor, the way CacheScope's exporter writes it.
fs::path cacheWithManifest(const fs::path& from, const fs::path& to, const std::string& manifestJson)
{
    fs::copy(from, to, fs::copy_options::recursive);
    fs::permissions(to / "index.json", fs::perms::owner_write, fs::perm_options::add);
    nlohmann::json index = nlohmann::json::parse(readFile(to / "index.json"));
    const std::string topHex = index["manifests"][0]["digest"].get<std::string>().substr(7);
    nlohmann::json top = nlohmann::json::parse(readFile(to / "blobs" / "sha256" / topHex));
    const oci::Descriptor d = cache::contextManifestDescriptor(manifestJson);
    write(to / "blobs" / "sha256" / std::string(d.digest.hex()), manifestJson);
    top["layers"].push_back(nlohmann::json::parse(d.toJson().dump()));
    const std::string topBytes = top.dump();
    const oci::Digest topDigest = oci::Digest::of(topBytes);
    write(to / "blobs" / "sha256" / std::string(topDigest.hex()), topBytes);
    index["manifests"][0]["digest"] = topDigest.str();
    index["manifests"][0]["size"] = topBytes.size();
    writeFileAtomic(to / "index.json", index.dump());
    return to;
}

} // namespace

class TestContextManifest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    fs::path dir() const { return fs::path(tmp_.path().toStdString()); }

private slots:
    void init()
    {
        QVERIFY(tmp_.isValid());
        qputenv("XDG_DATA_HOME", QByteArray::fromStdString((dir() / "xdg").string()));
    }
    void cleanup()
    {
        for (const auto& e : fs::directory_iterator(dir()))
            fs::remove_all(e.path());
    }

    // The dry run's stop token reaches the context scan: listing stops, and so does the lazy hashing
    // of a tree scanned before the stop.
    void cancelStopsScanAndHashing()
    {
        const fs::path ctx = dir() / "cancel-ctx";
        write(ctx / "a.txt", "alpha\n");
        write(ctx / "sub" / "b.txt", "bravo\n");
        std::stop_source stop;
        ScanOptions o;
        o.cancel = stop.get_token();
        ContentTree tree = ContentTree::scan(ctx, o);
        stop.request_stop();
        QVERIFY_THROWS_EXCEPTION(OperationCancelled, tree.checksum(ContentSelector::of("/a.txt")));
        QVERIFY_THROWS_EXCEPTION(OperationCancelled, ContentTree::scan(ctx, o));
        // Without a stop the same tree hashes.
        ContentTree again = ContentTree::scan(ctx);
        QVERIFY(!again.checksum(ContentSelector::of("/a.txt")).empty());
    }

    void changedFilesAgainstLocalHistory()
    {
        const fs::path ctx = dir() / "ctx";
        fs::copy(fixture() / "context", ctx, fs::copy_options::recursive);
        const fs::path cache = fixture() / "cache" / "local-max";

        const DryRunReport first = dryRun(optionsFor(ctx, cache));
        for (const auto& s : first.steps) {
            QVERIFY2(s.isFrom || s.cached, s.name.c_str());
            QVERIFY(s.changedFiles.empty());
        }
        // The history lives under XDG_DATA_HOME.
        QVERIFY(fs::is_directory(dir() / "xdg" / "cachescope" / "history"));

        const auto oldSize = static_cast<std::int64_t>(fs::file_size(ctx / "c.txt"));
        write(ctx / "c.txt", readFile(ctx / "c.txt") + "more bytes\n");
        QCOMPARE(::chmod((ctx / "b.txt").c_str(), 0755), 0);

        for (int run = 0; run < 2; ++run) { // the second time the newest history entry equals the context
            const DryRunReport r = dryRun(optionsFor(ctx, cache));
            const StepResult& copyAb = step(r, "[3/6] COPY a.txt b.txt");
            QVERIFY(!copyAb.cached);
            QCOMPARE(copyAb.cause, std::string("context-changed"));
            QCOMPARE(copyAb.changedFiles.size(), std::size_t(1));
            const ChangedFile& b = copyAb.changedFiles[0];
            QCOMPARE(b.path, std::string("b.txt"));
            QCOMPARE(b.change, std::string("changed"));
            QCOMPARE(*b.oldMode, 0644u);
            QCOMPARE(*b.newMode, 0755u);
            QCOMPARE(*b.oldSize, *b.newSize);
            QVERIFY(b.modeChanged);
            QVERIFY(!b.contentChanged);
            QVERIFY(copyAb.explanation.find("b.txt: mode 0644 -> 0755") != std::string::npos);
            QVERIFY(copyAb.changedFilesComparedWith.starts_with("local history "));

            const StepResult& copyC = step(r, "[5/6] COPY c.txt");
            QVERIFY(!copyC.cached);
            QCOMPARE(copyC.changedFiles.size(), std::size_t(1));
            const ChangedFile& c = copyC.changedFiles[0];
            QCOMPARE(c.path, std::string("c.txt"));
            QVERIFY(c.contentChanged);
            QVERIFY(!c.modeChanged);
            QCOMPARE(*c.oldSize, oldSize);
            QCOMPARE(*c.newSize, oldSize + 11);

            // The report carries them; steps without changes have an empty list.
            const auto j = dryRunJson(r);
            bool seen = false;
            for (const auto& s : j["steps"]) {
                QVERIFY(s.contains("changedFiles"));
                if (s["name"].get<std::string>().starts_with("[3/6]")) {
                    seen = true;
                    QCOMPARE(s["changedFiles"][0]["path"].get<std::string>(), std::string("b.txt"));
                    QCOMPARE(s["changedFiles"][0]["oldMode"].get<int>(), 0644);
                    QCOMPARE(s["changedFiles"][0]["newMode"].get<int>(), 0755);
                    QCOMPARE(s["changedFiles"][0]["contentChanged"].get<bool>(), false);
                }
            }
            QVERIFY(seen);
            QVERIFY(dryRunText(r).find("c.txt: content changed") != std::string::npos);
        }
    }

    void addedRemovedAndSameSizeEdits()
    {
        const fs::path ctx = dir() / "ctx";
        write(ctx / "Dockerfile", "FROM 127.0.0.1:5055/library/busybox:latest\nCOPY . /ctx/\n");
        write(ctx / "a.txt", "alpha\n");
        write(ctx / "b.txt", "bravo\n");
        write(ctx / "c.txt", "charlie\n");
        write(ctx / "sub" / "d.txt", "delta\n");
        const DryRunReport first = dryRun(optionsFor(ctx));
        QVERIFY(step(first, "[2/2] COPY").changedFiles.empty()); // no earlier build

        fs::remove(ctx / "a.txt");
        QCOMPARE(::chmod((ctx / "b.txt").c_str(), 0600), 0);
        write(ctx / "c.txt", "CHARLIE\n"); // same size, new bytes
        write(ctx / "sub" / "new.txt", "new\n");
        fs::create_symlink("c.txt", ctx / "ln");

        const DryRunReport r = dryRun(optionsFor(ctx));
        const StepResult& s = step(r, "[2/2] COPY");
        QVERIFY(!s.cached);
        QCOMPARE(QString::fromStdString(summary(s.changedFiles)),
                 QString("a.txt: removed\nb.txt: mode 0644 -> 0600\nc.txt: content changed\nln: added\nsub/new.txt: added\n"));
        const ChangedFile& c = s.changedFiles[2];
        QCOMPARE(*c.oldSize, std::int64_t(8));
        QCOMPARE(*c.newSize, std::int64_t(8));
        QVERIFY(c.contentChanged && !c.modeChanged);
        QCOMPARE(s.changedFiles[0].change, std::string("removed"));
        QCOMPARE(*s.changedFiles[0].oldSize, std::int64_t(6));
        QVERIFY(!s.changedFiles[0].newSize);
        QCOMPARE(s.changedFiles[3].newType, std::string("symlink"));
        QCOMPARE(s.changedFiles[3].newLink, std::string("c.txt"));

        // keepHistory=false neither reads nor writes it.
        DryRunOptions o = optionsFor(ctx);
        o.keepHistory = false;
        write(ctx / "e.txt", "echo\n");
        QVERIFY(step(dryRun(o), "[2/2] COPY").changedFiles.empty());
    }

    void manifestJsonIsDeterministicAndRoundTrips()
    {
        cache::ContextManifest m;
        cache::ManifestSelector s;
        s.selector = "/b";
        s.checksum = oci::Digest::of("x").str();
        s.paths = {"b/z", "b"};
        m.add(s, {{"b", {"dir", 0, 0755, "", ""}}, {"b/z", {"file", 3, 0644, oci::Digest::of("z").str(), ""}}});
        cache::ManifestSelector a;
        a.selector = "/a";
        a.checksum = oci::Digest::of("y").str();
        a.paths = {"a"};
        m.add(a, {{"a", {"symlink", 0, 0777, oci::Digest::of("l").str(), "b/z"}}});
        const std::string json = m.toJson();
        QVERIFY(json.find('\n') == std::string::npos);
        QVERIFY(json.find("\"selector\":\"/a\"") < json.find("\"selector\":\"/b\""));
        const cache::ContextManifest back = cache::ContextManifest::parse(json, "t");
        QCOMPARE(back.toJson(), json);
        QCOMPARE(back.files.at("a").link, std::string("b/z"));
        QCOMPARE(back.find("/b")->paths, (std::vector<std::string>{"b", "b/z"}));
        QVERIFY_THROWS_EXCEPTION(Error, cache::ContextManifest::parse("{\"files\":{}}", "t"));
        QVERIFY_THROWS_EXCEPTION(Error, cache::ContextManifest::parse("[", "t"));
        const oci::Descriptor d = cache::contextManifestDescriptor(json);
        QCOMPARE(d.mediaType, std::string(cache::kContextManifestMediaType));
        QCOMPARE(d.size, static_cast<std::int64_t>(json.size()));
        QCOMPARE(d.digest, oci::Digest::of(json));
    }

    void importedCacheCarriesManifest()
    {
        // Machine 1: a dry run records the manifest of the build the cache came from.
        const fs::path ctx = dir() / "ctx";
        fs::copy(fixture() / "context", ctx, fs::copy_options::recursive);
        DryRunOptions o1 = optionsFor(ctx, fixture() / "cache" / "local-max");
        o1.dataDir = dir() / "machine1";
        dryRun(o1);
        const auto builds = ContextHistory(o1.dataDir, ctx, ctx / "Dockerfile").builds();
        QCOMPARE(builds.size(), std::size_t(1));
        const std::string manifestJson = readFile(builds[0]);
        const fs::path cache = cacheWithManifest(fixture() / "cache" / "local-max", dir() / "cache", manifestJson);

        const cache::CacheSpec spec = cache::parseCacheSpec("type=local,src=" + cache.string() + ",tag=latest");
        const auto imported = cache::importSources({spec}, cache::defaultProviderFactory());
        QVERIFY2(imported[0].ok, imported[0].error.c_str());
        QVERIFY(imported[0].contextManifest);
        QCOMPARE(imported[0].contextManifest->toJson(), manifestJson);
        QVERIFY(imported[0].problems.empty());          // not taken for a layer
        QCOMPARE(imported[0].recordCount(), std::size_t(
            cache::importSources({cache::parseCacheSpec("type=local,src=" + (fixture() / "cache" / "local-max").string() +
                                                        ",tag=latest")},
                                 cache::defaultProviderFactory())[0]
                .recordCount()));

        // Machine 2: no local history; the imported manifest explains the file-level miss.
        write(ctx / "a.txt", "changed on machine 2\n");
        DryRunOptions o2 = optionsFor(ctx, cache);
        o2.dataDir = dir() / "machine2";
        const DryRunReport r = dryRun(o2);
        const StepResult& s = step(r, "[3/6] COPY a.txt b.txt");
        QVERIFY(!s.cached);
        QCOMPARE(s.changedFiles.size(), std::size_t(1));
        QCOMPARE(s.changedFiles[0].path, std::string("a.txt"));
        QVERIFY(s.changedFiles[0].contentChanged);
        QCOMPARE(s.changedFilesComparedWith, "cache " + spec.raw);
    }

    void statCacheRehashesOnNewCtime()
    {
        const fs::path root = dir() / "tree";
        write(root / "f.txt", "0123456789");
        write(root / "g.txt", "unchanged");
        ScanOptions o;
        o.statCacheFile = dir() / "stat.bin";
        const auto scan = [&] {
            ContentTree t = ContentTree::scan(root, o);
            const ContentKey k = t.contentKey({ContentSelector::of("/f.txt"), ContentSelector::of("/g.txt")});
            t.saveStatCache();
            return std::make_tuple(k.checksums[0], t.statCacheHits(), t.filesHashed());
        };
        // Just written: racy, so hashed and not trusted by the next scan.
        auto [d0, hits0, hashed0] = scan();
        QCOMPARE(hits0, std::size_t(0));
        QCOMPARE(hashed0, std::size_t(2));
        auto [d0b, hits0b, hashed0b] = scan();
        QCOMPARE(hits0b, std::size_t(0));
        QCOMPARE(d0b, d0);

        std::this_thread::sleep_for(std::chrono::milliseconds(2200));
        auto [d1, hits1, hashed1] = scan(); // now old enough: stored
        QCOMPARE(hits1, std::size_t(0));
        QCOMPARE(d1, d0);
        auto [d2, hits2, hashed2] = scan();
        QCOMPARE(hits2, std::size_t(2));
        QCOMPARE(hashed2, std::size_t(0));
        QCOMPARE(d2, d0);

        // Same size, same mtime, new bytes: only ctime tells, and it is re-hashed.
        struct stat before {};
        QCOMPARE(::stat((root / "f.txt").c_str(), &before), 0);
        write(root / "f.txt", "9876543210");
        const timespec times[2] = {before.st_atim, before.st_mtim};
        QCOMPARE(::utimensat(AT_FDCWD, (root / "f.txt").c_str(), times, 0), 0);
        struct stat after {};
        QCOMPARE(::stat((root / "f.txt").c_str(), &after), 0);
        QCOMPARE(after.st_size, before.st_size);
        QCOMPARE(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
        auto [d3, hits3, hashed3] = scan();
        QCOMPARE(hits3, std::size_t(1)); // g.txt only
        QCOMPARE(hashed3, std::size_t(1));
        QVERIFY(d3 != d0);
        ScanOptions plain;
        QCOMPARE(d3, ContentTree::scan(root, plain).checksum(ContentSelector::of("/f.txt")));

        // A damaged cache file is an empty cache, never a wrong digest.
        writeFileAtomic(o.statCacheFile, "cachescope-statcache-v1\n\x05");
        auto [d4, hits4, hashed4] = scan();
        QCOMPARE(hits4, std::size_t(0));
        QCOMPARE(d4, d3);
    }
};

QTEST_GUILESS_MAIN(TestContextManifest)
#include "test_context_manifest.moc"

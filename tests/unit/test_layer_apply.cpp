// Layer apply (hostile tars refused, whiteouts, xattrs, owners), the layer writer (round trips,
// overlay whiteouts to OCI ones, diffIDs) and the copying snapshot's tree diff.
#include "base/error.h"
#include "base/files.h"
#include "exec/layer_apply.h"
#include "exec/layer_blob.h"
#include "exec/layer_writer.h"
#include "exec/snapshot.h"
#include "exec/step_root.h"
#include "exec/tree_copy.h"
#include "oci/content_store.h"
#include "support/fixtures.h"
#include "support/tar_builder.h"
#include "support/tree_snapshot.h"

#include <QTemporaryDir>
#include <QTest>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace cachescope;
using namespace cachescope::exec;
using cachescope::test::TarBuilder;
using Compression = oci::media::Compression;
namespace fs = std::filesystem;

namespace {

const oci::Digest FakeDigest = oci::Digest::of("hostile layer");

// Applies and returns the error text ("" when it succeeded).
std::string applyError(const fs::path& tar, const fs::path& target)
{
    try {
        LayerApplyOptions options;
        options.verifyDigest = false;
        applyLayer(tar, oci::media::OciLayer, FakeDigest, target, options);
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

void writeText(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    writeFileAtomic(p, text);
}

// Entry names of a layer blob, in order.
std::vector<std::string> tarNames(const fs::path& blob, std::map<std::string, std::string>* xattrs = nullptr)
{
    std::vector<std::string> names;
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_open_filename(a, blob.c_str(), 65536);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        names.emplace_back(archive_entry_pathname(e));
        const char* n;
        const void* v;
        size_t s;
        archive_entry_xattr_reset(e);
        while (xattrs && archive_entry_xattr_next(e, &n, &v, &s) == ARCHIVE_OK)
            (*xattrs)[names.back() + " " + n] = std::string(static_cast<const char*>(v), s);
    }
    archive_read_free(a);
    return names;
}

bool isRoot()
{
    return ::geteuid() == 0;
}

} // namespace

class TestLayerApply : public QObject {
    Q_OBJECT
private slots:
    void pathEscapeIsRefused()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path target = base / "snap" / "root";
        TarBuilder(base / "l.tar").file("ok.txt", "fine").file("../../escaped.txt", "pwned").close();
        std::string err = applyError(base / "l.tar", target);
        QVERIFY2(err.find("layer " + FakeDigest.str() + ": entry \"../../escaped.txt\" escapes the root") !=
                     std::string::npos,
                 err.c_str());
        QVERIFY(!fs::exists(base / "escaped.txt"));
        QVERIFY(!fs::exists(base / "snap" / "escaped.txt"));
        QVERIFY(fs::exists(target / "ok.txt")); // entries before the refusal are inside, nothing outside

        TarBuilder(base / "l2.tar").file("a/../../escaped2.txt", "pwned").close();
        err = applyError(base / "l2.tar", base / "snap2" / "root");
        QVERIFY2(err.find("escapes the root") != std::string::npos, err.c_str());
        QVERIFY(!fs::exists(base / "snap2" / "escaped2.txt"));
    }

    void absolutePathIsRefused()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path outside = base / "outside.txt";
        TarBuilder(base / "l.tar").file(outside.string(), "pwned").close();
        std::string err = applyError(base / "l.tar", base / "root");
        QVERIFY2(err.find("entry \"" + outside.string() + "\" is an absolute path") != std::string::npos, err.c_str());
        QVERIFY(!fs::exists(outside));
    }

    void symlinkEscapeIsRefused()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::create_directories(base / "outside");
        fs::path target = base / "snap" / "root";
        TarBuilder(base / "l.tar").symlink("evil", "../../outside").file("evil/pwned", "x").close();
        std::string err = applyError(base / "l.tar", target);
        QVERIFY2(err.find("entry \"evil/pwned\" escapes the root") != std::string::npos, err.c_str());
        QVERIFY(fs::is_empty(base / "outside"));

        // A chain: a link to a link that climbs out.
        TarBuilder(base / "l2.tar").dir("d").symlink("d/up", "..").symlink("hop", "d/up/..").file("hop/pwned", "x").close();
        err = applyError(base / "l2.tar", base / "snap2" / "root");
        QVERIFY2(err.find("escapes the root") != std::string::npos, err.c_str());
        QVERIFY(!fs::exists(base / "snap2" / "pwned"));
    }

    void absoluteSymlinkResolvesInsideTheRoot()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::create_directories(base / "outside");
        fs::path target = base / "root";
        TarBuilder(base / "l.tar").symlink("abs", (base / "outside").string()).file("abs/pwned", "x").close();
        std::string err = applyError(base / "l.tar", target);
        QVERIFY2(err.empty(), err.c_str());
        QVERIFY(fs::is_empty(base / "outside"));
        // The link means the image's own /<base>/outside.
        QVERIFY(fs::exists(target / fs::relative(base / "outside", "/") / "pwned"));
    }

    void hardlinkEscapeIsRefused()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        writeText(base / "outside" / "secret", "host secret");
        fs::path target = base / "snap" / "root";

        TarBuilder(base / "l1.tar").hardlink("h", "../../outside/secret").close();
        std::string err = applyError(base / "l1.tar", target);
        QVERIFY2(err.find("entry \"h\" is a hardlink whose target \"../../outside/secret\" escapes the root") !=
                     std::string::npos,
                 err.c_str());

        TarBuilder(base / "l2.tar").hardlink("h", (base / "outside/secret").string()).close();
        err = applyError(base / "l2.tar", target);
        QVERIFY2(err.find("is an absolute path") != std::string::npos, err.c_str());

        TarBuilder(base / "l3.tar").symlink("l", "../../outside").hardlink("h", "l/secret").close();
        err = applyError(base / "l3.tar", base / "snap3" / "root");
        QVERIFY2(err.find("escapes the root") != std::string::npos, err.c_str());

        QVERIFY(!fs::exists(target / "h"));
        QVERIFY(!fs::exists(base / "snap3" / "root" / "h"));
        struct stat st {};
        ::stat((base / "outside" / "secret").c_str(), &st);
        QCOMPARE(st.st_nlink, nlink_t(1)); // nobody linked to it
        QCOMPARE(readFile(base / "outside" / "secret"), std::string("host secret"));
    }

    void hardlinkInsideWorks()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        TarBuilder(base / "l.tar").file("a", "shared").hardlink("b", "a").hardlink("./c", "./a").close();
        std::string err = applyError(base / "l.tar", base / "root");
        QVERIFY2(err.empty(), err.c_str());
        struct stat st {};
        ::stat((base / "root" / "c").c_str(), &st);
        QCOMPARE(st.st_nlink, nlink_t(3));
    }

    void whiteoutsAndOpaqueDirectories()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path target = base / "root";
        TarBuilder(base / "l1.tar")
            .dir("a").file("a/x", "1").file("a/y", "2")
            .dir("b").file("b/z", "3")
            .dir("o").file("o/old1", "4").dir("o/sub").file("o/sub/old2", "5")
            .file("keep", "6")
            .close();
        TarBuilder(base / "l2.tar")
            .file(".wh.b", "")
            .file("a/.wh.x", "")
            .dir("o").file("o/.wh..wh..opq", "").file("o/new", "7")
            .file(".wh.never-existed", "")
            .close();
        QCOMPARE(applyError(base / "l1.tar", target), std::string());
        QCOMPARE(applyError(base / "l2.tar", target), std::string());
        QVERIFY(!fs::exists(target / "b"));
        QVERIFY(!fs::exists(target / "a" / "x"));
        QVERIFY(fs::exists(target / "a" / "y"));
        QVERIFY(fs::exists(target / "keep"));
        QVERIFY(fs::exists(target / "o" / "new"));
        QVERIFY(!fs::exists(target / "o" / "old1"));
        QVERIFY(!fs::exists(target / "o" / "sub"));
        QVERIFY(!fs::exists(target / ".wh.b"));
        QVERIFY(!fs::exists(target / "o" / ".wh..wh..opq"));

        // The opaque marker after the new entries of the same layer keeps them.
        TarBuilder(base / "l3.tar").dir("a").file("a/late", "8").file("a/.wh..wh..opq", "").close();
        QCOMPARE(applyError(base / "l3.tar", target), std::string());
        QVERIFY(fs::exists(target / "a" / "late"));
        QVERIFY(!fs::exists(target / "a" / "y"));

        // A whiteout cannot delete outside either.
        writeText(base / "victim", "keep me");
        TarBuilder(base / "l4.tar").file("../.wh.victim", "").close();
        std::string err = applyError(base / "l4.tar", target);
        QVERIFY2(err.find("escapes the root") != std::string::npos, err.c_str());
        QVERIFY(fs::exists(base / "victim"));
    }

    void ownersModesTimesAndXattrs()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path target = base / "root";
        TarBuilder::Meta suid{04755, 1234, 5678, 1600000000, {{"user.cachescope", "yes"}}};
        TarBuilder::Meta ro{0555, 0, 0, 1500000000, {}};
        TarBuilder(base / "l.tar")
            .file("bin/tool", "#!/bin/sh\n", suid)
            .dir("ro", ro)
            .file("ro/inside", "written after its read-only parent")
            .symlink("link", "bin/tool")
            .close();
        LayerApplyOptions options;
        options.verifyDigest = false;
        auto result = applyLayer(base / "l.tar", oci::media::OciLayer, {}, target, options);
        struct stat st {};
        QCOMPARE(::lstat((target / "bin/tool").c_str(), &st), 0);
        QCOMPARE(st.st_mtim.tv_sec, time_t(1600000000));
        char value[16] = {};
        QCOMPARE(::lgetxattr((target / "bin/tool").c_str(), "user.cachescope", value, sizeof value), ssize_t(3));
        QCOMPARE(std::string(value), std::string("yes"));
        if (isRoot()) {
            QCOMPARE(st.st_uid, uid_t(1234));
            QCOMPARE(st.st_gid, gid_t(5678));
            QCOMPARE(st.st_mode & 07777, mode_t(04755)); // chmod after chown keeps setuid
            QVERIFY(result.unappliedOwners.empty());
        } else {
            QVERIFY(result.unappliedOwners.count("bin/tool"));
            QCOMPARE(result.unappliedOwners.at("bin/tool").uid, 1234u);
        }
        QCOMPARE(::lstat((target / "ro").c_str(), &st), 0);
        QCOMPARE(st.st_mode & 07777, mode_t(0555));
        QCOMPARE(st.st_mtim.tv_sec, time_t(1500000000)); // set after its child was written
        QVERIFY(fs::is_symlink(target / "link"));
        fs::permissions(target / "ro", fs::perms::owner_all, fs::perm_options::add); // let QTemporaryDir clean up
    }

    void deviceNodes()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        TarBuilder(base / "l.tar").charDevice("dev/null", 1, 3).close();
        LayerApplyOptions options;
        options.verifyDigest = false;
        auto result = applyLayer(base / "l.tar", oci::media::OciLayer, {}, base / "root", options);
        struct stat st {};
        if (isRoot()) {
            QCOMPARE(::lstat((base / "root/dev/null").c_str(), &st), 0);
            QVERIFY(S_ISCHR(st.st_mode));
            QCOMPARE(major(st.st_rdev), 1u);
        } else {
            QVERIFY(!fs::exists(base / "root/dev/null"));
            QVERIFY(!result.notes.empty());
            QVERIFY(result.notes[0].find("dev/null skipped") != std::string::npos);
        }
    }

    void compressedLayersAndDigestCheck()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        for (auto c : {Compression::Gzip, Compression::Zstd}) {
            fs::path blob = base / (c == Compression::Gzip ? "l.tgz" : "l.tzst");
            TarBuilder(blob, c).file("hello", "world").close();
            QCOMPARE(detectCompression(blob), c);
            oci::Digest real = oci::Digest::of(readFile(blob));
            // The media type says plain tar; magic bytes win and a note says so.
            auto r = applyLayer(blob, oci::media::OciLayer, real, base / "root", {});
            QCOMPARE(r.blobDigest, real);
            QCOMPARE(r.notes.size(), std::size_t(1));
            QCOMPARE(readFile(base / "root/hello"), std::string("world"));
            try {
                applyLayer(blob, oci::media::OciLayerGzip, FakeDigest, base / "root2", {});
                QFAIL("a wrong digest must fail");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("layer " + FakeDigest.str() + ": content has digest " + real.str()) !=
                             std::string::npos,
                         e.what());
            }
        }
    }

    void busyboxLayerDiffIdAndApply()
    {
        const fs::path layout = test::fixturesDir() / "buildkit-v0.24/base-image/oci";
        auto manifest = nlohmann::json::parse(readFile(layout / "blobs/sha256/2722d69496d5e1d6421d9ad0fe69f160c52c8e075ee34c17b95dd0205b17c457"));
        auto configDigest = oci::Digest::parse(manifest["config"]["digest"].get<std::string>());
        auto config = nlohmann::json::parse(readFile(layout / "blobs/sha256" / std::string(configDigest.hex())));
        auto layer = manifest["layers"][0];
        auto layerDigest = oci::Digest::parse(layer["digest"].get<std::string>());
        fs::path blob = layout / "blobs/sha256" / std::string(layerDigest.hex());
        const std::string expected = config["rootfs"]["diff_ids"][0];
        QCOMPARE(computeDiffId(blob).str(), expected);
        if (layer.contains("annotations") && layer["annotations"].contains("containerd.io/uncompressed"))
            QCOMPARE(layer["annotations"]["containerd.io/uncompressed"].get<std::string>(), expected);

        QTemporaryDir tmp;
        fs::path target = fs::path(tmp.path().toStdString()) / "rootfs";
        auto r = applyLayer(blob, layer["mediaType"].get<std::string>(), layerDigest, target);
        QCOMPARE(r.blobDigest, layerDigest);
        QVERIFY(fs::is_regular_file(target / "bin/busybox"));
        QVERIFY(fs::exists(target / "etc/passwd"));

        // Re-packing the unpacked image gives the same files back.
        oci::ContentStore store(fs::path(tmp.path().toStdString()) / "store");
        LayerWriterOptions wo;
        wo.whiteouts = WhiteoutFormat::Oci;
        auto written = writeLayer(target, store, wo);
        applyLayer(store.blobPath(written.descriptor.digest), written.descriptor.mediaType, written.descriptor.digest,
                   fs::path(tmp.path().toStdString()) / "again");
        QCOMPARE(test::treeDifference(test::describeTree(target), test::describeTree(fs::path(tmp.path().toStdString()) / "again")),
                 std::string());
    }

    void roundTripTreeLayerTree_data()
    {
        QTest::addColumn<int>("compression");
        QTest::newRow("gzip") << int(Compression::Gzip);
        QTest::newRow("zstd") << int(Compression::Zstd);
        QTest::newRow("uncompressed") << int(Compression::Uncompressed);
    }

    void roundTripTreeLayerTree()
    {
        QFETCH(int, compression);
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path tree = base / "tree";
        writeText(tree / "etc/config", "a=1\n");
        writeText(tree / "bin/tool", std::string(300000, 'x'));
        fs::permissions(tree / "bin/tool", fs::perms(0755));
        writeText(tree / "empty", "");
        fs::create_directories(tree / "private/deep/er");
        writeText(tree / "private/deep/er/f", "deep");
        fs::permissions(tree / "private", fs::perms(0700));
        fs::create_symlink("../etc/config", tree / "bin/config-link");
        fs::create_symlink("/nonexistent/abs", tree / "dangling");
        fs::create_hard_link(tree / "etc/config", tree / "etc/config.hard");
        fs::create_hard_link(tree / "etc/config", tree / "bin/config.hard2");
        ::lsetxattr((tree / "etc/config").c_str(), "user.k", "v", 1, 0);
        if (isRoot())
            ::lchown((tree / "bin/tool").c_str(), 1000, 1000);
        struct timespec t[2] = {{1650000000, 0}, {1650000000, 123456789}};
        ::utimensat(AT_FDCWD, (tree / "empty").c_str(), t, AT_SYMLINK_NOFOLLOW);

        oci::ContentStore store(base / "store");
        LayerWriterOptions options;
        options.compression = Compression(compression);
        auto written = writeLayer(tree, store, options);
        fs::path blob = store.blobPath(written.descriptor.digest);
        QVERIFY(store.verify(written.descriptor.digest));
        QCOMPARE(written.descriptor.size, std::int64_t(fs::file_size(blob)));
        QCOMPARE(written.descriptor.annotation("containerd.io/uncompressed"), written.diffId.str());
        QCOMPARE(computeDiffId(blob), written.diffId);
        QCOMPARE(detectCompression(blob), Compression(compression));
        QCOMPARE(oci::media::layerCompression(written.descriptor.mediaType), Compression(compression));
        if (Compression(compression) == Compression::Uncompressed)
            QCOMPARE(written.descriptor.digest, written.diffId);
        QVERIFY(fs::is_empty(base / "store/ingest"));

        auto names = tarNames(blob);
        QVERIFY(std::is_sorted(names.begin(), names.end()) || names.size() > 0);
        // Deterministic: the same tree gives the same blob.
        QCOMPARE(writeLayer(tree, store, options).descriptor.digest, written.descriptor.digest);

        applyLayer(blob, written.descriptor.mediaType, written.descriptor.digest, base / "back");
        QCOMPARE(test::treeDifference(test::describeTree(tree), test::describeTree(base / "back")), std::string());
        char v[4] = {};
        QCOMPARE(::lgetxattr((base / "back/etc/config").c_str(), "user.k", v, sizeof v), ssize_t(1));
    }

    void overlayUpperBecomesOciWhiteouts()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path upper = base / "upper";
        fs::create_directories(upper / "opaque");
        writeText(upper / "opaque/fresh", "new");
        writeText(upper / "added", "a");
        QCOMPARE(::mknod((upper / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
        const char* opaqueXattr = isRoot() ? "trusted.overlay.opaque" : "user.overlay.opaque";
        QCOMPARE(::lsetxattr((upper / "opaque").c_str(), opaqueXattr, "y", 1, 0), 0);

        oci::ContentStore store(base / "store");
        auto written = writeLayer(upper, store, {});
        std::map<std::string, std::string> xattrs;
        auto names = tarNames(store.blobPath(written.descriptor.digest), &xattrs);
        std::set<std::string> set(names.begin(), names.end());
        QVERIFY(set.count(".wh.gone"));
        QVERIFY(set.count("opaque/.wh..wh..opq"));
        QVERIFY(set.count("opaque/fresh"));
        QVERIFY(!set.count("gone"));
        for (const auto& [k, v] : xattrs)
            QVERIFY2(k.find("overlay.") == std::string::npos, k.c_str());

        // Applied over a lower tree it deletes and hides what it should.
        fs::path lower = base / "lower";
        writeText(lower / "gone", "old");
        writeText(lower / "opaque/old", "old");
        applyLayer(store.blobPath(written.descriptor.digest), written.descriptor.mediaType, written.descriptor.digest, lower);
        QVERIFY(!fs::exists(lower / "gone"));
        QVERIFY(!fs::exists(lower / "opaque/old"));
        QVERIFY(fs::exists(lower / "opaque/fresh"));
        QVERIFY(fs::exists(lower / "added"));
    }

    void copySnapshotDiffRoundTrip()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path lower = base / "lower";
        writeText(lower / "keep", "same");
        writeText(lower / "change", "before");
        writeText(lower / "remove", "bye");
        writeText(lower / "dir/removed-dir-file", "bye");
        writeText(lower / "dir2/inner", "stays");
        struct timespec t[2] = {{1600000000, 0}, {1600000000, 0}};
        for (auto* n : {"keep", "change", "remove"})
            ::utimensat(AT_FDCWD, (lower / n).c_str(), t, 0);

        Snapshot parent{{{lower, WhiteoutFormat::Overlay}}};
        auto step = StepRoot::prepare(parent, base / "step", SnapshotMode::Copy);
        fs::path rootfs = step.rootfsDir();
        QCOMPARE(test::treeDifference(test::describeTree(lower), test::describeTree(rootfs)), std::string());
        writeFileAtomic(rootfs / "change", "after!");
        fs::remove(rootfs / "remove");
        fs::remove_all(rootfs / "dir");
        writeText(rootfs / "dir2/new", "hello");
        writeText(rootfs / "fresh/file", "new");
        auto diff = step.finish();
        QCOMPARE(int(diff.format), int(WhiteoutFormat::Oci));
        QVERIFY(fs::exists(diff.dir / ".wh.remove"));
        QVERIFY(fs::exists(diff.dir / ".wh.dir"));
        QVERIFY(!fs::exists(diff.dir / "keep"));
        QVERIFY(fs::exists(diff.dir / "change"));
        QVERIFY(fs::exists(diff.dir / "dir2/new"));
        QVERIFY(!fs::exists(diff.dir / "dir2/inner"));

        oci::ContentStore store(base / "store");
        LayerWriterOptions options;
        options.whiteouts = WhiteoutFormat::Oci;
        auto written = writeLayer(diff.dir, store, options);
        // lower + layer == what the step left
        TreeCopier copier;
        copier.copyTree(lower, base / "replay");
        copier.finish();
        applyLayer(store.blobPath(written.descriptor.digest), written.descriptor.mediaType, written.descriptor.digest,
                   base / "replay");
        const std::string replayDiff = test::treeDifference(test::describeTree(rootfs), test::describeTree(base / "replay"));
        QVERIFY2(replayDiff.empty(), replayDiff.c_str());

        // The view over lower + diff sees the same as the rootfs.
        SnapshotView view(parent.with(diff));
        QVERIFY(!view.find("remove"));
        QVERIFY(!view.find("dir/removed-dir-file"));
        QCOMPARE(readFile(*view.find("change")), std::string("after!"));
        QCOMPARE(view.list("dir2").size(), std::size_t(2));
    }

    // Unpacked chains start from a linked clone of the chain below: applying a layer onto the clone
    // must leave the chain it shares inodes with exactly as it was.
    void layerOnALinkedCloneLeavesTheSourceAlone()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        fs::path lower = base / "lower";
        TarBuilder(base / "l1.tar")
            .dir("a").file("a/x", "x1").hardlink("a/x-link", "a/x").file("a/y", "y1")
            .dir("b").file("b/z", "z1")
            .dir("o").file("o/old", "o1")
            .file("keep", "k1", test::tarMode(0644))
            .symlink("s", "a/x")
            .close();
        QCOMPARE(applyError(base / "l1.tar", lower), std::string());
        const auto before = test::describeTree(lower);

        fs::path clone = base / "clone";
        SnapshotView(Snapshot{{{lower, WhiteoutFormat::Overlay}}}).materialize(clone, CopyMode::Link);
        QCOMPARE(test::treeDifference(before, test::describeTree(clone)), std::string());
        struct stat ls {}, cs {};
        QVERIFY(::lstat((lower / "a/y").c_str(), &ls) == 0 && ::lstat((clone / "a/y").c_str(), &cs) == 0);
        QCOMPARE(cs.st_ino, ls.st_ino); // linked, not copied

        TarBuilder(base / "l2.tar")
            .dir("a").file("a/x", "x2").file("a/y", "y2", test::tarMode(0600))
            .file(".wh.b", "")
            .dir("o").file("o/.wh..wh..opq", "").file("o/new", "o2")
            .file("keep", "k1", test::tarMode(0755))
            .symlink("s", "a/y")
            .hardlink("y-link", "a/y")
            .close();
        QCOMPARE(applyError(base / "l2.tar", clone), std::string());
        QCOMPARE(readFile(clone / "a/x"), std::string("x2"));
        QCOMPARE(readFile(clone / "a/x-link"), std::string("x1"));
        QCOMPARE(readFile(clone / "y-link"), std::string("y2"));
        QCOMPARE(fs::read_symlink(clone / "s").string(), std::string("a/y"));
        QCOMPARE(int(fs::status(clone / "keep").permissions() & fs::perms::all), 0755);
        QVERIFY(!fs::exists(clone / "b") && !fs::exists(clone / "o/old"));
        const std::string changed = test::treeDifference(before, test::describeTree(lower));
        QVERIFY2(changed.empty(), changed.c_str());
    }

    void cancelledWriteLeavesNothing()
    {
        QTemporaryDir tmp;
        fs::path base = tmp.path().toStdString();
        writeText(base / "tree/f", "x");
        oci::ContentStore store(base / "store");
        std::stop_source stop;
        stop.request_stop();
        LayerWriterOptions options;
        options.cancel = stop.get_token();
        QVERIFY_THROWS_EXCEPTION(Error, writeLayer(base / "tree", store, options));
        QVERIFY(!fs::exists(base / "store/blobs"));
        QVERIFY(fs::is_empty(base / "store/ingest"));
    }
};

QTEST_APPLESS_MAIN(TestLayerApply)
#include "test_layer_apply.moc"

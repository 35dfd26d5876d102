// File-level miss explanations across machines: a real build writes its context manifest into the
// local history and into every --cache-to export (local and registry, both manifest forms) as a blob
// BuildKit ignores. After one file's content and another's mode change, a dry run on "another machine"
// (a fresh data dir) importing that export names exactly those two files, content vs mode.
#include "base/error.h"
#include "base/files.h"
#include "build/build_session.h"
#include "cache/cache_export_spec.h"
#include "cache/cache_importer.h"
#include "cache/cache_spec.h"
#include "cache/context_manifest.h"
#include "cache/default_providers.h"
#include "exec/layer_writer.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/registry_client.h"
#include "solver/context_history.h"
#include "solver/dry_run.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace cachescope;
namespace fs = std::filesystem;

namespace {

fs::path fixtureDir(const std::string& name)
{
    return test::fixturesDir() / "buildkit-v0.24" / name;
}

const std::string kBase = "127.0.0.1:5055/library/busybox:latest";

std::string baseLayout()
{
    return "oci-layout://" + (fixtureDir("base-image") / "oci").string() + ":latest";
}

// The descriptors a cache manifest lists besides its config (index: all but the config entry;
// image manifest: the layers), and the config descriptor.
struct Listed {
    std::vector<oci::Descriptor> blobs;
    oci::Descriptor config;
    bool configLast = false;
};

Listed listed(const std::string& bytes)
{
    const nlohmann::json j = nlohmann::json::parse(bytes);
    Listed out;
    if (j.contains("manifests")) {
        const oci::Index idx = oci::Index::fromJson(j, "cache index");
        for (const auto& d : idx.manifests) {
            if (d.mediaType == oci::media::BuildkitCacheConfig)
                out.config = d;
            else
                out.blobs.push_back(d);
        }
        out.configLast = !idx.manifests.empty() && idx.manifests.back().mediaType == oci::media::BuildkitCacheConfig;
    } else {
        const oci::Manifest m = oci::Manifest::fromJson(j, "cache manifest");
        out.blobs = m.layers;
        out.config = m.config;
        out.configLast = true;
    }
    return out;
}

} // namespace

class TestBuildExplain : public QObject {
    Q_OBJECT

    QTemporaryDir home_;
    test::RegistryLauncher registry_;

    fs::path fresh(const std::string& name) { return test::freshDir(home_.path(), name); }

private slots:
    void initTestCase()
    {
        QVERIFY(home_.isValid());
        qputenv("XDG_DATA_HOME", QByteArray::fromStdString(home_.path().toStdString() + "/xdg"));
        if (!fs::exists("/usr/bin/bwrap"))
            QFAIL("bubblewrap (/usr/bin/bwrap) is required for builds");
        QVERIFY2(registry_.start(), qPrintable(registry_.errorString()));
    }

    void manifestTravelsWithTheExport_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("options");
        QTest::newRow("local image-manifest") << "local" << "";
        QTest::newRow("local index") << "local" << ",image-manifest=false";
        QTest::newRow("registry image-manifest") << "registry" << "";
        QTest::newRow("registry index docker") << "registry" << ",oci-mediatypes=false";
    }

    void manifestTravelsWithTheExport()
    {
        QFETCH(QString, type);
        QFETCH(QString, options);
        const std::string name = QTest::currentDataTag();
        std::string slug;
        for (char c : name)
            slug += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';

        // A copy of fixture 01's context, so its files can change.
        const fs::path context = fresh("ctx-" + slug);
        fs::copy(fixtureDir("01-single-stage") / "context", context, fs::copy_options::recursive);
        for (const auto& e : fs::directory_iterator(context))
            fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                          fs::perms::others_read);

        const bool local = type == "local";
        const fs::path exportDir = fresh("export-" + slug);
        const std::string ref = registry_.host() + "/explain/" + slug + ":cache";
        const std::string to = (local ? "type=local,dest=" + exportDir.string() : "type=registry,ref=" + ref) +
                               ",mode=max" + options.toStdString();
        const std::string from = local ? "type=local,src=" + exportDir.string() : "type=registry,ref=" + ref;

        build::BuildOptions b;
        b.contextDir = context;
        b.dataDir = fresh("data-" + slug);
        b.buildContexts[kBase] = baseLayout();
        b.cacheTo.push_back(cache::parseCacheExportSpec(to));
        const build::BuildResult built = build::BuildSession(b).run();
        QVERIFY2(built.ok, built.error.c_str());
        QCOMPARE(built.cacheExports.size(), std::size_t(1));

        // The build's history holds its manifest (the dry run on this machine compares with it).
        QCOMPARE(solver::ContextHistory(b.dataDir, context, context / "Dockerfile").builds().size(), std::size_t(1));

        // The export lists the manifest once, as a blob no config layer names; the config stays last
        // in the index form; the blob is there (a registry checks that, a local layout has the file).
        std::string topBytes;
        std::function<std::string(const oci::Descriptor&)> readBlob;
        if (local) {
            const oci::OciLayout layout = oci::OciLayout::open(exportDir);
            const auto top = layout.findTag("latest");
            QVERIFY(top.has_value());
            topBytes = layout.blobs().read(top->digest);
            readBlob = [exportDir](const oci::Descriptor& d) {
                return oci::OciLayout::open(exportDir).blobs().read(d.digest);
            };
        } else {
            registry::RegistryClient client(registry_.host());
            topBytes = client.getManifest("explain/" + slug, "cache").bytes;
            readBlob = [this, slug](const oci::Descriptor& d) {
                return registry::RegistryClient(registry_.host()).fetchBlobBytes("explain/" + slug, d, 1 << 24);
            };
        }
        const Listed l = listed(topBytes);
        QVERIFY(l.configLast);
        std::vector<oci::Descriptor> manifests;
        for (const auto& d : l.blobs)
            if (cache::isContextManifestDescriptor(d))
                manifests.push_back(d);
        QCOMPARE(manifests.size(), std::size_t(1));
        const cache::ContextManifest exported = cache::ContextManifest::parse(readBlob(manifests[0]), "exported manifest");
        QVERIFY(exported.files.count("a.txt") && exported.files.count("b.txt") && exported.files.count("c.txt"));
        const cache::CacheConfig config = cache::parseCacheConfig(readBlob(l.config), "exported config");
        QVERIFY(!config.layers.empty());
        for (const auto& layer : config.layers)
            QVERIFY2(layer.blob != manifests[0].digest, "a config layer names the context manifest");

        // Our importer reads it back without a problem: the layers are exactly the config's.
        const auto imported = cache::importSources({cache::parseCacheSpec(from)}, cache::defaultProviderFactory());
        QVERIFY2(imported[0].ok, imported[0].error.c_str());
        for (const auto& p : imported[0].problems)
            QFAIL(("import problem: " + p.kind + ": " + p.message).c_str());
        QVERIFY(imported[0].contextManifest.has_value());
        QCOMPARE(imported[0].contextManifest->toJson(), exported.toJson());
        QCOMPARE(imported[0].graphs[0].layerDescriptors.size(), l.blobs.size() - 1);

        // One file's content and another's mode change.
        writeFileAtomic(context / "a.txt", "alpha, second edition\n");
        fs::permissions(context / "b.txt", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                               fs::perms::others_read | fs::perms::others_exec);

        // Another machine: a fresh data dir, the export as the only source.
        solver::DryRunOptions o;
        o.contextDir = context;
        o.buildContexts[kBase] = baseLayout();
        o.dataDir = fresh("elsewhere-" + slug);
        o.cacheFrom.push_back(cache::parseCacheSpec(from));
        const solver::DryRunReport report = solver::dryRun(o);
        QVERIFY2(report.sources.size() == 1 && report.sources[0].ok, report.sources[0].error.c_str());
        const solver::StepResult* copy = nullptr;
        for (const auto& s : report.steps)
            if (s.name.starts_with("[3/6] COPY a.txt b.txt"))
                copy = &s;
        QVERIFY(copy);
        QVERIFY(!copy->cached);
        QCOMPARE(QString::fromStdString(copy->cause), QString("context-changed"));
        QCOMPARE(QString::fromStdString(copy->changedFilesComparedWith), QString::fromStdString("cache " + from));
        QCOMPARE(copy->changedFiles.size(), std::size_t(2));
        const solver::ChangedFile& a = copy->changedFiles[0];
        const solver::ChangedFile& bf = copy->changedFiles[1];
        QCOMPARE(QString::fromStdString(a.path), QString("a.txt"));
        QVERIFY(a.contentChanged && !a.modeChanged);
        QCOMPARE(QString::fromStdString(bf.path), QString("b.txt"));
        QVERIFY(bf.modeChanged && !bf.contentChanged);
        QCOMPARE(*bf.oldMode, std::uint32_t(0644));
        QCOMPARE(*bf.newMode, std::uint32_t(0755));
        QVERIFY2(copy->explanation.find("a.txt") != std::string::npos &&
                     copy->explanation.find("b.txt") != std::string::npos,
                 copy->explanation.c_str());

        // On the building machine the local history answers first, with the same files.
        o.dataDir = b.dataDir;
        const solver::DryRunReport here = solver::dryRun(o);
        for (const auto& s : here.steps)
            if (s.name.starts_with("[3/6] COPY a.txt b.txt")) {
                QVERIFY2(s.changedFilesComparedWith.starts_with("local history"), s.changedFilesComparedWith.c_str());
                QCOMPARE(s.changedFiles.size(), std::size_t(2));
            }
    }

    // A multi-platform base image: a real amd64 build exports its cache; planned for arm64, the base
    // resolves to another manifest (other layers), so neither image key of this build is cached — the
    // explanation says the image is cached for linux/amd64 rather than "base image changed".
    void baseImageCachedForAnotherPlatform()
    {
        // The fixture's busybox (amd64) plus an arm64 manifest with a layer of its own, under one index.
        const fs::path layoutDir = fresh("multi-arch");
        fs::copy(fixtureDir("base-image") / "oci", layoutDir, fs::copy_options::recursive);
        for (const auto& e : fs::recursive_directory_iterator(layoutDir))
            fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
        oci::OciLayout layout = oci::OciLayout::open(layoutDir);
        const oci::Descriptor amd64 = *layout.findTag("latest");
        const fs::path armDiff = fresh("arm-diff");
        writeFileAtomic(armDiff / "arch.txt", "arm64\n");
        exec::LayerWriterOptions lo;
        lo.whiteouts = exec::WhiteoutFormat::Oci;
        const exec::LayerWriteResult armLayer = exec::writeLayer(armDiff, layout.blobs(), lo);
        const std::string armConfig =
            "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" +
            armLayer.diffId.str() + "\"]}}";
        oci::Manifest armManifest;
        armManifest.mediaType = std::string(oci::media::OciManifest);
        armManifest.config = layout.blobs().put(armConfig, std::string(oci::media::OciConfig));
        armManifest.layers.push_back(armLayer.descriptor);
        oci::Descriptor arm = layout.blobs().put(armManifest.toJson().dump(), std::string(oci::media::OciManifest));
        arm.platform = oci::Platform::parse("linux/arm64");
        oci::Index index;
        index.mediaType = std::string(oci::media::OciIndex);
        oci::Descriptor amdEntry = amd64;
        amdEntry.annotations.clear();
        amdEntry.platform = oci::Platform::parse("linux/amd64");
        index.manifests = {amdEntry, arm};
        layout.setTag("latest", layout.blobs().put(index.toJson().dump(), std::string(oci::media::OciIndex)));
        const std::string base = "oci-layout://" + layoutDir.string() + ":latest";

        const fs::path exportDir = fresh("multi-arch-export");
        build::BuildOptions b;
        b.contextDir = fixtureDir("01-single-stage") / "context";
        b.dataDir = fresh("multi-arch-data");
        b.buildContexts[kBase] = base;
        b.platform = "linux/amd64";
        b.cacheTo.push_back(cache::parseCacheExportSpec("type=local,dest=" + exportDir.string() + ",mode=max"));
        const build::BuildResult built = build::BuildSession(b).run();
        QVERIFY2(built.ok, built.error.c_str());

        solver::DryRunOptions o;
        o.contextDir = b.contextDir;
        o.buildContexts[kBase] = base;
        o.dataDir = fresh("multi-arch-plan");
        o.cacheFrom.push_back(cache::parseCacheSpec("type=local,src=" + exportDir.string()));
        o.platform = "linux/amd64";
        for (const auto& s : solver::dryRun(o).steps)
            QVERIFY2(s.isFrom || s.cached, (s.name + ": " + s.explanation).c_str());
        o.platform = "linux/arm64";
        const solver::DryRunReport arm64 = solver::dryRun(o);
        QVERIFY(arm64.steps.size() >= 2);
        const solver::StepResult& from = arm64.steps[0];
        QVERIFY(from.isFrom);
        QCOMPARE(QString::fromStdString(from.cause), QString("platform-differs"));
        QVERIFY2(from.explanation.find("cached for linux/amd64") != std::string::npos &&
                     from.explanation.find("this build is for linux/arm64") != std::string::npos,
                 from.explanation.c_str());
        const solver::StepResult& workdir = arm64.steps[1];
        QVERIFY(!workdir.cached);
        QCOMPARE(QString::fromStdString(workdir.cause), QString("platform-differs"));
    }
};

QTEST_GUILESS_MAIN(TestBuildExplain)
#include "test_build_explain.moc"

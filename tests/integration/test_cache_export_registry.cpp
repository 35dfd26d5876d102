// Cache export to a real docker-registry: each fixture's cache imported, re-exported with
// type=registry in both forms and both media-type modes, and imported back over the wire into
// the same graph; a remote (registry-imported) cache re-exported to another repository; the
// inline value recomputed from an imported inline image equals BuildKit's.
#include "base/error.h"
#include "cache/cache_exporter.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "cache/inline_cache_export.h"
#include "cache/reexport_graph.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/registry_client.h"
#include "support/graph_shape.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"

#include <QTest>
#include <set>

using namespace cachescope;
namespace media = oci::media;

namespace {

cache::ImportedCache importOne(const std::string& spec)
{
    auto out = cache::importSources({cache::parseCacheSpec(spec)}, cache::defaultProviderFactory());
    return std::move(out[0]);
}

} // namespace

class TestCacheExportRegistry : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY2(registry_.start(), qPrintable(registry_.errorString())); }

    void exportsAndImportsBack_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("options");
        QTest::addColumn<QString>("mediaType");
        for (const auto& fixture : test::fixtureNames()) {
            const auto row = [&](const char* name, const char* options, std::string_view mt) {
                QTest::newRow((fixture + "/" + name).c_str())
                    << QString::fromStdString(fixture) << QString(options) << QString::fromStdString(std::string(mt));
            };
            row("manifest-oci", "", media::OciManifest);
            row("index-oci", ",image-manifest=false", media::OciIndex);
            row("index-docker", ",oci-mediatypes=false", media::DockerManifestList);
            row("index-docker-explicit", ",oci-mediatypes=false,image-manifest=false", media::DockerManifestList);
        }
    }

    void exportsAndImportsBack()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, options);
        QFETCH(QString, mediaType);
        const auto local = importOne("type=local,src=" + test::cacheVariant(fixture.toStdString(), "local-max").string());
        QVERIFY2(local.ok, local.error.c_str());
        const std::string ref = registry_.host() + "/export/" + fixture.toStdString() + ":" +
                                QString(QTest::currentDataTag()).section('/', 1).toStdString();
        std::vector<std::string> lines;
        cache::CacheExportOptions o;
        o.progress = [&](const std::string& l) { lines.push_back(l); };
        const auto report = cache::exportCache(
            cache::exportGraphFromImport(local),
            cache::parseCacheExportSpec("type=registry,mode=max,ref=" + ref + options.toStdString()), o);
        QVERIFY(report.ok);
        QCOMPARE(QString::fromStdString(report.manifest.mediaType), mediaType);
        QVERIFY(std::find(lines.begin(), lines.end(), "exporting cache to registry") != lines.end());

        const auto remote = importOne("type=registry,ref=" + ref);
        QVERIFY2(remote.ok, remote.error.c_str());
        QCOMPARE(remote.manifestDigest, report.manifest.digest);
        QCOMPARE(remote.missingBlobs, std::size_t(0));
        QVERIFY(test::graphShape(remote) == test::graphShape(local));
        for (const auto& [digest, desc] : remote.graphs[0].layerDescriptors) {
            QCOMPARE(desc.mediaType, std::string(mediaType == QString::fromStdString(std::string(media::DockerManifestList))
                                                     ? media::DockerLayerGzip
                                                     : media::OciLayerGzip));
            QVERIFY(!desc.annotation(media::AnnotationUncompressed).empty());
        }
        // The default form is BuildKit's own manifest, byte for byte (the index fixtures come from
        // another build, so only the config form is compared there: same config as local-max).
        const auto raw = test::loadFixtureCache(fixture.toStdString(), "local-max");
        if (options.isEmpty())
            QCOMPARE(report.manifest.digest, raw.top.digest);
        QCOMPARE(report.config.digest, oci::Digest::of(raw.configBytes));
    }

    void remoteCacheReexportedToAnotherRepository()
    {
        // Blobs that only exist in the registry are mounted from the source repository (same registry).
        const auto layout = oci::OciLayout::open(test::cacheVariant("02-multi-stage", "registry-max"));
        registry::RegistryClient client(registry_.host());
        registry::pushLayoutTag(client, layout, "cache-max", "src/multi", "cache-max");
        const auto remote = importOne("type=registry,ref=" + registry_.host() + "/src/multi:cache-max");
        QVERIFY2(remote.ok, remote.error.c_str());
        const std::string ref = registry_.host() + "/copy/multi:cache";
        const auto report =
            cache::exportCache(cache::exportGraphFromImport(remote), cache::parseCacheExportSpec("type=registry,ref=" + ref));
        QVERIFY(report.ok);
        // mode=min keeps imported results: their blobs exist already.
        const auto again = importOne("type=registry,ref=" + ref);
        QVERIFY2(again.ok, again.error.c_str());
        QCOMPARE(again.missingBlobs, std::size_t(0));
        QVERIFY(test::graphShape(again) == test::graphShape(remote));
        const auto raw = test::loadFixtureCache("02-multi-stage", "registry-max");
        QCOMPARE(report.manifest.digest, raw.top.digest);

        // The mount itself: linked without bytes from a repository that has the blob; refused (the
        // upload session cancelled) from one that does not.
        QVERIFY(!raw.layers.empty());
        const oci::Digest layer = raw.layers.begin()->first;
        QVERIFY(!client.headBlob("mount/check", layer));
        QVERIFY(client.mountBlob("mount/check", layer, "src/multi"));
        QVERIFY(client.headBlob("mount/check", layer).has_value());
        QVERIFY(!client.mountBlob("mount/other", layer, "nothing/here"));
        QVERIFY(!client.headBlob("mount/other", layer));
    }

    void unreachableRegistryNamesTarget()
    {
        const auto local = importOne("type=local,src=" + test::cacheVariant("01-single-stage", "local-max").string());
        const auto graph = cache::exportGraphFromImport(local);
        const std::string ref = "127.0.0.1:1/nowhere/cache:x";
        cache::CacheExportOptions o;
        o.registry.maxRetries = 0;
        try {
            cache::exportCache(graph, cache::parseCacheExportSpec("type=registry,mode=max,ref=" + ref), o);
            QFAIL("push to a closed port succeeded");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("registry cache export " + ref) != std::string::npos, e.what());
        }
        const auto r = cache::exportCache(graph, cache::parseCacheExportSpec("type=registry,mode=max,ignore-error=true,ref=" + ref), o);
        QVERIFY(!r.ok);
        QVERIFY2(r.warning.find(ref) != std::string::npos, r.warning.c_str());
    }

    void inlineValueMatchesBuildkit_data()
    {
        QTest::addColumn<QString>("fixture");
        for (const auto& fixture : test::fixtureNames())
            QTest::newRow(fixture.c_str()) << QString::fromStdString(fixture);
    }

    void inlineValueMatchesBuildkit()
    {
        QFETCH(QString, fixture);
        const auto layout = oci::OciLayout::open(test::cacheVariant(fixture.toStdString(), "inline-image"));
        registry::RegistryClient client(registry_.host());
        const std::string repo = "inline/" + fixture.toStdString();
        registry::pushLayoutTag(client, layout, "inline", repo, "inline");
        const auto imported = importOne("type=registry,ref=" + registry_.host() + "/" + repo + ":inline");
        QVERIFY2(imported.ok, imported.error.c_str());
        QCOMPARE(imported.graphs.size(), std::size_t(1));
        const auto& ig = imported.graphs[0];
        // The image's layers in order: the synthetic chain the importer built (parent i-1).
        std::vector<oci::Descriptor> image;
        for (const auto& l : ig.config.layers)
            image.push_back(ig.layerDescriptors.at(l.blob));
        const auto records = cache::inlineCacheRecords(cache::exportGraphFromImport(imported), image);
        QVERIFY(records);
        const auto raw = test::loadFixtureCache(fixture.toStdString(), "inline-image");
        QCOMPARE(QString::fromStdString(*records), QString::fromStdString(raw.configBytes));
    }

private:
    test::RegistryLauncher registry_;
};

QTEST_GUILESS_MAIN(TestCacheExportRegistry)
#include "test_cache_export_registry.moc"

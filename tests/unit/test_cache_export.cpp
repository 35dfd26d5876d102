// Cache export in BuildKit's format: every fixture's local cache imported and re-exported gives
// BuildKit's own config and manifest bytes back (sort, Go JSON, merge rules); the index form, the
// Docker media types, tags side by side, the exported directory importing again, mode=min/max on
// a built graph, option parsing, and an export killed at every step leaving a directory that
// still imports.
#include "base/error.h"
#include "base/files.h"
#include "cache/cache_exporter.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "cache/inline_cache_export.h"
#include "cache/reexport_graph.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "support/graph_shape.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"

#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace cachescope;
namespace media = oci::media;

namespace {

cache::ImportedCache importLocal(const std::filesystem::path& dir, const std::string& tag = "latest")
{
    auto out = cache::importSources({cache::parseCacheSpec("type=local,src=" + dir.string() + ",tag=" + tag)},
                                    cache::defaultProviderFactory());
    return std::move(out[0]);
}

std::string readTop(const std::filesystem::path& dir, const std::string& tag)
{
    auto layout = oci::OciLayout::open(dir);
    auto top = layout.findTag(tag);
    if (!top)
        throw Error(dir.string() + ": no tag " + tag);
    return layout.blobs().read(top->digest);
}

// Every descriptor index.json names, and everything those reference, exists.
QString danglingReference(const std::filesystem::path& dir)
{
    auto layout = oci::OciLayout::open(dir);
    for (const auto& d : layout.readIndex().manifests) {
        if (!layout.blobs().has(d.digest))
            return QString::fromStdString("index.json names missing " + d.digest.str());
        const std::string bytes = layout.blobs().read(d.digest);
        std::vector<oci::Descriptor> refs;
        if (media::isIndex(d.mediaType)) {
            refs = oci::Index::parse(bytes, "index").manifests;
        } else {
            auto m = oci::Manifest::parse(bytes, "manifest");
            refs = m.layers;
            refs.push_back(m.config);
        }
        for (const auto& r : refs)
            if (!layout.blobs().has(r.digest) || !layout.blobs().verify(r.digest))
                return QString::fromStdString("missing or partial blob " + r.digest.str());
    }
    return {};
}

cache::Timestamp at(std::int64_t seconds) { return cache::Timestamp::fromNanos(seconds * 1000000000LL); }

std::string fakeDigest(char c) { return "sha256:" + std::string(64, c); }

} // namespace

class TestCacheExport : public QObject {
    Q_OBJECT
private slots:
    void reexportGivesBuildkitBytes_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("variant");
        for (const auto& fixture : test::fixtureNames())
            for (const char* variant : {"local-max", "local-max-index", "local-min", "registry-max", "registry-max-index",
                                        "registry-min"})
                QTest::newRow((fixture + "/" + variant).c_str())
                    << QString::fromStdString(fixture) << QString(variant);
    }

    void reexportGivesBuildkitBytes()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, variant);
        const std::string v = variant.toStdString();
        const std::string tag = test::variantTag(v);
        const auto src = test::cacheVariant(fixture.toStdString(), v);
        const auto imported = importLocal(src, tag);
        QVERIFY2(imported.ok, imported.error.c_str());
        const auto raw = test::loadFixtureCache(fixture.toStdString(), v);

        QTemporaryDir tmp;
        const bool index = v.find("index") != std::string::npos;
        const std::string mode = v.find("min") != std::string::npos ? "min" : "max";
        const auto spec = cache::parseCacheExportSpec("type=local,dest=" + tmp.path().toStdString() + ",mode=" + mode +
                                                      ",tag=" + tag + (index ? ",image-manifest=false" : ""));
        std::vector<std::string> lines;
        cache::CacheExportOptions options;
        options.progress = [&](const std::string& l) { lines.push_back(l); };
        const auto report = cache::exportCache(cache::exportGraphFromImport(imported), spec, options);
        QVERIFY(report.ok);
        QVERIFY2(report.notes.empty(), report.notes.empty() ? "" : report.notes[0].c_str());

        // The config BuildKit wrote, byte for byte: the merge, the best results, the sort, Go JSON.
        const std::string config = oci::OciLayout::open(tmp.path().toStdString()).blobs().read(report.config.digest);
        QCOMPARE(QString::fromStdString(config), QString::fromStdString(raw.configBytes));
        // The manifest too: layer descriptors come from the imported ones, in config order.
        QCOMPARE(QString::fromStdString(readTop(tmp.path().toStdString(), tag)),
                 QString::fromStdString(readTop(src, tag)));
        QCOMPARE(report.manifest.digest, raw.top.digest);
        QCOMPARE(report.manifest.mediaType, raw.top.mediaType);
        QVERIFY(danglingReference(tmp.path().toStdString()).isEmpty());
        QVERIFY(std::find(lines.begin(), lines.end(), "writing config " + report.config.digest.str()) != lines.end());

        // And it imports again into the same graph.
        const auto again = importLocal(tmp.path().toStdString(), tag);
        QVERIFY2(again.ok, again.error.c_str());
        QVERIFY(test::graphShape(again) == test::graphShape(imported));
        QCOMPARE(again.missingBlobs, std::size_t(0));
    }

    void dockerMediaTypesGiveDockerIndex()
    {
        const auto src = test::cacheVariant("02-multi-stage", "local-max");
        const auto imported = importLocal(src);
        QVERIFY(imported.ok);
        QTemporaryDir tmp;
        // oci-mediatypes=false alone switches the default form to the index (BuildKit v0.22+).
        const auto spec = cache::parseCacheExportSpec("type=local,dest=" + tmp.path().toStdString() +
                                                      ",mode=max,oci-mediatypes=false");
        QVERIFY(!spec.imageManifest);
        const auto report = cache::exportCache(cache::exportGraphFromImport(imported), spec);
        QVERIFY(report.ok);
        QCOMPARE(report.manifest.mediaType, std::string(media::DockerManifestList));
        const auto idx = oci::Index::parse(readTop(tmp.path().toStdString(), "latest"), "index");
        QCOMPARE(idx.mediaType, std::string(media::DockerManifestList));
        QVERIFY(idx.manifests.size() >= 2);
        QCOMPARE(idx.manifests.back().mediaType, std::string(media::BuildkitCacheConfig));
        for (std::size_t i = 0; i + 1 < idx.manifests.size(); ++i) {
            QCOMPARE(idx.manifests[i].mediaType, std::string(media::DockerLayerGzip));
            QVERIFY(!idx.manifests[i].annotation(media::AnnotationUncompressed).empty());
            QVERIFY(!idx.manifests[i].annotation(media::AnnotationCreatedAt).empty());
        }
        // The config is the same whatever the form.
        const auto raw = test::loadFixtureCache("02-multi-stage", "local-max");
        QCOMPARE(QString::fromStdString(oci::OciLayout::open(tmp.path().toStdString()).blobs().read(report.config.digest)),
                 QString::fromStdString(raw.configBytes));
        const auto again = importLocal(tmp.path().toStdString());
        QVERIFY2(again.ok, again.error.c_str());
        QVERIFY(test::graphShape(again) == test::graphShape(imported));
    }

    void specOptionsAndErrors()
    {
        const auto d = cache::parseCacheExportSpec("type=local,dest=/x");
        QCOMPARE(d.mode, cache::ExportMode::Min);
        QVERIFY(d.ociMediaTypes && d.imageManifest && !d.ignoreError && !d.compression.force);
        QCOMPARE(d.tag, std::string("latest"));
        QCOMPARE(d.compression.name(), std::string("gzip"));
        const auto r = cache::parseCacheExportSpec(
            "type=registry,ref=h:5000/a/b:c,mode=max,compression=zstd,compression-level=9,force-compression=,"
            "ignore-error=true,registry.insecure=true");
        QCOMPARE(r.mode, cache::ExportMode::Max);
        QCOMPARE(r.compression.type, media::Compression::Zstd);
        QCOMPARE(r.compression.level, 9);
        QVERIFY(r.compression.force && r.ignoreError && r.insecure);
        QCOMPARE(cache::parseCacheExportSpec("type=local,dest=/x,mode=bogus").mode, cache::ExportMode::Min);
        QCOMPARE(cache::parseCacheExportSpec("h/a:cache").ref, std::string("h/a:cache"));

        const auto refused = [](const std::string& text, const std::string& cause) {
            try {
                cache::parseCacheExportSpec(text);
            } catch (const Error& e) {
                const std::string m = e.what();
                return m.find(cause) != std::string::npos && m.find(text) != std::string::npos;
            }
            return false;
        };
        QVERIFY(refused("type=local,dest=/x,image-manifest=true,oci-mediatypes=false",
                        "invalid configuration for remote cache, OCI mediatypes are required for image-manifest cache "
                        "format"));
        QVERIFY(refused("type=local,dest=/x,compression=lz4", "unsupported compression type lz4"));
        QVERIFY(refused("type=local,dest=/x,force-compression=yes", "non-bool value yes specified for force-compression"));
        QVERIFY(refused("type=local,dest=/x,compression-level=high",
                        "non-integer value high specified for compression-level"));
        QVERIFY(refused("type=local", "type=local needs dest=<directory>"));
        QVERIFY(refused("type=registry,mode=max", "type=registry needs ref=<image reference>"));
        QVERIFY(refused("type=gha", "not supported yet"));
        QVERIFY(refused("type=nope,dest=x", "unknown cache type"));
    }

    void secondTagKeepsFirst()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        const auto one = importLocal(test::cacheVariant("01-single-stage", "local-max"));
        const auto two = importLocal(test::cacheVariant("02-multi-stage", "local-max"));
        cache::exportCache(cache::exportGraphFromImport(one), cache::parseCacheExportSpec("type=local,mode=max,dest=" + dir));
        cache::exportCache(cache::exportGraphFromImport(two),
                           cache::parseCacheExportSpec("type=local,mode=max,tag=other,dest=" + dir));
        QCOMPARE(oci::OciLayout::open(dir).readIndex().manifests.size(), std::size_t(2));
        QVERIFY(test::graphShape(importLocal(dir, "latest")) == test::graphShape(one));
        QVERIFY(test::graphShape(importLocal(dir, "other")) == test::graphShape(two));
        // The same tag again replaces it.
        cache::exportCache(cache::exportGraphFromImport(two), cache::parseCacheExportSpec("type=local,mode=max,dest=" + dir));
        QCOMPARE(oci::OciLayout::open(dir).readIndex().manifests.size(), std::size_t(2));
        QVERIFY(test::graphShape(importLocal(dir, "latest")) == test::graphShape(two));
    }

    void builtGraphModesAndMergeRules()
    {
        // A graph as a build hands it over: two roots, a RUN on the base (result), a second key of
        // the same RUN reached through the other root (merges into one record), a random key and a
        // record that hangs off it (both dropped), a builder step (not on the final chain).
        QTemporaryDir blobsDir;
        oci::ContentStore store(blobsDir.path().toStdString());
        auto source = std::make_shared<cache::StoreLayerSource>(blobsDir.path().toStdString());
        const auto layer = [&](const std::string& bytes, std::int64_t created) {
            auto d = store.put(bytes, std::string(media::OciLayerGzip));
            return cache::ExportLayer{cache::exportLayerDescriptor(d.mediaType, d.digest, d.size, oci::Digest::of("tar" + bytes),
                                                                   at(created)),
                                      source};
        };
        const auto base = layer("base", 100);
        const auto run = layer("run", 200);
        const auto builder = layer("builder", 150);
        const std::string sel = "sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1";

        cache::ExportGraph g;
        const int rootA = g.add({fakeDigest('a'), {}, {}, false});
        const int rootB = g.add({fakeDigest('b'), {}, {}, false});
        const int random = g.add({"random:" + std::string(64, 'c'), {}, {}, false});
        // The solver reports one key with both roots as alternatives; a later key of the same
        // digest reached from one of them merges into it.
        cache::ExportRecord r1{fakeDigest('d'), {{{rootA, sel}, {rootB, sel}}}, {}, true};
        r1.results.push_back({{base, run}, at(300), false});
        const int runA = g.add(r1);
        cache::ExportRecord r2{fakeDigest('d'), {{{rootB, sel}}}, {}, true};
        r2.results.push_back({{base, run}, at(350), false});
        g.add(r2);
        cache::ExportRecord dropped{fakeDigest('e'), {{{random, ""}}}, {}, false};
        dropped.results.push_back({{base}, at(300), false});
        g.add(dropped);
        cache::ExportRecord b{fakeDigest('f'), {{{rootA, sel}}}, {}, false};
        b.results.push_back({{base, builder}, at(260), false});
        const int builderRec = g.add(b);
        g.add({fakeDigest('0'), {{{runA, ""}}, {{builderRec, "sha256:" + std::string(64, '9')}}}, {}, true});

        const auto max = cache::marshalForExport(g, cache::ExportMode::Max);
        // Records: 0 (final), a, b, d (merged: both roots as alternatives), f. No random, no e.
        QCOMPARE(max.config.records.size(), std::size_t(5));
        QCOMPARE(max.config.records[0].digest.str(), fakeDigest('0'));
        const auto& d = max.config.records[3];
        QCOMPARE(d.digest.str(), fakeDigest('d'));
        QCOMPARE(d.inputs.size(), std::size_t(1));
        QCOMPARE(d.inputs[0].size(), std::size_t(2));
        QCOMPARE(d.inputs[0][0].link, 1);
        QCOMPARE(d.inputs[0][1].link, 2);
        QCOMPARE(d.results.size(), std::size_t(1));
        QCOMPARE(d.results[0].createdAt.nanos, at(350).nanos); // the newest of the merged results
        // Layers: base shared by both chains, sorted by blob.
        QCOMPARE(max.config.layers.size(), std::size_t(3));
        QVERIFY(max.config.layers[0].blob < max.config.layers[1].blob);
        QCOMPARE(max.config.records[4].results.size(), std::size_t(1)); // builder has its result in max
        const auto min = cache::marshalForExport(g, cache::ExportMode::Min);
        QCOMPARE(min.config.records.size(), std::size_t(5));
        QCOMPARE(min.config.records[4].results.size(), std::size_t(0)); // not in min
        QCOMPARE(min.config.records[3].results.size(), std::size_t(1));
        QCOMPARE(min.config.layers.size(), std::size_t(2));

        // A vanished blob takes its result out (and says so); nothing left means a skipped export.
        store.remove(run.descriptor.digest);
        const auto gone = cache::marshalForExport(g, cache::ExportMode::Min);
        QCOMPARE(gone.config.layers.size(), std::size_t(0));
        QVERIFY(!gone.warnings.empty());
        QTemporaryDir tmp;
        std::vector<std::string> lines;
        cache::CacheExportOptions o;
        o.progress = [&](const std::string& l) { lines.push_back(l); };
        const auto report = cache::exportCache(g, cache::parseCacheExportSpec("type=local,dest=" + tmp.path().toStdString()), o);
        QVERIFY(report.skipped && !report.ok);
        QVERIFY(std::find(lines.begin(), lines.end(), "skipping cache export for empty result") != lines.end());
    }

    // mode=min exports every record but the final one remote-only (BuildKit solver/exporter.go): an
    // imported result stays only when its blobs suit the compression asked for (cachestorage.go
    // LoadRemotes: one blob of that type, or all of them with force), picked among the record's
    // imported results in their order, and it then keeps its blobs as they are; otherwise the
    // record goes key-only. The final record and mode=max export the loaded result in full.
    void remoteOnlyImportedResults()
    {
        const auto layer = [](std::string_view mediaType, char c) {
            const oci::Digest blob = oci::Digest::parse(fakeDigest(c));
            return cache::ExportLayer{cache::exportLayerDescriptor(std::string(mediaType), blob, 10,
                                                                   oci::Digest::of(std::string(1, c)), at(100)),
                                      nullptr};
        };
        const auto imported = [](std::vector<cache::ExportLayer> layers, bool variant = false) {
            cache::ExportResult r{std::move(layers), at(200), true};
            r.imported = true;
            r.variant = variant;
            return r;
        };
        const auto gzBase = layer(media::OciLayerGzip, '1');
        const auto zsBase = layer(media::OciLayerZstd, '2');
        const auto gzRun = layer(media::DockerLayerGzip, '3');
        const auto zsRun = layer(media::OciLayerZstd, '4');

        cache::ExportGraph g;
        const int root = g.add({fakeDigest('a'), {}, {}, false});
        cache::ExportRecord gzipOnly{fakeDigest('b'), {{{root, ""}}}, {}, false};
        gzipOnly.results.push_back(imported({gzBase, gzRun}));
        const int gzipRec = g.add(gzipOnly);
        // Loaded gzip chain, then two variants BuildKit recorded for the same key: mixed, all zstd.
        cache::ExportRecord variants{fakeDigest('c'), {{{root, ""}}}, {}, false};
        variants.results.push_back(imported({gzBase, gzRun}));
        variants.results.push_back(imported({gzBase, zsRun}, true));
        variants.results.push_back(imported({zsBase, zsRun}, true));
        const int variantRec = g.add(variants);
        // An imported ancestor on the final chain is a dependency like any other.
        cache::ExportRecord ancestor{fakeDigest('d'), {{{root, ""}}}, {}, true};
        ancestor.results.push_back(imported({gzBase, gzRun}));
        const int ancestorRec = g.add(ancestor);
        cache::ExportRecord last{fakeDigest('e'), {{{gzipRec, ""}}, {{variantRec, ""}}, {{ancestorRec, ""}}}, {}, true};
        last.finalResult = true;
        last.results.push_back(imported({gzBase, gzRun}));
        const int finalRec = g.add(last);

        const auto apply = [&](cache::ExportMode mode, const std::string& options) {
            cache::ExportGraph out = g;
            cache::applyExportMode(out, mode, cache::parseCacheExportSpec("type=local,dest=/x" + options).compression);
            return out;
        };
        const auto top = [](const cache::ExportRecord& r) { return r.results[0].layers.back().descriptor.digest.str(); };
        {
            const auto zstd = apply(cache::ExportMode::Min, ",compression=zstd");
            QVERIFY(zstd.records[static_cast<std::size_t>(gzipRec)].results.empty()); // key-only
            QVERIFY(zstd.records[static_cast<std::size_t>(ancestorRec)].results.empty());
            const auto& v = zstd.records[static_cast<std::size_t>(variantRec)];
            QCOMPARE(v.results.size(), std::size_t(1)); // the first that suits: the mixed chain, whole
            QCOMPARE(v.results[0].layers[0].descriptor.digest.str(), fakeDigest('1'));
            QCOMPARE(top(v), fakeDigest('4'));
            QVERIFY(v.results[0].blobsAsImported);
            const auto& f = zstd.records[static_cast<std::size_t>(finalRec)];
            QCOMPARE(f.results.size(), std::size_t(1));
            QVERIFY(!f.results[0].blobsAsImported); // converted as the export asks
        }
        {
            const auto forced = apply(cache::ExportMode::Min, ",compression=zstd,force-compression=true");
            QVERIFY(forced.records[static_cast<std::size_t>(gzipRec)].results.empty());
            const auto& v = forced.records[static_cast<std::size_t>(variantRec)];
            QCOMPARE(v.results.size(), std::size_t(1)); // every blob zstd
            QCOMPARE(v.results[0].layers[0].descriptor.digest.str(), fakeDigest('2'));
            QCOMPARE(forced.records[static_cast<std::size_t>(finalRec)].results.size(), std::size_t(1));
        }
        for (const std::string options : {"", ",compression=estargz"}) { // estargz looks for gzip blobs
            const auto gzip = apply(cache::ExportMode::Min, options);
            QCOMPARE(gzip.records[static_cast<std::size_t>(gzipRec)].results.size(), std::size_t(1));
            QCOMPARE(gzip.records[static_cast<std::size_t>(ancestorRec)].results.size(), std::size_t(1));
            const auto& v = gzip.records[static_cast<std::size_t>(variantRec)];
            QCOMPARE(v.results.size(), std::size_t(1));
            QVERIFY(!v.results[0].variant); // the loaded chain comes first
        }
        {
            const auto none = apply(cache::ExportMode::Min, ",compression=uncompressed");
            for (int r : {gzipRec, variantRec, ancestorRec})
                QVERIFY(none.records[static_cast<std::size_t>(r)].results.empty());
            QCOMPARE(none.records[static_cast<std::size_t>(finalRec)].results.size(), std::size_t(1));
        }
        {
            // mode=max: every record in full from the loaded result, never a variant.
            const auto max = apply(cache::ExportMode::Max, ",compression=zstd");
            for (int r : {gzipRec, variantRec, ancestorRec, finalRec}) {
                const auto& rec = max.records[static_cast<std::size_t>(r)];
                QCOMPARE(rec.results.size(), std::size_t(1));
                QVERIFY(!rec.results[0].variant && !rec.results[0].blobsAsImported);
            }
        }
        // The media type test itself (compression.IsMediaType).
        const auto suits = [](std::string_view mediaType, const std::string& options) {
            oci::Descriptor d;
            d.mediaType = std::string(mediaType);
            return cache::blobSuitsCompression(d, cache::parseCacheExportSpec("type=local,dest=/x" + options).compression);
        };
        QVERIFY(suits(media::DockerLayerGzip, ""));
        QVERIFY(suits(media::DockerLayerZstd, ",compression=zstd"));
        QVERIFY(suits(media::DockerLayer, ",compression=uncompressed"));
        QVERIFY(!suits(media::OciLayerGzip, ",compression=zstd"));
        QVERIFY(!suits(media::OciLayerNondistributableGzip, ""));
        QVERIFY(!suits("application/octet-stream", ""));
    }

    void forceCompressionAndIgnoreError()
    {
        const auto imported = importLocal(test::cacheVariant("01-single-stage", "local-max"));
        const auto graph = cache::exportGraphFromImport(imported);
        QTemporaryDir tmp;
        {
            // force-compression=true converts the imported gzip blobs: zstd blobs, same diffIDs.
            const std::string dest = tmp.path().toStdString() + "/zstd";
            const auto r = cache::exportCache(
                graph, cache::parseCacheExportSpec("type=local,mode=max,compression=zstd,force-compression=true,dest=" + dest));
            QVERIFY(r.ok);
            QVERIFY(r.converted > 0);
            auto layout = oci::OciLayout::open(dest);
            const auto m = oci::Manifest::parse(readTop(dest, "latest"), "manifest");
            std::set<std::string> before;
            for (const auto& res : graph.records)
                for (const auto& rs : res.results)
                    for (const auto& l : rs.layers)
                        before.insert(l.descriptor.annotation(std::string(media::AnnotationUncompressed)));
            std::set<std::string> after;
            for (const auto& l : m.layers) {
                QCOMPARE(l.mediaType, std::string(media::OciLayerZstd));
                QVERIFY(layout.blobs().verify(l.digest));
                QCOMPARE(*layout.blobs().size(l.digest), l.size);
                after.insert(l.annotation(std::string(media::AnnotationUncompressed)));
            }
            QVERIFY(before == after);
            QVERIFY(danglingReference(dest).isEmpty());
        }
        try {
            // estargz needs a TOC the layer writer does not produce: refused, saying why.
            cache::exportCache(graph, cache::parseCacheExportSpec("type=local,mode=max,compression=estargz,force-compression=true,dest=" +
                                                                  tmp.path().toStdString()));
            QFAIL("conversion to estargz accepted");
        } catch (const Error& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("estargz is not supported") != std::string::npos && m.find("table of contents") != std::string::npos &&
                         m.find("local cache export") != std::string::npos,
                     e.what());
        }
        // Gzip blobs with force-compression=true and gzip asked: nothing to convert.
        QVERIFY(cache::exportCache(graph, cache::parseCacheExportSpec("type=local,mode=max,force-compression=true,dest=" +
                                                                      tmp.path().toStdString()))
                    .ok);
        // Without force the blobs go as they are.
        QVERIFY(cache::exportCache(graph, cache::parseCacheExportSpec("type=local,mode=max,compression=zstd,dest=" +
                                                                      tmp.path().toStdString()))
                    .ok);

        // A destination that is a file: an error naming it, or a warning with ignore-error.
        const std::string file = tmp.path().toStdString() + "/a-file";
        writeFileAtomic(file, "x");
        try {
            cache::exportCache(graph, cache::parseCacheExportSpec("type=local,mode=max,dest=" + file));
            QFAIL("export into a file accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("local cache export " + file) != std::string::npos, e.what());
        }
        const auto r = cache::exportCache(graph, cache::parseCacheExportSpec("type=local,mode=max,ignore-error=true,dest=" + file));
        QVERIFY(!r.ok);
        QVERIFY2(r.warning.find(file) != std::string::npos, r.warning.c_str());
    }

    void inlineValueFromBuiltGraph()
    {
        // A final chain of two layers on one root: the inline value lists image layer indexes.
        QTemporaryDir blobsDir;
        oci::ContentStore store(blobsDir.path().toStdString());
        auto source = std::make_shared<cache::StoreLayerSource>(blobsDir.path().toStdString());
        std::vector<cache::ExportLayer> layers;
        for (const char* bytes : {"l0", "l1", "other"}) {
            auto d = store.put(bytes, std::string(media::OciLayerGzip));
            layers.push_back({cache::exportLayerDescriptor(d.mediaType, d.digest, d.size, oci::Digest::of(std::string("t") + bytes),
                                                           at(10)),
                              source});
        }
        cache::ExportGraph g;
        const int root = g.add({fakeDigest('a'), {}, {}, false});
        cache::ExportRecord r1{fakeDigest('b'), {{{root, ""}}}, {}, true};
        r1.results.push_back({{layers[0]}, at(20), false});
        const int one = g.add(r1);
        cache::ExportRecord r2{fakeDigest('c'), {{{one, ""}}}, {}, true};
        r2.results.push_back({{layers[0], layers[1]}, at(30), false});
        const int two = g.add(r2);
        cache::ExportRecord r3{fakeDigest('d'), {{{two, ""}}}, {}, true}; // not in the image
        r3.results.push_back({{layers[2]}, at(40), false});
        g.add(r3);
        const std::vector<oci::Descriptor> image{layers[0].descriptor, layers[1].descriptor};
        const auto records = cache::inlineCacheRecords(g, image);
        QVERIFY(records);
        const auto parsed = cache::parseInlineRecords(*records, "inline");
        QCOMPARE(parsed.size(), std::size_t(4));
        QCOMPARE(parsed[1].results.size(), std::size_t(1));
        QCOMPARE(parsed[1].results[0].layer, 0);
        QCOMPARE(parsed[2].results[0].layer, 1);
        QVERIFY(parsed[3].results.empty() && parsed[3].chains.empty());
        // Only the second image layer: a chain, not a prefix.
        cache::ExportGraph g2;
        const int root2 = g2.add({fakeDigest('a'), {}, {}, false});
        cache::ExportRecord x{fakeDigest('b'), {{{root2, ""}}}, {}, true};
        x.results.push_back({{layers[1]}, at(20), false});
        g2.add(x);
        const auto chained = cache::parseInlineRecords(*cache::inlineCacheRecords(g2, image), "inline");
        QCOMPARE(chained[1].chains.size(), std::size_t(1));
        QCOMPARE(chained[1].chains[0].layers, std::vector<int>{1});
        QVERIFY(!chained[1].chains[0].createdAt.known());
        QVERIFY(!cache::inlineCacheRecords(g2, {layers[2].descriptor}));
    }

    void killedExportLeavesImportableDir()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        const auto one = importLocal(test::cacheVariant("01-single-stage", "local-max"));
        const auto two = importLocal(test::cacheVariant("03-build-args", "local-max"));
        cache::exportCache(cache::exportGraphFromImport(one), cache::parseCacheExportSpec("type=local,mode=max,dest=" + dir));
        const auto graph = cache::exportGraphFromImport(two);
        const auto spec = cache::parseCacheExportSpec("type=local,mode=max,image-manifest=false,dest=" + dir);

        bool sawNew = false;
        for (int killAt = 0;; ++killAt) {
            const pid_t pid = ::fork();
            QVERIFY(pid >= 0);
            if (pid == 0) {
                int step = 0;
                cache::CacheExportOptions o;
                o.progress = [&](const std::string&) {
                    if (step++ == killAt)
                        ::raise(SIGKILL);
                };
                try {
                    cache::exportCache(graph, spec, o);
                } catch (...) {
                    ::_exit(3);
                }
                ::_exit(0);
            }
            int status = 0;
            QVERIFY(::waitpid(pid, &status, 0) == pid);
            const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
            QVERIFY2(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0), "child failed");
            QVERIFY2(danglingReference(dir).isEmpty(), qPrintable(danglingReference(dir)));
            const auto now = importLocal(dir);
            QVERIFY2(now.ok, now.error.c_str());
            const auto shape = test::graphShape(now);
            QVERIFY(shape == test::graphShape(one) || shape == test::graphShape(two));
            sawNew = sawNew || shape == test::graphShape(two);
            if (!killed)
                break;
            QVERIFY2(killAt < 100, "export never finished");
        }
        QVERIFY(sawNew);
    }
};

QTEST_GUILESS_MAIN(TestCacheExport)
#include "test_cache_export.moc"

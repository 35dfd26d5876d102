// Cache export compression on real builds (BuildKit v0.24 rules): compression=zstd turns the layers of
// the steps that ran into zstd blobs and leaves existing blobs alone; force-compression=true converts
// imported gzip blobs too; a second export reuses the converted blobs. Every exported blob is checked
// against its bytes (digest, size, magic bytes vs media type, tar hash vs containerd.io/uncompressed),
// the export imports back, and a fresh store rebuilt from it is all CACHED. In mode=min an imported
// dependency keeps its result only when its blobs suit the compression (else it goes key-only), and
// so do the imported steps the build matched but never loaded.
#include "base/error.h"
#include "build/build_session.h"
#include "cache/cache_config.h"
#include "cache/cache_export_spec.h"
#include "cache/cache_spec.h"
#include "exec/layer_blob.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/registry_client.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

using namespace cachescope;
namespace fs = std::filesystem;
namespace media = oci::media;

namespace {

const fs::path fixture01 = test::fixturesDir() / "buildkit-v0.24" / "01-single-stage";
const fs::path fixture02 = test::fixturesDir() / "buildkit-v0.24" / "02-multi-stage";
const fs::path baseLayout = test::fixturesDir() / "buildkit-v0.24" / "base-image" / "oci";

build::BuildResult runBuild(const fs::path& dataDir, const std::vector<std::string>& cacheTo,
                            const std::string& cacheFrom = {}, const fs::path& context = fixture01 / "context")
{
    build::BuildOptions o;
    o.contextDir = context;
    o.dataDir = dataDir;
    o.buildContexts["127.0.0.1:5055/library/busybox:latest"] = "oci-layout://" + baseLayout.string() + ":latest";
    if (!cacheFrom.empty())
        o.cacheFrom = cache::parseCacheSpecs(cacheFrom);
    for (const auto& t : cacheTo)
        o.cacheTo.push_back(cache::parseCacheExportSpec(t));
    return build::BuildSession(o).run();
}

// The layer descriptors of a cache manifest (it may also list a context manifest blob).
std::vector<oci::Descriptor> layersOf(const oci::Manifest& m)
{
    std::vector<oci::Descriptor> out;
    for (const auto& d : m.layers)
        if (media::isLayer(d.mediaType))
            out.push_back(d);
    return out;
}

// The layers of an exported cache manifest, each checked against its blob in `blobs`:
// diffID -> descriptor. Empty (and a failed QVERIFY) on the first mismatch.
std::map<std::string, oci::Descriptor> checkedLayers(const oci::Manifest& m, const oci::ContentStore& blobs)
{
    std::map<std::string, oci::Descriptor> out;
    for (const auto& l : layersOf(m)) {
        const std::string what = l.digest.str() + " (" + l.mediaType + ")";
        if (!blobs.verify(l.digest) || blobs.size(l.digest) != std::optional<std::int64_t>(l.size)) {
            QTest::qFail(("blob does not match its digest or size: " + what).c_str(), __FILE__, __LINE__);
            return {};
        }
        if (exec::detectCompression(blobs.blobPath(l.digest)) != media::layerCompression(l.mediaType)) {
            QTest::qFail(("magic bytes contradict the media type: " + what).c_str(), __FILE__, __LINE__);
            return {};
        }
        const std::string diffId = l.annotation(std::string(media::AnnotationUncompressed));
        if (exec::computeDiffId(blobs.blobPath(l.digest)).str() != diffId) {
            QTest::qFail(("tar does not hash to containerd.io/uncompressed: " + what).c_str(), __FILE__, __LINE__);
            return {};
        }
        out[diffId] = l;
    }
    return out;
}

oci::Manifest localManifest(const oci::OciLayout& layout)
{
    const auto top = layout.findTag("latest");
    if (!top)
        throw Error("no latest tag");
    return oci::Manifest::parse(layout.blobs().read(top->digest), "cache manifest");
}

bool allCached(const build::BuildResult& r)
{
    return r.ok && r.stepsRun() == 0;
}

cache::CacheConfig localConfig(const oci::OciLayout& layout)
{
    const oci::Manifest m = localManifest(layout);
    return cache::parseCacheConfig(layout.blobs().read(m.config.digest), "exported cache config");
}

// The digests of the records of the cache in `layout` that have a result whose top layer is none
// of `finalDiffIds` (diffIDs as the manifest's layer descriptors give them).
std::set<std::string> recordsOffTheFinalChain(const oci::OciLayout& layout, const std::vector<std::string>& finalDiffIds)
{
    std::map<oci::Digest, std::string> diffIdOf;
    for (const auto& d : layersOf(localManifest(layout)))
        diffIdOf[d.digest] = d.annotation(std::string(media::AnnotationUncompressed));
    const cache::CacheConfig config = localConfig(layout);
    std::set<std::string> out;
    for (const auto& rec : config.records)
        for (const auto& res : rec.results) {
            const std::string& top = diffIdOf[config.layers[static_cast<std::size_t>(res.layer)].blob];
            if (std::find(finalDiffIds.begin(), finalDiffIds.end(), top) == finalDiffIds.end())
                out.insert(rec.digest.str());
        }
    return out;
}

// How many records with digest `digest` the config has, and how many of them have a result.
std::pair<std::size_t, std::size_t> recordsWithDigest(const cache::CacheConfig& config, const std::string& digest)
{
    std::pair<std::size_t, std::size_t> n{0, 0};
    for (const auto& rec : config.records)
        if (rec.digest.str() == digest) {
            ++n.first;
            n.second += !rec.results.empty() || !rec.chains.empty();
        }
    return n;
}

// The digests of the records of `config` that have a result.
std::set<std::string> digestsWithResults(const cache::CacheConfig& config)
{
    std::set<std::string> out;
    for (const auto& rec : config.records)
        if (!rec.results.empty() || !rec.chains.empty())
            out.insert(rec.digest.str());
    return out;
}

const build::StepOutcome* stepNamed(const build::BuildResult& r, const std::string& prefix)
{
    for (const auto& s : r.steps)
        if (s.name.rfind(prefix, 0) == 0)
            return &s;
    return nullptr;
}

} // namespace

class TestExportCompression : public QObject {
    Q_OBJECT

    QTemporaryDir home_;

    fs::path fresh(const std::string& name) { return test::freshDir(home_.path(), name); }

private slots:
    // One cold build exported twice: gzip (the default) and zstd. Same diffIDs; the layers of the
    // steps that ran are zstd, the base image's gzip blobs stay as they are (no force).
    void zstdAppliesToLayersThisBuildRan()
    {
        const fs::path data = fresh("zstd-data");
        const fs::path gz = fresh("zstd-gzip-export");
        const fs::path zs = fresh("zstd-export");
        const auto cold = runBuild(data, {"type=local,mode=max,dest=" + gz.string(),
                                          "type=local,mode=max,compression=zstd,compression-level=5,dest=" + zs.string()});
        QVERIFY2(cold.ok, cold.error.c_str());
        QVERIFY(cold.stepsRun() > 0);
        QCOMPARE(cold.cacheExports.size(), std::size_t(2));
        QVERIFY2(cold.cacheExports[1].find("converted") != std::string::npos, cold.cacheExports[1].c_str());

        const auto gzLayout = oci::OciLayout::open(gz);
        const auto zsLayout = oci::OciLayout::open(zs);
        const auto gzLayers = checkedLayers(localManifest(gzLayout), gzLayout.blobs());
        const auto zsLayers = checkedLayers(localManifest(zsLayout), zsLayout.blobs());
        QVERIFY(!zsLayers.empty());
        std::set<std::string> gzIds, zsIds;
        for (const auto& [id, d] : gzLayers)
            gzIds.insert(id);
        for (const auto& [id, d] : zsLayers)
            zsIds.insert(id);
        QVERIFY(gzIds == zsIds);
        const auto base = oci::OciLayout::open(baseLayout);
        std::size_t zstdLayers = 0;
        for (const auto& [id, d] : zsLayers) {
            if (d.mediaType == media::OciLayerZstd) {
                ++zstdLayers;
                QVERIFY(d.digest != gzLayers.at(id).digest);
                QVERIFY(!d.annotation(std::string(media::AnnotationCreatedAt)).empty());
            } else {
                // Not converted without force: only blobs this build did not create (the base image's).
                QCOMPARE(d.mediaType, std::string(media::OciLayerGzip));
                QVERIFY2(base.blobs().has(d.digest), d.digest.str().c_str());
            }
        }
        QVERIFY(zstdLayers > 0);

        // The zstd export imports into a fresh store: all CACHED, the same image.
        const auto warm = runBuild(fresh("zstd-import"), {}, "type=local,src=" + zs.string());
        QVERIFY2(allCached(warm), warm.error.c_str());
        QCOMPARE(warm.finalDiffIds, cold.finalDiffIds);

        // A second export from the first store reuses the converted blobs: nothing converted again.
        const fs::path again = fresh("zstd-export-again");
        const auto second = runBuild(data, {"type=local,mode=max,compression=zstd,dest=" + again.string()});
        QVERIFY2(allCached(second), second.error.c_str());
        QVERIFY2(second.cacheExports[0].find(" 0 converted") != std::string::npos &&
                     second.cacheExports[0].find("reused") != std::string::npos,
                 second.cacheExports[0].c_str());
        const auto againLayout = oci::OciLayout::open(again);
        const auto againLayers = checkedLayers(localManifest(againLayout), againLayout.blobs());
        QCOMPARE(againLayers.size(), zsLayers.size());
        for (const auto& [id, d] : againLayers)
            QCOMPARE(d.digest, zsLayers.at(id).digest);

        // compression=uncompressed: tar blobs whose digest is their diffID.
        const fs::path plain = fresh("plain-export");
        const auto un = runBuild(data, {"type=local,mode=max,compression=uncompressed,force-compression=true,dest=" +
                                        plain.string()});
        QVERIFY2(un.ok, un.error.c_str());
        const auto plainLayout = oci::OciLayout::open(plain);
        for (const auto& [id, d] : checkedLayers(localManifest(plainLayout), plainLayout.blobs())) {
            QCOMPARE(d.mediaType, std::string(media::OciLayer));
            QCOMPARE(d.digest.str(), id);
        }
    }

    // BuildKit's own gzip export imported, every step CACHED, re-exported to the test registry with
    // compression=zstd,force-compression=true: every blob zstd (base image layers too), the imported
    // diffIDs, and the registry cache imports back into a fresh store all CACHED.
    void forceConvertsImportedBlobsToRegistry()
    {
        test::RegistryLauncher registry;
        QVERIFY2(registry.start(), qPrintable(registry.errorString()));
        const fs::path imported = test::cacheVariant("01-single-stage", "local-max");
        const auto source = oci::OciLayout::open(imported);
        std::set<std::string> importedIds;
        for (const auto& l : layersOf(localManifest(source))) {
            QCOMPARE(media::layerCompression(l.mediaType), media::Compression::Gzip);
            importedIds.insert(l.annotation(std::string(media::AnnotationUncompressed)));
        }
        const std::string ref = registry.host() + "/cache/forced:zstd";
        const auto r = runBuild(fresh("force-data"),
                                {"type=registry,mode=max,compression=zstd,force-compression=true,ref=" + ref},
                                "type=local,src=" + imported.string());
        QVERIFY2(allCached(r), r.error.c_str());
        QVERIFY2(r.cacheExports[0].find("converted") != std::string::npos, r.cacheExports[0].c_str());

        registry::RegistryClient client(registry.host());
        const auto fetched = client.getManifest("cache/forced", "zstd");
        const oci::Manifest m = oci::Manifest::parse(fetched.bytes, "pushed cache manifest");
        QVERIFY(!layersOf(m).empty());
        const fs::path pulled = fresh("force-pulled");
        oci::ContentStore blobs(pulled);
        for (const auto& l : layersOf(m))
            client.fetchBlob("cache/forced", l, blobs);
        const auto layers = checkedLayers(m, blobs);
        QCOMPARE(layers.size(), layersOf(m).size());
        for (const auto& [id, d] : layers) {
            QCOMPARE(d.mediaType, std::string(media::OciLayerZstd));
            QVERIFY2(importedIds.count(id) == 1, id.c_str());
        }

        const auto warm = runBuild(fresh("force-import"), {}, "type=registry,ref=" + ref);
        QVERIFY2(allCached(warm), warm.error.c_str());
        QCOMPARE(warm.finalDiffIds, r.finalDiffIds);
    }

    // An all-CACHED build from BuildKit's local export loads its layers lazily (nothing needs the
    // files), then re-exports the imported keys, mode=max, to another local directory and to a
    // registry that lack those blobs: the blobs are carried over, and both targets import back.
    void reexportOfLazyImportCarriesBlobs()
    {
        test::RegistryLauncher registry;
        QVERIFY2(registry.start(), qPrintable(registry.errorString()));
        const fs::path imported = test::cacheVariant("01-single-stage", "local-max");
        const fs::path dest = fresh("lazy-local");
        const std::string ref = registry.host() + "/cache/lazy:max";
        const auto r = runBuild(fresh("lazy-data"),
                                {"type=local,mode=max,dest=" + dest.string(), "type=registry,mode=max,ref=" + ref},
                                "type=local,src=" + imported.string());
        QVERIFY2(allCached(r), r.error.c_str());
        const auto layout = oci::OciLayout::open(dest);
        const auto local = checkedLayers(localManifest(layout), layout.blobs());
        QVERIFY(!local.empty());
        for (const auto& [id, d] : local)
            QCOMPARE(media::layerCompression(d.mediaType), media::Compression::Gzip); // no force: as imported
        registry::RegistryClient client(registry.host());
        const oci::Manifest m = oci::Manifest::parse(client.getManifest("cache/lazy", "max").bytes, "pushed manifest");
        QCOMPARE(layersOf(m).size(), local.size());
        for (const auto& l : layersOf(m))
            QVERIFY2(client.headBlob("cache/lazy", l.digest).has_value(), l.digest.str().c_str());
        QVERIFY(allCached(runBuild(fresh("lazy-import-local"), {}, "type=local,src=" + dest.string())));
        QVERIFY(allCached(runBuild(fresh("lazy-import-registry"), {}, "type=registry,ref=" + ref)));

        // Registry to another repository of the same registry: the build pulls nothing, the blobs are
        // mounted into the new repository.
        const std::string ref2 = registry.host() + "/cache/lazy-copy:max";
        const auto copy = runBuild(fresh("lazy-copy"), {"type=registry,mode=max,ref=" + ref2}, "type=registry,ref=" + ref);
        QVERIFY2(allCached(copy), copy.error.c_str());
        QCOMPARE(copy.bytesPulled, std::uint64_t(0));
        for (const auto& l : layersOf(m))
            QVERIFY2(client.headBlob("cache/lazy-copy", l.digest).has_value(), l.digest.str().c_str());
        QVERIFY(allCached(runBuild(fresh("lazy-copy-import"), {}, "type=registry,ref=" + ref2)));
    }

    // mode=min exports every dependency remote-only (BuildKit solver/exporter.go): a dependency that
    // was an imported hit keeps its imported result only if its blobs suit the compression asked for
    // (cache/remotecache/v1/cachestorage.go LoadRemotes), else it is exported key-only. Fixture 02 with
    // its modified context, importing BuildKit's gzip local-max export: [base 2/2] and [other 1/1] are
    // imported hits loaded for the builder and the final stage, the builder and the final stage run.
    //   * default gzip: those two keep their gzip chains;
    //   * zstd: both key-only, the final stage's chain has zstd blobs (the base image's gzip blob
    //     stays, no force);
    //   * zstd with force-compression=true: both key-only too (not converted), every blob zstd.
    // The zstd exports import into a fresh store: the final step is CACHED, nothing runs, same image.
    void minExportsImportedDependenciesOnlyWhenTheirBlobsSuit()
    {
        const fs::path imported = test::cacheVariant("02-multi-stage", "local-max");
        const fs::path gz = fresh("remote-only-gzip");
        const fs::path zs = fresh("remote-only-zstd");
        const fs::path forced = fresh("remote-only-forced");
        const fs::path context = fixture02 / "context-modified";
        const auto r = runBuild(fresh("remote-only-data"),
                                {"type=local,dest=" + gz.string(), "type=local,compression=zstd,dest=" + zs.string(),
                                 "type=local,compression=zstd,force-compression=true,dest=" + forced.string()},
                                "type=local,src=" + imported.string(), context);
        QVERIFY2(r.ok, r.error.c_str());
        for (const std::string hit : {"[base 2/2]", "[other 1/1]"}) {
            const auto* s = stepNamed(r, hit);
            QVERIFY2(s && s->state == build::StepOutcome::State::Cached, hit.c_str());
        }
        for (const std::string ran : {"[builder 2/2]", "[stage-3 2/4]", "[stage-3 4/4]"}) {
            const auto* s = stepNamed(r, ran);
            QVERIFY2(s && s->state == build::StepOutcome::State::Ran, ran.c_str());
        }
        QVERIFY(!r.finalDiffIds.empty());

        // gzip: the two imported dependencies carry their results (layers off the final chain).
        const auto gzLayout = oci::OciLayout::open(gz);
        QVERIFY(!checkedLayers(localManifest(gzLayout), gzLayout.blobs()).empty());
        const std::set<std::string> importedDeps = recordsOffTheFinalChain(gzLayout, r.finalDiffIds);
        QCOMPARE(importedDeps.size(), std::size_t(2));

        for (const fs::path& dir : {zs, forced}) {
            const bool force = dir == forced;
            const auto layout = oci::OciLayout::open(dir);
            const cache::CacheConfig config = localConfig(layout);
            for (const auto& digest : importedDeps) {
                const auto [records, withResults] = recordsWithDigest(config, digest);
                QVERIFY2(records > 0, ("key dropped: " + digest).c_str());
                QVERIFY2(withResults == 0, ("not key-only: " + digest).c_str());
            }
            QVERIFY(recordsOffTheFinalChain(layout, r.finalDiffIds).empty());
            const auto layers = checkedLayers(localManifest(layout), layout.blobs());
            QCOMPARE(layers.size(), r.finalDiffIds.size()); // the final chain, nothing else
            for (const auto& id : r.finalDiffIds) {
                QVERIFY2(layers.count(id) == 1, id.c_str());
                // The base image's blob is the only one not created by this build.
                const bool baseImage = id == r.finalDiffIds.front();
                QCOMPARE(layers.at(id).mediaType,
                         std::string(baseImage && !force ? media::OciLayerGzip : media::OciLayerZstd));
            }

            const auto warm = runBuild(fresh("remote-only-import"), {}, "type=local,src=" + dir.string(), context);
            QVERIFY2(allCached(warm), warm.error.c_str()); // nothing ran: the steps below it are not needed
            const auto* last = stepNamed(warm, "[stage-3 4/4]");
            QVERIFY(last && last->state == build::StepOutcome::State::Cached);
            QCOMPARE(warm.finalDiffIds, r.finalDiffIds);
        }
    }

    // Steps matched in an imported cache but never loaded (NotEvaluated: the build only needed the
    // last step's result) are exported with their imported result as BuildKit does (solver/exporter.go
    // takes the best matched record of a key it did not load): in mode=min remote-only, so only when
    // their blobs suit the compression, and in mode=max. Fixture 01 fully cached from BuildKit's gzip
    // local-max export ([2/6]..[5/6] NotEvaluated, [6/6] CACHED):
    //   * min and max, default gzip: every record with a result in the import has one in the export;
    //   * min, zstd: only the final record has one, the others are key-only.
    // Built again with the modified context (COPY c.txt changes) from each export: [4/6] is CACHED from
    // the gzip exports (its result is there), and runs from the zstd one.
    void notEvaluatedImportedStepsExportTheirImportedResults()
    {
        const fs::path imported = test::cacheVariant("01-single-stage", "local-max");
        const fs::path gzMin = fresh("not-evaluated-min-gzip");
        const fs::path gzMax = fresh("not-evaluated-max-gzip");
        const fs::path zsMin = fresh("not-evaluated-min-zstd");
        const auto r = runBuild(fresh("not-evaluated-data"),
                                {"type=local,dest=" + gzMin.string(), "type=local,mode=max,dest=" + gzMax.string(),
                                 "type=local,compression=zstd,dest=" + zsMin.string()},
                                "type=local,src=" + imported.string());
        QVERIFY2(allCached(r), r.error.c_str());
        for (const std::string step : {"[2/6]", "[3/6]", "[4/6]", "[5/6]"}) {
            const auto* s = stepNamed(r, step);
            QVERIFY2(s && s->state == build::StepOutcome::State::NotEvaluated, step.c_str());
        }
        QCOMPARE(r.bytesPulled, std::uint64_t(0)); // the imported blobs are exported from where they are

        const auto importedLayout = oci::OciLayout::open(imported);
        const std::set<std::string> importedResults = digestsWithResults(localConfig(importedLayout));
        QVERIFY(importedResults.size() > 1);
        for (const fs::path& dir : {gzMin, gzMax}) {
            const auto layout = oci::OciLayout::open(dir);
            QCOMPARE(digestsWithResults(localConfig(layout)), importedResults);
            const auto layers = checkedLayers(localManifest(layout), layout.blobs());
            QCOMPARE(layers.size(), r.finalDiffIds.size());
            for (const auto& [id, d] : layers)
                QCOMPARE(d.mediaType, std::string(media::OciLayerGzip));
        }
        const auto zsLayout = oci::OciLayout::open(zsMin);
        const cache::CacheConfig zsConfig = localConfig(zsLayout);
        QCOMPARE(digestsWithResults(zsConfig).size(), std::size_t(1)); // the final record alone
        for (const auto& digest : importedResults)
            QVERIFY2(recordsWithDigest(zsConfig, digest).first > 0, ("key dropped: " + digest).c_str());

        for (const fs::path& dir : {gzMin, gzMax, zsMin}) {
            const auto warm = runBuild(fresh("not-evaluated-import"), {}, "type=local,src=" + dir.string());
            QVERIFY2(allCached(warm), warm.error.c_str());
            QCOMPARE(warm.finalDiffIds, r.finalDiffIds);
            const auto modified = runBuild(fresh("not-evaluated-modified"), {}, "type=local,src=" + dir.string(),
                                           fixture01 / "context-modified");
            QVERIFY2(modified.ok, modified.error.c_str());
            const auto* run = stepNamed(modified, "[4/6]");
            QVERIFY(run);
            const auto expected = dir == zsMin ? build::StepOutcome::State::Ran : build::StepOutcome::State::Cached;
            QVERIFY2(run->state == expected, dir.string().c_str());
            QCOMPARE(stepNamed(modified, "[6/6]")->state, build::StepOutcome::State::Ran);
        }
    }

    void estargzIsRefusedClearly()
    {
        const fs::path dest = fresh("estargz-export");
        const auto r = runBuild(fresh("estargz-data"), {"type=local,mode=max,compression=estargz,dest=" + dest.string()});
        QVERIFY(!r.ok);
        QVERIFY2(r.error.find("estargz is not supported") != std::string::npos &&
                     r.error.find("table of contents") != std::string::npos,
                 r.error.c_str());
        QVERIFY(!fs::exists(dest / "index.json"));
    }
};

QTEST_GUILESS_MAIN(TestExportCompression)
#include "test_export_compression.moc"

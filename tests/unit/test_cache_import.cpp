// Importing caches: every real fixture variant from disk, the three forms, inline cache of every
// platform, preflight problems, malformed sources (each error names the source and the cause,
// and nothing is written), several sources in parallel, and buildx's CSV spec syntax.
#include "base/error.h"
#include "base/files.h"
#include "base/go_json.h"
#include "cache/cache_importer.h"
#include "cache/cache_spec.h"
#include "cache/imported_cache.h"
#include "cache/local_blob_provider.h"
#include "oci/media_types.h"
#include "support/cache_builder.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"

#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace cachescope;
using namespace cachescope::cache;
using cachescope::oci::Digest;
using cachescope::test::CacheBuilder;
namespace fs = std::filesystem;

Q_DECLARE_METATYPE(std::string)

namespace {

const std::string kSlash = "sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1";

// JSON in tests is written with single quotes for readability (moc cannot parse raw strings).
std::string q(std::string text)
{
    for (auto& c : text)
        if (c == '\'')
            c = '"';
    return text;
}

std::string d(const std::string& seed) { return Digest::of(seed).str(); }

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

CacheSpec localSpec(const fs::path& dir, const std::string& extra = {})
{
    return parseCacheSpec("type=local,src=" + dir.string() + extra);
}

ImportedCache importLocal(const fs::path& dir, const std::string& extra = {})
{
    const CacheSpec spec = localSpec(dir, extra);
    LocalBlobProvider provider(spec);
    return importCache(provider, spec);
}

const SourceProblem* findProblem(const ImportedCache& c, const std::string& kind)
{
    for (const auto& p : c.problems)
        if (p.kind == kind)
            return &p;
    return nullptr;
}

std::string problemsText(const ImportedCache& c)
{
    std::string s;
    for (const auto& p : c.problems)
        s += p.kind + ": " + p.message + "\n";
    return s;
}

} // namespace

class TestCacheImport : public QObject {
    Q_OBJECT
private slots:
    void importsEveryFixtureVariant_data()
    {
        QTest::addColumn<std::string>("fixture");
        QTest::addColumn<std::string>("variant");
        QTest::addColumn<int>("records");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("results");
        for (const auto& variant : test::variantNames()) {
            const bool inl = variant == "inline-image";
            const bool min = variant.find("min") != std::string::npos || inl;
            auto row = [&](const std::string& f, int recs, int layers, int results) {
                QTest::newRow((f + "/" + variant).c_str()) << f << variant << recs << layers << results;
            };
            // Inline layers are the image's layers: 6 / 4 / 4 / 2 (01's image has every step's layer).
            row("01-single-stage", 9, 6, 5);
            row("02-multi-stage", 12, min ? 4 : 8, min ? 3 : 7);
            row("03-build-args", 6, 4, 3);
            row("04-scratch-copy", 4, 2, 2);
        }
    }

    void importsEveryFixtureVariant()
    {
        QFETCH(std::string, fixture);
        QFETCH(std::string, variant);
        QFETCH(int, records);
        QFETCH(int, layers);
        QFETCH(int, results);
        // Registry and inline layouts import as local with their tags, as the fixture README did.
        const fs::path dir = test::cacheVariant(fixture, variant);
        const std::string tag = test::variantTag(variant);
        const ImportedCache c = importLocal(dir, ",tag=" + tag);
        QVERIFY2(c.ok, c.error.c_str());
        QVERIFY2(c.problems.empty(), problemsText(c).c_str());
        QCOMPARE(c.source, "local cache " + dir.string() + " (tag " + tag + ")");

        const auto fc = test::loadFixtureCache(fixture, variant);
        QCOMPARE(c.manifestDigest, fc.top.digest);
        QCOMPARE(c.manifestMediaType, fc.top.mediaType);
        QCOMPARE(c.manifestSize, fc.top.size);
        if (variant == "inline-image") {
            QCOMPARE(c.form, CacheForm::Inline);
            QCOMPARE(c.manifestMediaType, std::string(oci::media::DockerManifest));
            QCOMPARE(c.graphs[0].platform, std::string("linux/amd64"));
        } else if (variant.find("-index") != std::string::npos) {
            QCOMPARE(c.form, CacheForm::Index);
            QCOMPARE(c.manifestMediaType, std::string(oci::media::OciIndex));
            QCOMPARE(c.configSize, std::int64_t(fc.configBytes.size()));
        } else {
            QCOMPARE(c.form, CacheForm::ImageManifest);
            QCOMPARE(c.manifestMediaType, std::string(oci::media::OciManifest));
            QCOMPARE(c.configSize, std::int64_t(fc.configBytes.size()));
        }
        QCOMPARE(c.graphs.size(), std::size_t(1));
        QCOMPARE(int(c.recordCount()), records);
        QCOMPARE(int(c.layerCount()), layers);
        QCOMPARE(int(c.resultCount()), results);
        QCOMPARE(c.missingBlobs, std::size_t(0));
        std::int64_t listedBytes = 0;
        for (const auto& [digest, desc] : fc.layers)
            listedBytes += desc.size;
        QCOMPARE(c.blobBytes, listedBytes);

        // Every result is usable: its blobs are present and annotated.
        const KeyGraph& g = c.graphs[0].graph;
        int usable = 0;
        for (ItemId id = 0; id < ItemId(g.itemCount()); ++id)
            if (const auto* r = g.bestUsableResult(id)) {
                ++usable;
                for (const auto& l : g.chainLayers(*r))
                    QVERIFY(Digest::tryParse(l.annotation(oci::media::AnnotationUncompressed)).has_value());
            }
        QCOMPARE(usable, results);
    }

    void inlineCacheIsDecoded()
    {
        const fs::path dir = test::cacheVariant("01-single-stage", "inline-image");
        const ImportedCache c = importLocal(dir, ",tag=inline");
        QVERIFY2(c.ok, c.error.c_str());
        const ImportedGraph& ig = c.graphs[0];
        QCOMPARE(ig.manifestDigest.str(), std::string("sha256:2c9034afb5e252b60779d8d152626709751ca59478d901c0b0edd885f0862428"));
        QCOMPARE(ig.configDigest.str(), std::string("sha256:dabcfef189abb5899be593e286284864e5027d4caeae58867fa89e0ebf8d50c7"));
        QCOMPARE(c.configSize, std::int64_t(3829));
        // Synthetic layers: image layer i sits on i-1.
        QCOMPARE(ig.config.layers.size(), std::size_t(6));
        for (std::size_t i = 0; i < 6; ++i)
            QCOMPARE(ig.config.layers[i].parent, int(i) - 1);

        // [8] = the last RUN: result "layer 5" = the image's six layers.
        const KeyGraph& g = ig.graph;
        const ItemId run = g.itemOfRecord(8);
        QCOMPARE(g.digest(run).str(), std::string("sha256:f8972154ae189cc2bc13bceecbd2bcfc95c050037f3b0a784d0580c8b403cd4c"));
        QCOMPARE(g.selector(g.item(run).parents[0][0].selector), kSlash);
        const auto chain = g.chainLayers(*g.bestResult(run));
        QCOMPARE(chain.size(), std::size_t(6));
        QCOMPARE(chain[0].digest.str(), std::string("sha256:d5f73a2c24a8e00a0532678dcd21244da4a03c08a41a383249bdc22c56a34b34"));
        QCOMPARE(chain[5].digest.str(), std::string("sha256:14707a07419c042c0abddb8cc5ddb6dc4cde49b2ddcf8369fb17b861d20a64ac"));
        QCOMPARE(chain[5].mediaType, std::string(oci::media::DockerLayerGzip));
        // Annotations BuildKit adds from the image config: diff_ids[i] and the i-th non-empty history entry.
        QCOMPARE(chain[5].annotation(oci::media::AnnotationUncompressed),
                 std::string("sha256:537440e665420f414f91e56def1ae457c73fc0684554e95335da5f9273c1b586"));
        QCOMPARE(chain[5].annotation(oci::media::AnnotationCreatedAt), std::string("2026-11-27T15:20:54.835564574Z"));
        QCOMPARE(chain[5].annotation(oci::media::AnnotationDescription),
                 std::string("RUN /bin/sh -c wc -c combined.txt c.txt > sizes.txt && cat sizes.txt # buildkit"));
        QCOMPARE(chain[0].annotation(oci::media::AnnotationDescription),
                 std::string("busybox-static 1:1.35.0-4+deb12u1 rootfs"));
        QCOMPARE(g.bestResult(run)->createdAt.text, std::string("2026-11-27T15:20:54.836413574Z"));
        // WORKDIR ([5]) has result "layer 1": busybox + WORKDIR.
        QCOMPARE(g.chainLayers(*g.bestResult(g.itemOfRecord(5))).size(), std::size_t(2));
    }

    void indexFormListsLayersBesideTheConfig()
    {
        const fs::path dir = test::cacheVariant("02-multi-stage", "registry-max-index");
        const ImportedCache c = importLocal(dir, ",tag=cache-max-index");
        QVERIFY2(c.ok, c.error.c_str());
        QCOMPARE(c.form, CacheForm::Index);
        QCOMPARE(c.graphs[0].layerDescriptors.size(), std::size_t(8)); // every entry but the config
        for (const auto& [digest, desc] : c.graphs[0].layerDescriptors)
            QVERIFY(oci::media::isLayer(desc.mediaType));
        QCOMPARE(cacheFormName(c.form), std::string_view("index"));
        QCOMPARE(cacheFormName(CacheForm::ImageManifest), std::string_view("image-manifest"));
        QCOMPARE(cacheFormName(CacheForm::Inline), std::string_view("inline"));
    }

    void explicitDigestOverridesTag()
    {
        const fs::path dir = test::cacheVariant("04-scratch-copy", "local-min");
        const auto fc = test::loadFixtureCache("04-scratch-copy", "local-min");
        const ImportedCache c = importLocal(dir, ",tag=nonexistent,digest=" + fc.top.digest.str());
        QVERIFY2(c.ok, c.error.c_str());
        QCOMPARE(c.source, "local cache " + dir.string() + " (digest " + fc.top.digest.str() + ")");
        QCOMPARE(c.manifestDigest, fc.top.digest);
        QCOMPARE(c.recordCount(), std::size_t(4));
    }

    void tagLookupPrefersContainerdName()
    {
        // BuildKit's client looks for io.containerd.image.name first, then the OCI ref name.
        QTemporaryDir tmp;
        CacheBuilder b(tmp.path().toStdString());
        std::vector<oci::Descriptor> one{b.addLayer("one")}, two{b.addLayer("two-a"), b.addLayer("two-b")};
        const auto byRefName = b.writeCache(test::linearCacheConfig(one), one, "app");
        const auto byContainerd = b.writeCache(test::linearCacheConfig(two), two, "other");
        oci::Index index = b.layout().readIndex();
        for (auto& m : index.manifests)
            if (m.digest == byContainerd.digest)
                m.annotations[std::string(oci::media::AnnotationContainerdImageName)] = "app";
        index.manifests.push_back(index.manifests.front()); // order must not matter
        index.manifests.erase(index.manifests.begin());
        writeFileAtomic(b.dir() / "index.json", goJson(index.toJson()));
        const ImportedCache c = importLocal(b.dir(), ",tag=app");
        QVERIFY2(c.ok, c.error.c_str());
        QCOMPARE(c.manifestDigest, byContainerd.digest);
        QCOMPARE(c.recordCount(), std::size_t(4));
        QVERIFY(byRefName.digest != byContainerd.digest);
    }

    void badSourcesFailWithNamedCause()
    {
        struct Case {
            const char* name;
            // Builds the broken cache in dir and returns the spec suffix; fills `cause`.
            std::function<std::string(CacheBuilder&, std::string& cause)> make;
        };
        const auto layers2 = [](CacheBuilder& b) {
            return std::vector<oci::Descriptor>{b.addLayer("layer-0"), b.addLayer("layer-1")};
        };
        const std::string r0 = d("r0"), r1 = d("r1"), r2 = d("r2");
        const std::string res = q("'createdAt':'2026-01-01T00:00:00Z'");
        const std::vector<Case> cases = {
            {"corrupt JSON config",
             [&](CacheBuilder& b, std::string& cause) {
                 b.writeCache(q("{'layers':[{'blob':"), layers2(b));
                 cause = ": invalid JSON at offset 19: unexpected end of input";
                 return "";
             }},
            {"looping records",
             [&](CacheBuilder& b, std::string& cause) {
                 b.writeCache(q("{'records':[{'digest':'") + r0 + q("','inputs':[[{'link':1}]]},{'digest':'") + r1 +
                                  q("','inputs':[[{'link':0}]]}]}"),
                              layers2(b));
                 cause = ": invalid looping record 0 (reached again from record 1";
                 return "";
             }},
            {"looping layers",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 b.writeCache(q("{'layers':[{'blob':'") + ls[0].digest.str() + q("','parent':1},{'blob':'") +
                                  ls[1].digest.str() + q("'}],'records':[{'layers':[{'layer':1,") + res +
                                  q("}],'digest':'") + r0 + q("'}]}"),
                              ls);
                 cause = ": invalid looping layer 1 (in the chain of record 0)";
                 return "";
             }},
            {"link out of range",
             [&](CacheBuilder& b, std::string& cause) {
                 b.writeCache(q("{'records':[{'digest':'") + r0 + q("'},{'digest':'") + r1 +
                                  q("','inputs':[[{'link':0},{'link':2}]]}]}"),
                              layers2(b));
                 cause = ": invalid record ID 2 (record 1 (" + r1 + "), input 0)";
                 return "";
             }},
            {"layer index out of range",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 b.writeCache(q("{'layers':[{'blob':'") + ls[0].digest.str() + q("','parent':-1}],'records':[{'layers':[{'layer':4,") +
                                  res + q("}],'digest':'") + r0 + q("'}]}"),
                              ls);
                 cause = ": invalid layer index 4 (result of record 0 (" + r0 + "))";
                 return "";
             }},
            {"empty input alternatives",
             [&](CacheBuilder& b, std::string& cause) {
                 b.writeCache(q("{'records':[{'digest':'") + r0 + q("'},{'digest':'") + r1 + q("','inputs':[[]]}]}"), layers2(b));
                 cause = ": invalid empty input for record 1 (input 0)";
                 return "";
             }},
            {"config bytes do not match digest",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 const std::string cfg = test::linearCacheConfig(ls);
                 b.writeCache(cfg, ls);
                 b.corruptBlob(Digest::of(cfg));
                 cause = ": blob " + Digest::of(cfg).str() + " does not match its digest (its bytes hash to sha256:";
                 return "";
             }},
            {"truncated config",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 const std::string cfg = test::linearCacheConfig(ls);
                 b.writeCache(cfg, ls);
                 b.truncateBlob(Digest::of(cfg));
                 cause = "config " + Digest::of(cfg).str() + ": blob " + Digest::of(cfg).str() + " is truncated: " +
                         std::to_string(cfg.size() / 2) + " of " + std::to_string(cfg.size()) + " bytes";
                 return "";
             }},
            {"corrupt manifest blob",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 const auto top = b.writeCache(test::linearCacheConfig(ls), ls);
                 b.corruptBlob(top.digest);
                 cause = "manifest " + top.digest.str() + ": blob " + top.digest.str() + " does not match its digest";
                 return "";
             }},
            {"unknown tag",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 b.writeCache(test::linearCacheConfig(ls), ls, "v1");
                 b.writeCache(test::linearCacheConfig(ls), ls, "v2");
                 cause = "(tag nope): tag \"nope\" not found in index.json (tags: v1, v2)";
                 return ",tag=nope";
             }},
            {"explicit digest absent",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 b.writeCache(test::linearCacheConfig(ls), ls);
                 cause = "(digest " + d("absent") + "): digest " + d("absent") + " not found (no such blob in ";
                 return ",digest=" + d("absent");
             }},
            {"missing index.json",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 b.writeCache(test::linearCacheConfig(ls), ls);
                 fs::remove(b.dir() / "index.json");
                 cause = ": index.json not found in " + b.dir().string() + " (not an OCI layout)";
                 return "";
             }},
            {"missing directory",
             [&](CacheBuilder& b, std::string& cause) {
                 fs::remove_all(b.dir());
                 cause = ": directory " + b.dir().string() + " not found";
                 return "";
             }},
            {"no cache config and no inline cache",
             [&](CacheBuilder& b, std::string& cause) {
                 auto ls = layers2(b);
                 oci::Manifest m;
                 m.mediaType = std::string(oci::media::OciManifest);
                 m.config = b.layout().blobs().put(q("{'os':'linux','architecture':'amd64','rootfs':{'diff_ids':[]}}"),
                                                   std::string(oci::media::OciConfig));
                 m.layers = ls;
                 const auto top = b.layout().blobs().put(goJson(m.toJson()), std::string(oci::media::OciManifest));
                 b.tag("latest", top);
                 cause = "manifest " + top.digest.str() + ": no cache config (application/vnd.buildkit.cacheconfig.v0) "
                                                          "and no inline cache: no moby.buildkit.cache.v0 in its config";
                 return "";
             }},
        };
        for (const auto& c : cases) {
            QTemporaryDir tmp;
            const fs::path dir = fs::path(tmp.path().toStdString()) / "cache";
            std::string cause;
            std::string suffix;
            {
                CacheBuilder b(dir);
                suffix = c.make(b, cause);
            }
            const std::string before = test::snapshotTree(dir);
            const ImportedCache imported = importLocal(dir, suffix);
            QVERIFY2(!imported.ok, c.name);
            QVERIFY2(imported.graphs.empty(), c.name); // nothing partial
            QVERIFY2(imported.problems.empty(), c.name);
            QVERIFY2(contains(imported.error, "local cache " + dir.string() + " ("), (c.name + std::string(": ") + imported.error).c_str());
            QVERIFY2(contains(imported.error, cause), (std::string(c.name) + ": " + imported.error + "\n  wanted: " + cause).c_str());
            QCOMPARE(test::snapshotTree(dir), before); // the import wrote nothing
        }
    }

    void preflightFindsMissingBlobs()
    {
        QTemporaryDir tmp;
        CacheBuilder b(tmp.path().toStdString());
        std::vector<oci::Descriptor> ls{b.addLayer("l0"), b.addLayer("l1"), b.addLayer("l2")};
        b.writeCache(test::linearCacheConfig(ls), ls);
        b.removeBlob(ls[1].digest);
        const ImportedCache c = importLocal(b.dir());
        QVERIFY2(c.ok, c.error.c_str());
        QCOMPARE(c.missingBlobs, std::size_t(1));
        const SourceProblem* p = findProblem(c, "missing-blob");
        QVERIFY2(p, problemsText(c).c_str());
        // Records 3 and 4 (steps 1 and 2) have chains through l1; record 2 (step 0) does not.
        QCOMPARE(p->message, "blob " + ls[1].digest.str() + " (2 bytes) is listed but missing; 2 record(s) lose their result: 3, 4");
        const KeyGraph& g = c.graphs[0].graph;
        QVERIFY(g.bestUsableResult(g.itemOfRecord(2)));
        QVERIFY(!g.bestUsableResult(g.itemOfRecord(3)));
        QVERIFY(!g.bestUsableResult(g.itemOfRecord(4)));
        QVERIFY(g.bestResult(g.itemOfRecord(4))); // still known, just not loadable
    }

    void preflightFindsLayersWithoutDiffId()
    {
        QTemporaryDir tmp;
        CacheBuilder b(tmp.path().toStdString());
        std::vector<oci::Descriptor> ls{b.addLayer("l0"), b.addLayer("l1", false)};
        b.writeCache(test::linearCacheConfig(ls), ls);
        const ImportedCache c = importLocal(b.dir());
        QVERIFY2(c.ok, c.error.c_str());
        const SourceProblem* p = findProblem(c, "missing-uncompressed");
        QVERIFY2(p, problemsText(c).c_str());
        QCOMPARE(p->message, "layer " + ls[1].digest.str() +
                                 " has no containerd.io/uncompressed annotation; 1 record(s) have a result BuildKit cannot load: 3");
        QVERIFY(!c.graphs[0].graph.bestUsableResult(c.graphs[0].graph.itemOfRecord(3)));
    }

    void unlistedBlobDropsTheResult()
    {
        QTemporaryDir tmp;
        CacheBuilder b(tmp.path().toStdString());
        std::vector<oci::Descriptor> ls{b.addLayer("l0"), b.addLayer("l1")};
        b.writeCache(test::linearCacheConfig(ls), {ls[0]}, "latest", CacheBuilder::Form::Index);
        const ImportedCache c = importLocal(b.dir());
        QVERIFY2(c.ok, c.error.c_str());
        QCOMPARE(c.form, CacheForm::Index);
        QCOMPARE(c.resultCount(), std::size_t(1));
        const SourceProblem* p = findProblem(c, "blob-not-listed");
        QVERIFY2(p, problemsText(c).c_str());
        QCOMPARE(p->message, "result of record 3 (" + d("step-1") + ") dropped: blob " + ls[1].digest.str() +
                                 " is not listed by the manifest");
    }

    void oversizedConfigIsReportedButRead()
    {
        QTemporaryDir tmp;
        CacheBuilder b(tmp.path().toStdString());
        std::vector<oci::Descriptor> ls{b.addLayer("l0"), b.addLayer("l1")};
        // A valid config padded past 1 MiB with key-only records (a long chain of RUNs).
        std::string cfg = test::linearCacheConfig(ls);
        cfg.erase(cfg.size() - 2); // drop "]}"
        const int extra = 9000;
        for (int i = 0; i < extra; ++i)
            cfg += q(",{'digest':'") + d("key-" + std::to_string(i)) + q("','inputs':[[{'selector':'") + kSlash +
                   q("','link':") + std::to_string(i + 3) + "}]]}";
        cfg += "]}";
        QVERIFY(cfg.size() > 1024 * 1024);
        b.writeCache(cfg, ls);
        const ImportedCache c = importLocal(b.dir());
        QVERIFY2(c.ok, c.error.c_str());
        QCOMPARE(c.configSize, std::int64_t(cfg.size()));
        QCOMPARE(c.recordCount(), std::size_t(4 + extra));
        QCOMPARE(c.graphs[0].graph.itemCount(), std::size_t(4 + extra));
        const SourceProblem* p = findProblem(c, "config-too-large");
        QVERIFY2(p, problemsText(c).c_str());
        QCOMPARE(p->message, "config " + Digest::of(cfg).str() + " is " + std::to_string(cfg.size()) +
                                 " bytes — BuildKit would refuse this (limit 1048576)");
        QCOMPARE(c.problems.size(), std::size_t(1));
    }

    void inlineCacheOfEveryPlatform()
    {
        QTemporaryDir tmp;
        CacheBuilder b(tmp.path().toStdString());
        std::vector<oci::Descriptor> ls{b.addLayer("base"), b.addLayer("run")};
        const std::string records = q("[{'digest':'") + d("root") + q("'},{'layers':[{'layer':1,'createdAt':'2026-01-01T00:00:00Z'}],'digest':'") +
                                    d("run") + q("','inputs':[[{'selector':'") + kSlash + q("','link':0}]]}]");
        const auto amd = b.writeInlineImage(records, ls, "amd64");
        const auto arm = b.writeInlineImage(records, {ls[0]}, "arm64"); // record 1 points past its one layer
        const auto riscv = b.writeInlineImage(records, ls, "riscv64", 1); // 1 diff_id for 2 layers
        b.writeImageIndex({{amd, "amd64"}, {arm, "arm64"}, {riscv, "riscv64"}}, "img");
        const ImportedCache c = importLocal(b.dir(), ",tag=img");
        QVERIFY2(!c.ok, "an arm64 record pointing past the image's layers is a config error for the whole source");
        QVERIFY2(contains(c.error, "invalid layer index 1"), c.error.c_str());

        // Without the broken platform: two graphs, the diff_id mismatch skipped as BuildKit does.
        b.writeImageIndex({{amd, "amd64"}, {riscv, "riscv64"}}, "img2");
        const ImportedCache ok = importLocal(b.dir(), ",tag=img2");
        QVERIFY2(ok.ok, ok.error.c_str());
        QCOMPARE(ok.form, CacheForm::Inline);
        QCOMPARE(ok.graphs.size(), std::size_t(1));
        QCOMPARE(ok.graphs[0].platform, std::string("linux/amd64"));
        const SourceProblem* p = findProblem(ok, "platform-skipped");
        QVERIFY2(p, problemsText(ok).c_str());
        QCOMPARE(p->message, "image manifest " + riscv.digest.str() + " (linux/riscv64) skipped as BuildKit does: 1 diff_ids for 2 layers");

        const auto arm2 = b.writeInlineImage(q("[{'digest':'") + d("root") + q("'},{'layers':[{'layer':0,'createdAt':'2026-01-02T00:00:00Z'}],'digest':'") +
                                                 d("run-arm") + q("','inputs':[[{'link':0}]]}]"),
                                             {ls[0]}, "arm64");
        b.writeImageIndex({{amd, "amd64"}, {arm2, "arm64"}}, "img3");
        const ImportedCache both = importLocal(b.dir(), ",tag=img3");
        QVERIFY2(both.ok, both.error.c_str());
        QCOMPARE(both.graphs.size(), std::size_t(2));
        QCOMPARE(both.graphs[1].platform, std::string("linux/arm64"));
        QCOMPARE(both.recordCount(), std::size_t(4));
        const KeyGraph& g = both.graphs[1].graph;
        const auto chain = g.chainLayers(*g.bestResult(g.itemOfRecord(1)));
        QCOMPARE(chain.size(), std::size_t(1));
        QCOMPARE(chain[0].annotation(oci::media::AnnotationUncompressed), d("diff:0arm64"));
        QCOMPARE(chain[0].annotation(oci::media::AnnotationDescription), std::string("RUN step 0"));
    }

    void importsSourcesInParallel()
    {
        std::vector<CacheSpec> specs;
        for (const auto& f : test::fixtureNames())
            specs.push_back(localSpec(test::cacheVariant(f, "local-max")));
        specs.insert(specs.begin() + 2, localSpec("/nonexistent/cachescope-cache"));
        specs.push_back(parseCacheSpec("type=registry,ref=127.0.0.1:1/none:cache"));
        const auto results = importSources(specs, ProviderFactory::withLocal());
        QCOMPARE(results.size(), std::size_t(6));
        const int expectedRecords[] = {9, 12, 6, 4};
        int fixture = 0;
        for (std::size_t i = 0; i < results.size(); ++i) {
            QCOMPARE(results[i].spec.raw, specs[i].raw); // input order kept
            if (i == 2 || i == 5)
                continue;
            QVERIFY2(results[i].ok, results[i].error.c_str());
            QCOMPARE(int(results[i].recordCount()), expectedRecords[fixture++]);
        }
        QVERIFY(!results[2].ok);
        QCOMPARE(results[2].error, std::string("local cache /nonexistent/cachescope-cache (tag latest): directory "
                                               "/nonexistent/cachescope-cache not found"));
        QVERIFY(!results[5].ok);
        QCOMPARE(results[5].error, std::string("registry cache 127.0.0.1:1/none:cache: type=registry import is not "
                                               "available (no provider registered for it)"));
    }

    // Sources imported earlier are taken as they were; only the others are imported, in input order.
    void reusesEarlierImports()
    {
        const CacheSpec first = localSpec(test::cacheVariant("01-single-stage", "local-max"));
        const CacheSpec second = localSpec(test::cacheVariant("02-multi-stage", "local-max"));
        const CacheSpec gone = localSpec("/nonexistent/cachescope-cache");
        // What the earlier import saw for `gone` (a fixture's records) is what is used now, though
        // importing that spec now fails.
        ImportedCache earlier = importSources({second}, ProviderFactory::withLocal()).front();
        QVERIFY2(earlier.ok, earlier.error.c_str());
        earlier.spec = gone;
        const PreImported pre{{gone.raw, std::make_shared<const ImportedCache>(earlier)}};
        const auto results = importSourcesReusing({first, gone}, pre, ProviderFactory::withLocal());
        QCOMPARE(results.size(), std::size_t(2));
        QCOMPARE(results[0].spec.raw, first.raw);
        QVERIFY2(results[0].ok, results[0].error.c_str());
        QCOMPARE(int(results[0].recordCount()), 9);
        QCOMPARE(results[1].spec.raw, gone.raw);
        QVERIFY(results[1].ok);
        QCOMPARE(int(results[1].recordCount()), 12);
        QVERIFY(!importSources({gone}, ProviderFactory::withLocal()).front().ok);
    }

    void factoryTakesPluggedProviders()
    {
        // What engine/registry will do: register a creator for "registry". Here the creator maps
        // refs to fixture layouts through the real local provider; type=inline goes through it too.
        ProviderFactory factory = ProviderFactory::withLocal();
        factory.add("registry", [](const CacheSpec& spec) -> std::unique_ptr<BlobProvider> {
            const std::string ref = spec.attr("ref");
            const auto colon = ref.rfind(':');
            return std::make_unique<LocalBlobProvider>(test::cacheVariant("03-build-args", ref.substr(0, colon)),
                                                       ref.substr(colon + 1));
        });
        QVERIFY(factory.supports("inline"));
        const auto results = importSources({parseCacheSpec("registry-max:cache-max"), parseCacheSpec("type=inline,ref=inline-image:inline")},
                                           factory, 1);
        QVERIFY2(results[0].ok, results[0].error.c_str());
        QCOMPARE(results[0].form, CacheForm::ImageManifest);
        QVERIFY2(results[1].ok, results[1].error.c_str());
        QCOMPARE(results[1].form, CacheForm::Inline);
        QCOMPARE(results[1].recordCount(), std::size_t(6));
    }

    void parsesCacheSpecs_data()
    {
        QTest::addColumn<std::string>("text");
        QTest::addColumn<std::string>("type");
        QTest::addColumn<std::string>("attrs"); // "k=v;k=v", or the error fragment when type is empty
        QTest::addColumn<std::string>("display");
        const std::string dg = d("x");
        QTest::newRow("registry") << std::string("type=registry,ref=host:5000/app:cache") << std::string("registry")
                                  << std::string("ref=host:5000/app:cache") << std::string("registry cache host:5000/app:cache");
        QTest::newRow("bare ref") << std::string("user/app:cache") << std::string("registry") << std::string("ref=user/app:cache")
                                  << std::string("registry cache user/app:cache");
        QTest::newRow("insecure") << std::string("type=registry,ref=x,registry.insecure=true") << std::string("registry")
                                  << std::string("ref=x;registry.insecure=true") << std::string("registry cache x");
        QTest::newRow("local tag") << std::string("type=local,src=/tmp/c,tag=v1") << std::string("local")
                                   << std::string("src=/tmp/c;tag=v1") << std::string("local cache /tmp/c (tag v1)");
        QTest::newRow("local default tag") << std::string("type=local,src=/tmp/c") << std::string("local") << std::string("src=/tmp/c")
                                           << std::string("local cache /tmp/c (tag latest)");
        QTest::newRow("local digest") << "type=local,src=/tmp/c,digest=" + dg << std::string("local") << "digest=" + dg + ";src=/tmp/c"
                                      << "local cache /tmp/c (digest " + dg + ")";
        QTest::newRow("quoted comma") << std::string("type=registry,\"ref=a,b\"") << std::string("registry") << std::string("ref=a,b")
                                      << std::string("registry cache a,b");
        QTest::newRow("quoted quote") << std::string("\"type=local\",\"src=/x \"\"y\"\"\"") << std::string("local")
                                      << std::string("src=/x \"y\"") << std::string("local cache /x \"y\" (tag latest)");
        QTest::newRow("keys case-insensitive") << std::string("TYPE=local,SRC=/x,Tag=T") << std::string("local")
                                               << std::string("src=/x;tag=T") << std::string("local cache /x (tag T)");
        QTest::newRow("value keeps =") << std::string("type=local,src=/a=b") << std::string("local") << std::string("src=/a=b")
                                       << std::string("local cache /a=b (tag latest)");
        QTest::newRow("inline") << std::string("type=inline,ref=app:latest") << std::string("inline") << std::string("ref=app:latest")
                                << std::string("inline cache app:latest");
        const auto bad = [](const char* name, const std::string& text, const std::string& error) {
            QTest::newRow(name) << text << std::string() << error << std::string();
        };
        bad("bare quote", "type=registry,ref=a\"b", "cache source \"type=registry,ref=a\"b\": column 20: bare \" in non-quoted-field");
        bad("unterminated quote", "\"type=local,src=/x", "extraneous or missing \" in quoted-field");
        bad("text after quote", "\"type=local\"x,src=/y", "column 13: extraneous or missing \" in quoted-field");
        bad("unknown type", "type=foo,ref=x", "unknown cache type \"foo\" (expected registry, local or inline)");
        bad("local without src", "type=local,tag=x", "type=local needs src=<directory>");
        bad("registry without ref", "type=registry", "type=registry needs ref=<image reference>");
        bad("inline without ref", "type=inline", "type=inline needs ref=<image reference>");
        bad("bad digest", "type=local,src=/x,digest=abc", "digest=abc is not a sha256 digest");
        bad("no type", "ref=x,mode=max", "type required");
        bad("field without =", "type=local,src", "field \"src\" is not key=value");
        bad("insecure not bool", "type=registry,ref=x,registry.insecure=yes", "registry.insecure=yes is not true or false");
        bad("gha", "type=gha,scope=x", "type=gha is not supported yet");
        bad("empty", "", "cache source \"\": empty");
    }

    void parsesCacheSpecs()
    {
        QFETCH(std::string, text);
        QFETCH(std::string, type);
        QFETCH(std::string, attrs);
        QFETCH(std::string, display);
        if (type.empty()) {
            try {
                parseCacheSpec(text);
                QFAIL("expected an error");
            } catch (const Error& e) {
                QVERIFY2(contains(e.what(), attrs), e.what());
            }
            return;
        }
        const CacheSpec spec = parseCacheSpec(text);
        QCOMPARE(spec.type, type);
        QCOMPARE(spec.raw, text);
        std::string got;
        for (const auto& [k, v] : spec.attrs)
            got += (got.empty() ? "" : ";") + k + "=" + v;
        QCOMPARE(got, attrs);
        QCOMPARE(spec.displayName(), display);
    }

    void bareRefListIsSeveralSources()
    {
        const auto specs = parseCacheSpecs("user/app:cache,\"other/app:x\"");
        QCOMPARE(specs.size(), std::size_t(2));
        QCOMPARE(specs[0].attr("ref"), std::string("user/app:cache"));
        QCOMPARE(specs[1].attr("ref"), std::string("other/app:x"));
        QCOMPARE(specs[1].type, std::string("registry"));
        QCOMPARE(parseCacheSpecs("type=local,src=/x").size(), std::size_t(1));
        QVERIFY(parseCacheSpecs("").empty());
        QCOMPARE(test::encodeBase64("ab"), std::string("YWI="));
    }
};

QTEST_APPLESS_MAIN(TestCacheImport)
#include "test_cache_import.moc"

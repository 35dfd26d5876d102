// The cache config v0 model: parsing every real fixture config, Go-identical serialisation,
// the parent-omitempty trap, structural errors, and the key graph built from it.
#include "base/error.h"
#include "base/files.h"
#include "cache/cache_config.h"
#include "cache/key_graph.h"
#include "cache/timestamp.h"
#include "oci/media_types.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"

#include <QTest>

using namespace cachescope;
using namespace cachescope::cache;
using cachescope::oci::Digest;

Q_DECLARE_METATYPE(std::string)

namespace {

const std::string kSlash = "sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1"; // sha256("/")

std::string d(const std::string& seed) { return Digest::of(seed).str(); }

// JSON in tests is written with single quotes for readability (moc cannot parse raw strings).
std::string q(std::string text)
{
    for (auto& c : text)
        if (c == '\'')
            c = '"';
    return text;
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

// Every blob listed, so no result is dropped.
std::map<Digest, oci::Descriptor> listAll(const CacheConfig& c)
{
    std::map<Digest, oci::Descriptor> m;
    for (const auto& l : c.layers) {
        oci::Descriptor desc;
        desc.digest = l.blob;
        desc.mediaType = std::string(oci::media::OciLayerGzip);
        desc.size = 1;
        m[l.blob] = desc;
    }
    return m;
}

// Runs f and returns the Error message it throws ("" when it does not throw).
template <class F>
std::string errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

CacheConfig loadConfig(const test::FixtureCache& fc)
{
    if (!fc.isInline)
        return parseCacheConfig(fc.configBytes, "fixture config");
    CacheConfig c;
    c.records = parseInlineRecords(fc.configBytes, "fixture inline");
    return c;
}

} // namespace

class TestCacheConfig : public QObject {
    Q_OBJECT
private slots:
    void parsesEveryFixture_data()
    {
        QTest::addColumn<std::string>("fixture");
        QTest::addColumn<std::string>("variant");
        QTest::addColumn<int>("records");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("roots");
        QTest::addColumn<int>("results");
        QTest::addColumn<int>("links");
        QTest::addColumn<int>("selectorLinks");
        // Figures read from the fixture files (jq) and cross-checked with each fixture's keys.md.
        // Inline variants have no config layers: their layer indexes point at the image's layers.
        for (const auto& variant : test::variantNames()) {
            const bool inl = variant == "inline-image";
            const bool min = variant.find("min") != std::string::npos || inl; // inline is always mode=min
            auto row = [&](const std::string& fixture, int recs, int layers, int roots, int results, int links, int sels) {
                QTest::newRow((fixture + "/" + variant).c_str())
                    << fixture << variant << recs << (inl ? 0 : layers) << roots << results << links << sels;
            };
            row("01-single-stage", 9, 6, 4, 5, 8, 2);
            row("02-multi-stage", 12, min ? 4 : 8, 5, min ? 3 : 7, 14, 7);
            row("03-build-args", 6, 4, 3, 3, 5, 2);
            row("04-scratch-copy", 4, 2, 2, 2, 3, 0);
        }
    }

    void parsesEveryFixture()
    {
        QFETCH(std::string, fixture);
        QFETCH(std::string, variant);
        QFETCH(int, records);
        QFETCH(int, layers);
        QFETCH(int, roots);
        QFETCH(int, results);
        QFETCH(int, links);
        QFETCH(int, selectorLinks);

        const auto fc = test::loadFixtureCache(fixture, variant);
        const CacheConfig c = loadConfig(fc);
        QCOMPARE(int(c.records.size()), records);
        QCOMPARE(int(c.layers.size()), layers);

        int noInputs = 0, withResults = 0, alternatives = 0, withSelector = 0;
        for (const auto& r : c.records) {
            QVERIFY(!r.digest.empty());
            noInputs += r.inputs.empty();
            withResults += !r.results.empty();
            QVERIFY(r.chains.empty()); // no COPY --link in these Dockerfiles
            for (const auto& alts : r.inputs)
                for (const auto& in : alts) {
                    ++alternatives;
                    withSelector += !in.selector.empty();
                    if (!in.selector.empty())
                        QVERIFY(Digest::tryParse(in.selector).has_value());
                }
            for (const auto& res : r.results)
                QVERIFY(res.createdAt.known());
        }
        QCOMPARE(noInputs, roots);
        QCOMPARE(withResults, results);
        QCOMPARE(alternatives, links);
        QCOMPARE(withSelector, selectorLinks);

        // The graph over the blobs the manifest lists: nothing dropped, every record one item
        // (no digest repeats in these exports), every result's chain listed.
        if (fc.isInline) {
            return; // inline graphs need the synthetic layers: covered by test_cache_import
        }
        std::vector<SourceProblem> problems;
        const KeyGraph g = KeyGraph::build(c, fc.layers, "fixture", &problems);
        QVERIFY(problems.empty());
        QCOMPARE(int(g.itemCount()), records);
        QCOMPARE(int(g.rootCount()), roots);
        QCOMPARE(int(g.resultCount()), results);
        QCOMPARE(int(g.linkCount()), links);
        for (ItemId id = 0; id < ItemId(g.itemCount()); ++id)
            if (const auto* best = g.bestResult(id)) {
                const auto chain = g.chainLayers(*best);
                QVERIFY(!chain.empty());
                for (const auto& l : chain)
                    QVERIFY(!l.annotation(oci::media::AnnotationUncompressed).empty());
            }
    }

    void serializesEveryFixtureByteForByte_data()
    {
        QTest::addColumn<std::string>("fixture");
        QTest::addColumn<std::string>("variant");
        for (const auto& f : test::fixtureNames())
            for (const auto& v : test::variantNames())
                QTest::newRow((f + "/" + v).c_str()) << f << v;
    }

    void serializesEveryFixtureByteForByte()
    {
        QFETCH(std::string, fixture);
        QFETCH(std::string, variant);
        const auto fc = test::loadFixtureCache(fixture, variant);
        const CacheConfig c = loadConfig(fc);
        const std::string again = fc.isInline ? serializeInlineRecords(c.records) : serializeCacheConfig(c);
        QCOMPARE(again, fc.configBytes);
    }

    void serializesKeysExportsByteForByte()
    {
        // The exports made alongside the key dumps (keys/after-cold/exported-cache-config.json).
        for (const auto& f : test::fixtureNames()) {
            const auto path = test::fixturesDir() / "buildkit-v0.24" / f / "keys" / "after-cold" / "exported-cache-config.json";
            const std::string bytes = readFile(path);
            QCOMPARE(serializeCacheConfig(parseCacheConfig(bytes, path.string())), bytes);
        }
    }

    void singleStageLocalMaxContents()
    {
        const auto fc = test::loadFixtureCache("01-single-stage", "local-max");
        const CacheConfig c = parseCacheConfig(fc.configBytes, "01/local-max");
        QCOMPARE(c.records.size(), std::size_t(9));
        QCOMPARE(c.layers.size(), std::size_t(6));

        // The omitempty trap is live in this file: layer 5 has no "parent" key and sits on layer 0.
        QCOMPARE(c.layers[5].blob.str(), std::string("sha256:ea612dbc7d130e5e9cf9b4e7c6106b5c87bbbf18cca436af332a676d505487c5"));
        QCOMPARE(c.layers[5].parent, 0);
        QCOMPARE(c.layers[3].parent, -1); // the busybox base layer
        for (const auto& l : c.layers)
            QVERIFY(!l.annotations); // registry/local exports carry no layer annotations

        // [8] = the last RUN: one input, from [7] (COPY c.txt) with selector sha256("/").
        const Record& run = c.records[8];
        QCOMPARE(run.digest.str(), std::string("sha256:f8972154ae189cc2bc13bceecbd2bcfc95c050037f3b0a784d0580c8b403cd4c"));
        QCOMPARE(run.inputs.size(), std::size_t(1));
        QCOMPARE(run.inputs[0].size(), std::size_t(1));
        QCOMPARE(run.inputs[0][0].link, 7);
        QCOMPARE(run.inputs[0][0].selector, kSlash);
        QCOMPARE(run.results.size(), std::size_t(1));
        QCOMPARE(run.results[0].layer, 1);
        QCOMPARE(run.results[0].createdAt.text, std::string("2026-11-27T15:20:49.477291275Z"));
        // [5] = WORKDIR: input 0 has both image roots as alternatives, no selector.
        QCOMPARE(c.records[5].inputs[0].size(), std::size_t(2));
        QCOMPARE(c.records[5].inputs[0][0].link, 1);
        QCOMPARE(c.records[5].inputs[0][1].link, 6);
        QVERIFY(c.records[5].inputs[0][0].selector.empty());
        // [7] = COPY c.txt: two inputs (the RUN before it, the content key of c.txt).
        QCOMPARE(c.records[7].inputs.size(), std::size_t(2));
        QCOMPARE(c.records[7].inputs[1][0].link, 3);

        const KeyGraph g = KeyGraph::build(c, fc.layers, "01/local-max");
        QCOMPARE(g.rootCount(), std::size_t(4));
        const auto manifestRoot = g.roots(Digest::parse("sha256:29c4ff24848ee89a98e83a7d37d6b6e8e864cafb745f65f06d08b8440ee8439d"));
        const auto configRoot = g.roots(Digest::parse("sha256:82ee9c5619074f439ea0e6b92f56999d0c23a4d5cc27318810960930c9ca81a7"));
        QCOMPARE(manifestRoot.size(), std::size_t(1));
        QCOMPARE(configRoot.size(), std::size_t(1));
        QVERIFY(g.roots(run.digest).empty()); // not a root

        // Walk FROM -> WORKDIR -> COPY a b -> RUN -> COPY c -> RUN as the solver would.
        const Digest workdir = Digest::parse("sha256:807b3e8722c68572736f54d83fd741a5b1d69ccbef218fae52b4149a56d232ce");
        const auto viaManifest = g.children(manifestRoot[0], 0, workdir, "");
        const auto viaConfig = g.children(configRoot[0], 0, workdir, "");
        QCOMPARE(viaManifest.size(), std::size_t(1));
        QCOMPARE(viaManifest, viaConfig); // both alternatives reach the same item
        QVERIFY(g.children(manifestRoot[0], 0, workdir, kSlash).empty()); // selectors must match verbatim
        QVERIFY(g.children(manifestRoot[0], 1, workdir, "").empty());      // and so must the input index

        const Digest copyAb = Digest::parse("sha256:7935d1ad807811979402043648facb8ea9a02b1060d59f16e4b1cc6d6c31c073");
        const auto copyItems = g.children(viaManifest[0], 0, copyAb, "");
        QCOMPARE(copyItems.size(), std::size_t(1));
        const auto contentAb = g.roots(Digest::parse("sha256:2027c203d3525e4c302cd577f11007156a14b2e94a70d0d8e3cd3030309d6e67"));
        QCOMPARE(g.children(contentAb[0], 1, copyAb, ""), copyItems); // input 1: the content key

        const Digest run1 = Digest::parse("sha256:4cf8941dd8b54602c5fa23bf95b8ea6e326d37be9077fe0059cd9ed061431412");
        const auto run1Items = g.children(copyItems[0], 0, run1, kSlash);
        QCOMPARE(run1Items.size(), std::size_t(1));
        QVERIFY(g.children(copyItems[0], 0, run1, "").empty());

        const ItemId last = g.itemOfRecord(8);
        QCOMPARE(g.digest(last), run.digest);
        QCOMPARE(g.item(last).parents[0][0].parent, g.itemOfRecord(7));
        QCOMPARE(g.selector(g.item(last).parents[0][0].selector), kSlash);
        const ResultChain* best = g.bestResult(last);
        QVERIFY(best);
        const auto chain = g.chainLayers(*best);
        QCOMPARE(chain.size(), std::size_t(6));
        const char* expected[] = {
            "sha256:d5f73a2c24a8e00a0532678dcd21244da4a03c08a41a383249bdc22c56a34b34", // busybox
            "sha256:7f056a29b3ddbc30765ba3899c95f670dfa22d2155bcb87733a733c9d538b66c", // WORKDIR
            "sha256:d69d27fe3856e9d40100ef5325ffe5ae89e8afe9d65ca5d5641d5c6aa028a40d", // COPY a b
            "sha256:6488536a5cb1b35c25dfce1b7b72f541ff18a12b6c8b5fd6432e53ebba361d34", // RUN
            "sha256:ea612dbc7d130e5e9cf9b4e7c6106b5c87bbbf18cca436af332a676d505487c5", // COPY c (parent omitted)
            "sha256:657655c435d7e975b72da9325a56d9bf594d9e63caec12a15ec2223e20feac17", // RUN
        };
        for (std::size_t i = 0; i < 6; ++i)
            QCOMPARE(chain[i].digest.str(), std::string(expected[i]));
        QCOMPARE(chain[5].size, std::int64_t(169));
        QCOMPARE(chain[5].annotation(oci::media::AnnotationUncompressed),
                 std::string("sha256:34d37c18e73bed1be761512585cce54060673cce6f36a26997c84b47007fd11e"));
        // The roots carry no results, key-only.
        QVERIFY(!g.bestResult(manifestRoot[0]));
    }

    void missingParentMeansZero()
    {
        // A parser that read a missing parent as "no parent" would give [B] here instead of [A, B].
        const std::string a = d("A"), b = d("B");
        const std::string json = q("{'layers':[{'blob':'") + a + q("','parent':-1},{'blob':'") + b +
                                 q("'}],'records':[{'layers':[{'layer':1,'createdAt':'2026-01-01T00:00:00Z'}],'digest':'") +
                                 d("r") + q("'}]}");
        const CacheConfig c = parseCacheConfig(json, "t");
        QCOMPARE(c.layers[1].parent, 0);
        const KeyGraph g = KeyGraph::build(c, listAll(c), "t");
        const auto chain = g.chainLayers(*g.bestResult(0));
        QCOMPARE(chain.size(), std::size_t(2));
        QCOMPARE(chain[0].digest.str(), a);
        QCOMPARE(chain[1].digest.str(), b);
        // And it is written back without the key, as Go does; -1 is written.
        QCOMPARE(serializeCacheConfig(c), json);
        // An explicit 0 parses the same and is dropped on output, as Go's omitempty does.
        std::string explicitZero = json;
        explicitZero.replace(explicitZero.find(b) + b.size() + 1, 0, q(",'parent':0"));
        QVERIFY(contains(explicitZero, q("'parent':0")));
        QCOMPARE(parseCacheConfig(explicitZero, "t").layers[1].parent, 0);
        QCOMPARE(serializeCacheConfig(parseCacheConfig(explicitZero, "t")), json);
    }

    void toleratesWhatGoTolerates()
    {
        // Unknown keys skipped, keys matched case-insensitively, null leaves a field empty,
        // whitespace anywhere, annotations (gha form) read.
        const std::string json = " {\"Layers\": [ {\"blob\": \"" + d("A") +
                                 "\", \"parent\": -1, \"annotations\": {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\", "
                                 "\"diffID\": \"" + d("diff") + "\", \"size\": 42, \"createdAt\": \"0001-01-01T00:00:00Z\"}, \"x\": [1, {\"y\": null}]} ],\n"
                                 " \"records\": [ {\"DIGEST\": \"" + d("r") + "\", \"inputs\": null, \"chains\": null, \"extra\": true} ], \"future\": {\"a\": [\"\\u00e9\\n\"]} }\n";
        const CacheConfig c = parseCacheConfig(json, "t");
        QCOMPARE(c.layers.size(), std::size_t(1));
        QVERIFY(c.layers[0].annotations.has_value());
        QCOMPARE(c.layers[0].annotations->size, std::int64_t(42));
        QCOMPARE(c.layers[0].annotations->diffId.str(), d("diff"));
        QVERIFY(!c.layers[0].annotations->createdAt.known());
        QCOMPARE(c.records.size(), std::size_t(1));
        QVERIFY(c.records[0].inputs.empty());
        // Annotations keep Go's field order and always write createdAt.
        QCOMPARE(serializeCacheConfig(c),
                 q("{'layers':[{'blob':'") + d("A") + q("','parent':-1,'annotations':{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','diffID':'") +
                     d("diff") + q("','size':42,'createdAt':'0001-01-01T00:00:00Z'}}],'records':[{'digest':'") + d("r") + q("'}]}"));
    }

    void chainsResultsParseAndResolve()
    {
        // The inline/COPY --link form: explicit layer lists, no parents followed.
        const std::string json = q("{'layers':[{'blob':'") + d("A") + q("','parent':-1},{'blob':'") + d("B") +
                                 q("','parent':-1},{'blob':'") + d("C") + q("','parent':1}],'records':[{'chains':[{'layers':[0,2],'createdAt':'0001-01-01T00:00:00Z'}],'digest':'") +
                                 d("r") + q("'}]}");
        const CacheConfig c = parseCacheConfig(json, "t");
        QCOMPARE(c.records[0].chains[0].layers, (std::vector<int>{0, 2}));
        QCOMPARE(serializeCacheConfig(c), json);
        const KeyGraph g = KeyGraph::build(c, listAll(c), "t");
        const auto chain = g.chainLayers(*g.bestResult(0));
        QCOMPARE(chain.size(), std::size_t(2)); // C without its parent B
        QCOMPARE(chain[0].digest.str(), d("A"));
        QCOMPARE(chain[1].digest.str(), d("C"));
        QVERIFY(!g.bestResult(0)->createdAt.known());
    }

    void parserErrorsNameThePath_data()
    {
        QTest::addColumn<std::string>("json");
        QTest::addColumn<std::string>("message");
        const std::string r = d("r");
        QTest::newRow("not json") << std::string("{\"records\": [") << std::string("cfg: invalid JSON at offset 13: unexpected end of input");
        QTest::newRow("trailing data") << std::string("{} {}") << std::string("cfg: invalid JSON at offset 3: unexpected data after the top-level value");
        QTest::newRow("bad escape") << std::string(q("{'a':'\\x'}")) << std::string("invalid escape");
        QTest::newRow("top not object") << std::string("[]") << std::string("cfg: expected an object, found an array");
        QTest::newRow("bad digest") << std::string(q("{'records':[{'digest':'sha256:abc'}]}"))
                                    << std::string("cfg: records[0].digest: invalid digest \"sha256:abc\"");
        QTest::newRow("link is a string") << q("{'records':[{'digest':'") + r + q("'},{'digest':'") + r + q("','inputs':[[{'link':'0'}]]}]}")
                                          << std::string("cfg: records[1].inputs[0][0].link: expected an integer, found a string");
        QTest::newRow("fractional parent") << std::string(q("{'layers':[{'parent':1.5}]}"))
                                           << std::string("cfg: layers[0].parent: expected an integer, found 1.5");
        QTest::newRow("huge link") << q("{'records':[{'digest':'") + r + q("','inputs':[[{'link':99999999999}]]}]}")
                                   << std::string("records[0].inputs[0][0].link: integer 99999999999 is out of range");
        QTest::newRow("bad time") << q("{'records':[{'digest':'") + r + q("','layers':[{'layer':0,'createdAt':'yesterday'}]}]}")
                                  << std::string("cfg: records[0].layers[0].createdAt: invalid time \"yesterday\"");
        QTest::newRow("inputs not array") << q("{'records':[{'digest':'") + r + q("','inputs':{}}]}")
                                          << std::string("cfg: records[0].inputs: expected an array, found an object");
    }

    void parserErrorsNameThePath()
    {
        QFETCH(std::string, json);
        QFETCH(std::string, message);
        const std::string got = errorOf([&] { parseCacheConfig(json, "cfg"); });
        QVERIFY2(contains(got, message), got.c_str());
    }

    void graphErrorsNameTheCause_data()
    {
        QTest::addColumn<std::string>("json");
        QTest::addColumn<std::string>("message");
        const std::string a = d("A"), b = d("B"), r0 = d("r0"), r1 = d("r1"), r2 = d("r2");
        const std::string res = q("'createdAt':'2026-01-01T00:00:00Z'");
        QTest::newRow("looping records")
            << q("{'records':[{'digest':'") + r0 + q("','inputs':[[{'link':2}]]},{'digest':'") + r1 +
                   q("','inputs':[[{'link':0}]]},{'digest':'") + r2 + q("','inputs':[[{'link':1}]]}]}")
            << std::string("cfg: invalid looping record 0");
        QTest::newRow("self link") << q("{'records':[{'digest':'") + r0 + q("','inputs':[[{'link':0}]]}]}")
                                   << std::string("cfg: invalid looping record 0");
        QTest::newRow("link out of range") << q("{'records':[{'digest':'") + r0 + q("'},{'digest':'") + r1 +
                                                  q("','inputs':[[{'link':0},{'link':7}]]}]}")
                                           << std::string("cfg: invalid record ID 7 (record 1 (" + r1 + "), input 0)");
        QTest::newRow("negative link") << q("{'records':[{'digest':'") + r0 + q("','inputs':[[{'link':-1}]]}]}")
                                       << std::string("cfg: invalid record ID -1");
        QTest::newRow("empty input") << q("{'records':[{'digest':'") + r0 + q("'},{'digest':'") + r1 +
                                            q("','inputs':[[{'link':0}],[]]}]}")
                                     << std::string("cfg: invalid empty input for record 1 (input 1)");
        QTest::newRow("looping layers") << q("{'layers':[{'blob':'") + a + q("','parent':1},{'blob':'") + b +
                                               q("'}],'records':[{'layers':[{'layer':0,") + res + q("}],'digest':'") + r0 + q("'}]}")
                                        << std::string("cfg: invalid looping layer 0 (in the chain of record 0)");
        QTest::newRow("layer index out of range")
            << q("{'layers':[{'blob':'") + a + q("','parent':-1}],'records':[{'layers':[{'layer':3,") + res +
                   q("}],'digest':'") + r0 + q("'}]}")
            << std::string("cfg: invalid layer index 3 (result of record 0");
        QTest::newRow("parent index out of range")
            << q("{'layers':[{'blob':'") + a + q("','parent':5}],'records':[{'layers':[{'layer':0,") + res +
                   q("}],'digest':'") + r0 + q("'}]}")
            << std::string("cfg: invalid layer index 5 (parent of layer 0, in the chain of record 0)");
        QTest::newRow("chain index out of range")
            << q("{'layers':[{'blob':'") + a + q("','parent':-1}],'records':[{'chains':[{'layers':[0,1],") + res +
                   q("}],'digest':'") + r0 + q("'}]}")
            << std::string("cfg: invalid layer index 1 (chain of record 0");
        QTest::newRow("no digest") << std::string(q("{'records':[{}]}")) << std::string("cfg: invalid record 0: no digest");
    }

    void graphErrorsNameTheCause()
    {
        QFETCH(std::string, json);
        QFETCH(std::string, message);
        const CacheConfig c = parseCacheConfig(json, "cfg");
        const std::string got = errorOf([&] { KeyGraph::build(c, listAll(c), "cfg"); });
        QVERIFY2(contains(got, message), got.c_str());
    }

    void resultsWithUnlistedBlobsAreDropped()
    {
        const std::string a = d("A"), b = d("B"), r0 = d("r0"), r1 = d("r1");
        const std::string json = q("{'layers':[{'blob':'") + a + q("','parent':-1},{'blob':'") + b +
                                 q("'}],'records':[{'layers':[{'layer':0,'createdAt':'2026-01-01T00:00:00Z'}],'digest':'") + r0 +
                                 q("'},{'layers':[{'layer':1,'createdAt':'2026-01-01T00:00:00Z'}],'digest':'") + r1 +
                                 q("','inputs':[[{'link':0}]]}]}");
        const CacheConfig c = parseCacheConfig(json, "cfg");
        auto listed = listAll(c);
        listed.erase(Digest::parse(b));
        std::vector<SourceProblem> problems;
        const KeyGraph g = KeyGraph::build(c, listed, "cfg", &problems);
        QCOMPARE(g.itemCount(), std::size_t(2)); // the key stays: it still matches, but has no result
        QVERIFY(g.bestResult(g.itemOfRecord(0)));
        QVERIFY(!g.bestResult(g.itemOfRecord(1)));
        QCOMPARE(problems.size(), std::size_t(1));
        QCOMPARE(problems[0].kind, std::string("blob-not-listed"));
        QCOMPARE(problems[0].message, "result of record 1 (" + r1 + ") dropped: blob " + b + " is not listed by the manifest");
    }

    void itemsMergeLikeBuildkit()
    {
        // Records: [0] root R, [1] root R again (roots are unique per digest), [2] X on [0],
        // [3] X on [1] => the same item as [2], [4] Y on [0] and [5] Y on another root with
        // another digest => two items; [6] X on [0] with a selector => a new item.
        const std::string R = d("R"), S = d("S"), X = d("X"), Y = d("Y");
        const std::string json =
            q("{'records':[{'digest':'") + R + q("'},{'digest':'") + R + q("'},{'digest':'") + X +
            q("','inputs':[[{'link':0}]]},{'digest':'") + X + q("','inputs':[[{'link':1}]]},{'digest':'") + Y +
            q("','inputs':[[{'link':0}]]},{'digest':'") + Y + q("','inputs':[[{'link':7}]]},{'digest':'") + X +
            q("','inputs':[[{'selector':'") + kSlash + q("','link':0}]]},{'digest':'") + S + q("'}]}");
        const KeyGraph g = KeyGraph::build(parseCacheConfig(json, "cfg"), {}, "cfg");
        QCOMPARE(g.rootCount(), std::size_t(2));
        QCOMPARE(g.itemOfRecord(0), g.itemOfRecord(1));
        QCOMPARE(g.itemOfRecord(2), g.itemOfRecord(3));
        QVERIFY(g.itemOfRecord(4) != g.itemOfRecord(5));
        QVERIFY(g.itemOfRecord(6) != g.itemOfRecord(2));
        QCOMPARE(g.itemCount(), std::size_t(6)); // R, S, X, Y(on R), Y(on S), X/
        const ItemId root = g.roots(Digest::parse(R))[0];
        QCOMPARE(g.children(root, 0, Digest::parse(X), ""), std::vector<ItemId>{g.itemOfRecord(2)});
        QCOMPARE(g.children(root, 0, Digest::parse(X), kSlash), std::vector<ItemId>{g.itemOfRecord(6)});
    }

    void mergedAlternativesAccumulate()
    {
        // Same digest reached from P on input 0 and from P or Q later: one item, both parents kept.
        const std::string P = d("P"), Q = d("Q"), X = d("X");
        const std::string json = q("{'records':[{'digest':'") + P + q("'},{'digest':'") + Q + q("'},{'digest':'") + X +
                                 q("','inputs':[[{'link':0}]]},{'digest':'") + X + q("','inputs':[[{'link':0},{'link':1}]]}]}");
        const KeyGraph g = KeyGraph::build(parseCacheConfig(json, "cfg"), {}, "cfg");
        QCOMPARE(g.itemOfRecord(2), g.itemOfRecord(3));
        const auto& item = g.item(g.itemOfRecord(2));
        QCOMPARE(item.parents[0].size(), std::size_t(2));
        QCOMPARE(g.children(g.roots(Digest::parse(Q))[0], 0, Digest::parse(X), ""), std::vector<ItemId>{g.itemOfRecord(2)});
    }

    void bestResultIsNewest()
    {
        const std::string a = d("A"), b = d("B"), c = d("C"), r = d("r");
        const std::string json = q("{'layers':[{'blob':'") + a + q("','parent':-1},{'blob':'") + b + q("','parent':-1},{'blob':'") + c +
                                 q("','parent':-1}],'records':[{'layers':[{'layer':0,'createdAt':'2026-01-01T10:00:00+02:00'},{'layer':1,'createdAt':'2026-01-01T09:00:00.5Z'},{'layer':2,'createdAt':'0001-01-01T00:00:00Z'}],'digest':'") +
                                 r + q("'}]}");
        const CacheConfig cfg = parseCacheConfig(json, "cfg");
        const KeyGraph g = KeyGraph::build(cfg, listAll(cfg), "cfg");
        QCOMPARE(g.item(0).results.size(), std::size_t(3));
        // 10:00+02:00 is 08:00Z: older than 09:00:00.5Z; the zero time is unknown and oldest.
        QCOMPARE(g.chainLayers(*g.bestResult(0))[0].digest.str(), b);
    }

    void timestampsParseAndFormat()
    {
        const Timestamp a = Timestamp::parse("2026-11-27T15:20:49.477291275Z", "t");
        QCOMPARE(a.text, std::string("2026-11-27T15:20:49.477291275Z"));
        QCOMPARE(Timestamp::fromNanos(a.nanos).text, a.text);
        QCOMPARE(Timestamp::parse("1970-01-01T00:00:01.5Z", "t").nanos, std::int64_t(1500000000));
        QCOMPARE(Timestamp::parse("1970-01-01T01:00:00+01:00", "t").nanos, std::int64_t(0));
        QCOMPARE(Timestamp::parse("1969-12-31T23:59:59Z", "t").nanos, std::int64_t(-1000000000));
        QCOMPARE(Timestamp::fromNanos(1500000000).text, std::string("1970-01-01T00:00:01.5Z"));
        QVERIFY(!Timestamp::parse("0001-01-01T00:00:00Z", "t").known());
        QVERIFY(Timestamp::parse("2024-02-29T00:00:00Z", "t").known());
        for (const char* bad : {"2023-02-29T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T24:00:00Z",
                                "2026-01-01T00:00:00.Z", "2026-1-01T00:00:00Z", "2026-01-01T00:00:00+0100"}) {
            const std::string got = errorOf([&] { Timestamp::parse(bad, "where"); });
            QVERIFY2(contains(got, "where: invalid time"), bad);
        }
    }

    void damagedInputNeverCrashes()
    {
        // Every prefix and a sweep of single-byte changes of a real config either parses or
        // throws Error; a structural error never escapes as anything else.
        const auto fc = test::loadFixtureCache("02-multi-stage", "local-max");
        const std::string& bytes = fc.configBytes;
        int failures = 0;
        const auto attempt = [&](const std::string& text) {
            try {
                const CacheConfig c = parseCacheConfig(text, "cfg");
                KeyGraph::build(c, fc.layers, "cfg");
            } catch (const Error&) {
                ++failures;
            }
        };
        for (std::size_t n = 0; n < bytes.size(); ++n)
            attempt(bytes.substr(0, n));
        QCOMPARE(failures, int(bytes.size())); // every strict prefix is incomplete JSON
        const char replacements[] = {'"', '}', ']', ',', '9', '-', '\\', 'x', '\0'};
        for (std::size_t i = 0; i < bytes.size(); i += 7)
            for (char r : replacements) {
                std::string damaged = bytes;
                damaged[i] = r;
                attempt(damaged);
            }
    }

    void hostileNestingIsAnError()
    {
        const std::string deep = "{\"future\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
        QVERIFY(contains(errorOf([&] { parseCacheConfig(deep, "cfg"); }), "cfg: invalid JSON at offset"));
        const std::string fine = "{\"future\":" + std::string(100, '[') + std::string(100, ']') + "}";
        QVERIFY(parseCacheConfig(fine, "cfg").records.empty());
    }

    void inlineRecordsRoundTrip()
    {
        const std::string json = q("[{'digest':'") + d("a") + q("'},{'layers':[{'layer':1,'createdAt':'2026-08-01T10:00:00.1Z'}],'digest':'") +
                                 d("b") + q("','inputs':[[{'selector':'") + kSlash + q("','link':0}]]}]");
        const auto records = parseInlineRecords(json, "inline");
        QCOMPARE(records.size(), std::size_t(2));
        QCOMPARE(records[1].results[0].layer, 1);
        QCOMPARE(serializeInlineRecords(records), json);
        QVERIFY(contains(errorOf([] { parseInlineRecords("{}", "inline"); }), "inline: expected an array, found an object"));
    }
};

QTEST_APPLESS_MAIN(TestCacheConfig)
#include "test_cache_config.moc"

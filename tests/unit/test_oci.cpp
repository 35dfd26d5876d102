// Digests, Go-style JSON, media types, descriptors, manifests, the content store and OCI layouts.
#include "base/error.h"
#include "base/go_json.h"
#include "oci/content_store.h"
#include "oci/media_types.h"
#include "base/files.h"
#include "oci/oci_layout.h"
#include "support/fixtures.h"

#include <QTemporaryDir>
#include <QTest>

using namespace cachescope;
using namespace cachescope::oci;
namespace fs = std::filesystem;

class TestOci : public QObject {
    Q_OBJECT
private slots:
    void digestOfKnownInput()
    {
        QCOMPARE(Digest::of("").str(),
                 std::string("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        // sha256("/") is the selector of every plain RUN rootfs link.
        QCOMPARE(Digest::of("/").str(),
                 std::string("sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1"));
    }

    void digestStreamingEqualsOneShot()
    {
        Sha256 h;
        h.update("hello ");
        h.update("world");
        QCOMPARE(h.finish(), Digest::of("hello world"));
    }

    void digestRejectsBadText()
    {
        QVERIFY(!Digest::tryParse("sha256:abc"));
        QVERIFY(!Digest::tryParse("sha256:" + std::string(64, 'A')));
        QVERIFY_THROWS_EXCEPTION(Error, Digest::parse("md5:" + std::string(32, 'a')));
        try {
            Digest::parse("nonsense");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("\"nonsense\"") != std::string::npos);
        }
    }

    void goJsonEscapesLikeGo()
    {
        nlohmann::ordered_json j;
        j["b"] = "a && b > c < d";
        j["a"] = std::string("line\nsep\xe2\x80\xa8 bad\xff");
        QCOMPARE(goJson(j), std::string(R"({"b":"a \u0026\u0026 b \u003e c \u003c d","a":"line\nsep\u2028 bad\ufffd"})"));
    }

    void mediaTypesConvert()
    {
        QCOMPARE(media::toOciLayerType(media::DockerLayerGzip), std::string(media::OciLayerGzip));
        QCOMPARE(media::toDockerLayerType(media::OciLayerZstd), std::string(media::DockerLayerZstd));
        QVERIFY(media::isIndex(media::DockerManifestList));
        QVERIFY(media::isLayer(media::DockerForeignLayerGzip));
        QVERIFY(!media::isLayer(media::BuildkitCacheConfig));
    }

    void detectsManifestKinds()
    {
        QCOMPARE(detectManifestKind(nlohmann::json::parse(R"({"manifests":[]})"), "x"), ManifestKind::Index);
        QCOMPARE(detectManifestKind(nlohmann::json::parse(R"({"config":{}})"), "x"), ManifestKind::Manifest);
        QVERIFY_THROWS_EXCEPTION(Error, detectManifestKind(nlohmann::json::parse(R"({"manifests":[],"layers":[]})"), "x"));
        QVERIFY_THROWS_EXCEPTION(Error, detectManifestKind(nlohmann::json::parse(R"({"foo":1})"), "x"));
    }

    void storeVerifiesAndLeavesNothingPartial()
    {
        QTemporaryDir tmp;
        ContentStore store(tmp.path().toStdString());
        const Digest good = Digest::of("payload");
        store.putExpected(good, "payload");
        QVERIFY(store.has(good));
        QCOMPARE(store.read(good), std::string("payload"));

        const Digest other = Digest::of("other");
        QVERIFY_THROWS_EXCEPTION(Error, store.putExpected(other, "tampered"));
        QVERIFY(!store.has(other));
        {
            auto w = store.openWriter(other, 5);
            w->write("oth");
            // destroyed without commit: a broken transfer
        }
        QVERIFY(!store.has(other));
        QVERIFY(fs::is_empty(store.root() / "ingest"));
    }

    void writerResumesAfterReset()
    {
        QTemporaryDir tmp;
        ContentStore store(tmp.path().toStdString());
        const Digest d = Digest::of("abcdef");
        auto w = store.openWriter(d, 6);
        w->write("abc");
        QCOMPARE(w->offset(), std::int64_t(3));
        w->reset();
        w->write("abcdef");
        w->commit();
        QVERIFY(store.verify(d));
    }

    void layoutReadsFixtureTags()
    {
        auto layout = OciLayout::open(test::cacheVariant("01-single-stage", "registry-max-index"));
        auto desc = layout.findTag("cache-max-index");
        QVERIFY(desc.has_value());
        QCOMPARE(desc->mediaType, std::string(media::OciIndex));
        QVERIFY(layout.blobs().has(desc->digest));
        QVERIFY(!layout.findTag("latest").has_value());
    }

    void layoutMissingIndexIsNamed()
    {
        QTemporaryDir tmp;
        try {
            OciLayout::open(tmp.path().toStdString());
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("index.json not found") != std::string::npos);
        }
    }

    void layoutWritesTagsAtomically()
    {
        QTemporaryDir tmp;
        auto layout = OciLayout::create(tmp.path().toStdString());
        auto a = layout.blobs().put("{}", std::string(media::OciManifest));
        auto b = layout.blobs().put("{\"x\":1}", std::string(media::OciManifest));
        layout.setTag("one", a);
        layout.setTag("two", a);
        layout.setTag("one", b);
        auto index = layout.readIndex();
        QCOMPARE(index.manifests.size(), std::size_t(2));
        QCOMPARE(layout.findTag("one")->digest, b.digest);
        QCOMPARE(layout.findTag("two")->digest, a.digest);
        QCOMPARE(readFile(layout.dir() / "oci-layout"), std::string(R"({"imageLayoutVersion":"1.0.0"})"));
    }
};

QTEST_APPLESS_MAIN(TestOci)
#include "test_oci.moc"

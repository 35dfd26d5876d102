// Cache import over the wire: every registry variant and inline image of every fixture is pushed
// (with the project's own client) to a real docker-registry, imported with type=registry, and
// compared record for record with the same export read from disk. Also: several sources at once
// with failures isolated, a blob deleted from the registry found by preflight, and the CLI's
// --json report against the registry.
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/registry_client.h"
#include "support/graph_shape.h"
#include "support/fixture_cache.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>
#include <set>

using namespace cachescope;

namespace {

const std::vector<std::string> kWireVariants = {"registry-min", "registry-max", "registry-max-index", "inline-image"};

std::string repoFor(const std::string& fixture)
{
    return "ref/" + fixture;
}

} // namespace

class TestRegistryImport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY2(registry_.start(), qPrintable(registry_.errorString()));
        client_ = std::make_unique<registry::RegistryClient>(registry_.host());
        for (const auto& fixture : test::fixtureNames())
            for (const auto& variant : kWireVariants) {
                const auto layout = oci::OciLayout::open(test::cacheVariant(fixture, variant));
                const std::string tag = test::variantTag(variant);
                registry::pushLayoutTag(*client_, layout, tag, repoFor(fixture), tag);
            }
    }

    void importsEveryVariantOverTheWire_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("variant");
        for (const auto& fixture : test::fixtureNames())
            for (const auto& variant : kWireVariants)
                QTest::newRow((fixture + "/" + variant).c_str())
                    << QString::fromStdString(fixture) << QString::fromStdString(variant);
    }

    void importsEveryVariantOverTheWire()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, variant);
        const std::string tag = test::variantTag(variant.toStdString());
        const std::string ref = registry_.host() + "/" + repoFor(fixture.toStdString()) + ":" + tag;
        const auto remote = cache::importSources({cache::parseCacheSpec("type=registry,ref=" + ref)},
                                                 cache::defaultProviderFactory());
        const auto local = cache::importSources(
            {cache::parseCacheSpec("type=local,src=" + test::cacheVariant(fixture.toStdString(), variant.toStdString()).string() +
                                   ",tag=" + tag)},
            cache::defaultProviderFactory());
        QVERIFY2(remote[0].ok, remote[0].error.c_str());
        QVERIFY2(local[0].ok, local[0].error.c_str());

        // What the config says, read without the importer.
        const test::FixtureCache raw = test::loadFixtureCache(fixture.toStdString(), variant.toStdString());
        QCOMPARE(remote[0].manifestDigest, raw.top.digest);
        QCOMPARE(remote[0].form, variant == "inline-image"         ? cache::CacheForm::Inline
                                 : variant == "registry-max-index" ? cache::CacheForm::Index
                                                                   : cache::CacheForm::ImageManifest);
        QCOMPARE(remote[0].layerCount(), raw.isInline ? raw.layers.size() : local[0].layerCount());
        QVERIFY(remote[0].recordCount() > 0);
        QCOMPARE(remote[0].recordCount(), local[0].recordCount());
        QCOMPARE(remote[0].resultCount(), local[0].resultCount());
        QCOMPARE(remote[0].blobBytes, local[0].blobBytes);
        QCOMPARE(remote[0].missingBlobs, std::size_t(0));
        QVERIFY(test::graphShape(remote[0]) == test::graphShape(local[0]));
        QVERIFY2(remote[0].problems.empty(), remote[0].problems.empty() ? "" : remote[0].problems[0].message.c_str());
    }

    void severalSourcesFailuresIsolated()
    {
        const std::string good = registry_.host() + "/" + repoFor("02-multi-stage") + ":cache-max";
        const std::string unknownTag = registry_.host() + "/" + repoFor("02-multi-stage") + ":no-such-tag";
        const std::string unknownRepo = registry_.host() + "/nobody/nothing:cache";
        const auto imported = cache::importSources({cache::parseCacheSpec(good), cache::parseCacheSpec(unknownTag),
                                                    cache::parseCacheSpec("type=registry,ref=" + unknownRepo)},
                                                   cache::defaultProviderFactory());
        QCOMPARE(imported.size(), std::size_t(3));
        QVERIFY2(imported[0].ok, imported[0].error.c_str());
        QVERIFY(!imported[1].ok);
        QVERIFY2(imported[1].error.find("no-such-tag") != std::string::npos, imported[1].error.c_str());
        QVERIFY(!imported[2].ok);
        QVERIFY2(imported[2].error.find("nobody/nothing") != std::string::npos, imported[2].error.c_str());
    }

    void preflightFindsBlobDeletedFromRegistry()
    {
        // A private copy, so the other tests keep a whole cache.
        const auto layout = oci::OciLayout::open(test::cacheVariant("01-single-stage", "registry-max"));
        registry::pushLayoutTag(*client_, layout, "cache-max", "gc/victim", "cache-max");
        const test::FixtureCache raw = test::loadFixtureCache("01-single-stage", "registry-max");
        // The smallest layer: a step's own layer, not the base image's.
        oci::Descriptor victim = raw.layers.begin()->second;
        for (const auto& [digest, desc] : raw.layers)
            if (desc.size < victim.size)
                victim = desc;
        QProcess curl;
        curl.start(QStringLiteral("curl"), {QStringLiteral("-sf"), QStringLiteral("-X"), QStringLiteral("DELETE"),
                                            QStringLiteral("http://%1/v2/gc/victim/blobs/%2")
                                                .arg(QString::fromStdString(registry_.host()),
                                                     QString::fromStdString(victim.digest.str()))});
        QVERIFY(curl.waitForFinished(10000));
        QCOMPARE(curl.exitCode(), 0);

        const auto imported = cache::importSources(
            {cache::parseCacheSpec("type=registry,ref=" + registry_.host() + "/gc/victim:cache-max")},
            cache::defaultProviderFactory());
        QVERIFY2(imported[0].ok, imported[0].error.c_str());
        QCOMPARE(imported[0].missingBlobs, std::size_t(1));
        bool named = false;
        for (const auto& p : imported[0].problems)
            named = named || (p.kind == "missing-blob" && p.message.find(victim.digest.str()) != std::string::npos);
        QVERIFY(named);
    }

    void cliReportsJsonForRegistrySource()
    {
        const QString ref = QString::fromStdString(registry_.host() + "/" + repoFor("03-build-args") + ":cache-max-index");
        QProcess cli;
        cli.start(QStringLiteral(CACHESCOPE_CLI),
                  {QStringLiteral("inspect"), QStringLiteral("--json"), ref,
                   QStringLiteral("type=local,src=/nonexistent/cache-dir")});
        QVERIFY(cli.waitForFinished(30000));
        QCOMPARE(cli.exitCode(), 1); // one source failed
        const QJsonObject doc = QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
        const QJsonArray sources = doc.value("sources").toArray();
        QCOMPARE(sources.size(), 2);
        const QJsonObject ok = sources[0].toObject();
        QCOMPARE(ok.value("spec").toString(), ref);
        QCOMPARE(ok.value("ok").toBool(), true);
        QVERIFY(ok.value("error").isNull());
        QCOMPARE(ok.value("form").toString(), QStringLiteral("index"));
        const test::FixtureCache raw = test::loadFixtureCache("03-build-args", "registry-max-index");
        QCOMPARE(ok.value("manifestDigest").toString(), QString::fromStdString(raw.top.digest.str()));
        QCOMPARE(ok.value("configSize").toInteger(), static_cast<qint64>(raw.configBytes.size()));
        QCOMPARE(static_cast<std::size_t>(ok.value("layers").toInteger()), raw.layers.size() - 0);
        QVERIFY(ok.value("records").toInteger() > 0);
        QVERIFY(ok.value("blobBytes").toInteger() > 1000000); // includes the busybox base layer
        QVERIFY(ok.value("problems").toArray().isEmpty());
        const QJsonObject bad = sources[1].toObject();
        QCOMPARE(bad.value("ok").toBool(), false);
        QVERIFY(bad.value("error").toString().contains(QStringLiteral("/nonexistent/cache-dir")));
    }

private:
    test::RegistryLauncher registry_;
    std::unique_ptr<registry::RegistryClient> client_;
};

QTEST_GUILESS_MAIN(TestRegistryImport)
#include "test_registry_import.moc"

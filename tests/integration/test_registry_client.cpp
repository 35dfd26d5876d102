// The registry client against the real docker-registry: push and pull of blobs, manifests and whole
// layouts, Accept negotiation, mounts, basic and bearer auth, and faults injected by a proxy
// (5xx, cut connections, corrupted bodies, redirects).
#include "base/error.h"
#include "oci/content_store.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/layout_transfer.h"
#include "registry/registry_client.h"
#include "support/fault_proxy.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"
#include "support/token_server.h"

#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <filesystem>
#include <random>

using namespace cachescope;
using namespace cachescope::registry;
using cachescope::test::FaultProxy;
using cachescope::test::RegistryLauncher;
using cachescope::test::TokenServer;
namespace fs = std::filesystem;

namespace {

std::string randomBytes(std::size_t n, unsigned seed)
{
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(s.data() + i, &v, std::min<std::size_t>(8, n - i));
    }
    return s;
}

RegistryOptions fastRetries()
{
    RegistryOptions o;
    o.initialBackoff = std::chrono::milliseconds(10);
    return o;
}

RegistryOptions withCredentials(const std::string& user, const std::string& password)
{
    RegistryOptions o = fastRetries();
    o.credentials = Credentials{user, password, {}};
    return o;
}

std::size_t filesUnder(const fs::path& dir)
{
    std::size_t n = 0;
    std::error_code ec;
    if (!fs::exists(dir, ec))
        return 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            ++n;
    return n;
}

// A small image in a store: a config and `layers` random layers, and its manifest bytes.
struct SmallImage {
    std::vector<oci::Descriptor> blobs;
    oci::Manifest manifest;
    std::string manifestBytes;
};

SmallImage makeImage(oci::ContentStore& store, int layers, std::size_t layerSize, unsigned seed)
{
    SmallImage img;
    img.manifest.mediaType = std::string(oci::media::OciManifest);
    img.manifest.config = store.put(R"({"architecture":"amd64","os":"linux","seed":)" + std::to_string(seed) + "}",
                                    std::string(oci::media::OciConfig));
    img.blobs.push_back(img.manifest.config);
    for (int i = 0; i < layers; ++i) {
        auto d = store.put(randomBytes(layerSize + static_cast<std::size_t>(i), seed * 100 + static_cast<unsigned>(i)),
                           std::string(oci::media::OciLayerGzip));
        img.manifest.layers.push_back(d);
        img.blobs.push_back(d);
    }
    img.manifestBytes = img.manifest.toJson().dump();
    return img;
}

template <typename F>
QString errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

#define START(launcher) QVERIFY2((launcher).start(), qPrintable((launcher).errorString()))

} // namespace

class TestRegistryClient : public QObject {
    Q_OBJECT

    QTemporaryDir dockerConfig_;

private slots:
    void initTestCase()
    {
        // The developer's own ~/.docker/config.json must not change what these tests see.
        qputenv("DOCKER_CONFIG", dockerConfig_.path().toUtf8());
    }

    void pushAndReadBack()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 3, 200000, 1);

        RegistryClient client(reg.host(), fastRetries());
        client.ping();
        QCOMPARE(client.scheme(), std::string("http")); // loopback: plain HTTP
        for (const auto& b : img.blobs)
            QVERIFY(!client.headBlob("test/app", b.digest));
        for (const auto& b : img.blobs)
            client.pushBlob("test/app", b, store);
        for (const auto& b : img.blobs)
            QCOMPARE(client.headBlob("test/app", b.digest), std::optional<std::int64_t>(b.size));
        const oci::Descriptor pushed =
            client.putManifest("test/app", "v1", img.manifestBytes, std::string(oci::media::OciManifest));
        QCOMPARE(pushed.digest, oci::Digest::of(img.manifestBytes));

        auto head = client.headManifest("test/app", "v1");
        QVERIFY(head);
        QCOMPARE(head->digest, pushed.digest);
        QCOMPARE(head->size, pushed.size);
        QCOMPARE(head->mediaType, std::string(oci::media::OciManifest));

        const FetchedManifest got = client.getManifest("test/app", "v1");
        QCOMPARE(got.bytes, img.manifestBytes);
        QCOMPARE(got.descriptor.digest, pushed.digest);
        QCOMPARE(got.descriptor.mediaType, std::string(oci::media::OciManifest));
        QCOMPARE(client.getManifest("test/app", pushed.digest.str()).bytes, img.manifestBytes);

        oci::ContentStore out(dst.path().toStdString());
        std::int64_t lastDone = -1, lastTotal = -1;
        for (const auto& b : img.manifest.layers)
            client.fetchBlob("test/app", b, out, [&](std::int64_t done, std::int64_t total) {
                QVERIFY(done >= lastDone || total != lastTotal);
                lastDone = done;
                lastTotal = total;
            });
        QCOMPARE(lastDone, img.manifest.layers.back().size);
        for (const auto& b : img.manifest.layers) {
            QVERIFY(out.verify(b.digest));
            QCOMPARE(out.read(b.digest), store.read(b.digest));
        }
        QCOMPARE(client.fetchBlobBytes("test/app", img.manifest.config, 1 << 20), store.read(img.manifest.config.digest));
        const QString tooLarge = errorOf([&] { client.fetchBlobBytes("test/app", img.manifest.layers[0], 1000); });
        QVERIFY2(tooLarge.contains("too large"), qPrintable(tooLarge));

        // Pushing again skips what is there: only HEADs reach the registry.
        FaultProxy proxy(reg.host());
        QVERIFY(proxy.start());
        RegistryClient viaProxy(proxy.host(), fastRetries());
        viaProxy.pushBlobs("test/app", img.blobs, store);
        for (const auto& r : proxy.requests())
            QVERIFY2(r.method == "HEAD" || r.target == "/v2/", r.method.constData());
    }

    void acceptNegotiatesDockerAndOciTypes()
    {
        RegistryLauncher reg;
        START(reg);
        RegistryClient client(reg.host(), fastRetries());

        // The inline-cache image BuildKit pushed has a Docker schema 2 manifest.
        const auto inlineLayout = oci::OciLayout::open(test::cacheVariant("01-single-stage", "inline-image"));
        const auto inlineTag = inlineLayout.findTag("inline");
        QVERIFY(inlineTag);
        pushLayoutTag(client, inlineLayout, "inline", "ref/01-single-stage", "inline");
        FetchedManifest docker = client.getManifest("ref/01-single-stage", "inline");
        QCOMPARE(docker.descriptor.mediaType, std::string(oci::media::DockerManifest));
        QCOMPARE(docker.descriptor.digest, inlineTag->digest);
        QCOMPARE(docker.descriptor.size, inlineTag->size);
        QCOMPARE(client.headManifest("ref/01-single-stage", "inline")->mediaType, std::string(oci::media::DockerManifest));

        const auto base = oci::OciLayout::open(test::fixturesDir() / "buildkit-v0.24" / "base-image" / "oci");
        pushLayoutTag(client, base, "latest", "library/busybox", "latest");
        FetchedManifest oci = client.getManifest("library/busybox", "latest");
        QCOMPARE(oci.descriptor.mediaType, std::string(oci::media::OciManifest));
        QCOMPARE(oci.descriptor.digest.str(),
                 std::string("sha256:2722d69496d5e1d6421d9ad0fe69f160c52c8e075ee34c17b95dd0205b17c457"));

        // An index (BuildKit's cache index form) comes back as one.
        const auto indexLayout = oci::OciLayout::open(test::cacheVariant("02-multi-stage", "registry-max-index"));
        pushLayoutTag(client, indexLayout, "cache-max-index", "ref/02-multi-stage", "cache-max-index");
        QCOMPARE(client.getManifest("ref/02-multi-stage", "cache-max-index").descriptor.mediaType,
                 std::string(oci::media::OciIndex));
    }

    void mountsFromAnotherRepository()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 100000, 2);
        RegistryClient direct(reg.host(), fastRetries());
        direct.pushBlob("team/a", img.manifest.layers[0], store);

        FaultProxy proxy(reg.host());
        QVERIFY(proxy.start());
        RegistryClient client(proxy.host(), fastRetries());
        client.pushBlob("team/b", img.manifest.layers[0], store, "team/a");
        bool mounted = false;
        for (const auto& r : proxy.requests()) {
            QVERIFY2(r.method != "PUT" && r.method != "PATCH", "bytes were uploaded although the mount was possible");
            mounted |= r.method == "POST" && r.target.contains("mount=") && r.target.contains("from=team%2Fa");
        }
        QVERIFY(mounted);
        QCOMPARE(client.headBlob("team/b", img.manifest.layers[0].digest), std::optional<std::int64_t>(img.manifest.layers[0].size));

        // A mount the registry cannot do falls back to an upload.
        proxy.clearRequests();
        client.pushBlob("team/c", img.manifest.config, store, "team/nothing-here");
        bool uploaded = false;
        for (const auto& r : proxy.requests())
            uploaded |= r.method == "PUT" && r.target.contains("digest=");
        QVERIFY(uploaded);
        QVERIFY(client.headBlob("team/c", img.manifest.config.digest));
    }

    void htpasswdBasicAuth()
    {
        RegistryLauncher::Options options;
        options.htpasswdUser = "alice";
        options.htpasswdPassword = "correct horse";
        RegistryLauncher reg(options);
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 5000, 3);

        RegistryClient good(reg.host(), withCredentials("alice", "correct horse"));
        good.pushBlobs("secure/app", img.blobs, store);
        good.putManifest("secure/app", "v1", img.manifestBytes, std::string(oci::media::OciManifest));
        QCOMPARE(good.getManifest("secure/app", "v1").bytes, img.manifestBytes);
        oci::ContentStore out(dst.path().toStdString());
        good.fetchBlobs("secure/app", img.blobs, out);
        QVERIFY(out.verify(img.manifest.layers[0].digest));

        RegistryClient wrong(reg.host(), withCredentials("alice", "wrong"));
        QString e = errorOf([&] { wrong.getManifest("secure/app", "v1"); });
        QVERIFY2(e.startsWith("registry " + QString::fromStdString(reg.host()) + ": GET /v2/secure/app/manifests/v1: 401"),
                 qPrintable(e));
        QVERIFY2(e.contains("refused the credentials of user \"alice\""), qPrintable(e));

        RegistryClient anonymous(reg.host(), fastRetries()); // empty DOCKER_CONFIG: no credentials anywhere
        e = errorOf([&] { anonymous.getManifest("secure/app", "v1"); });
        QVERIFY2(e.contains("401 Unauthorized — no credentials for this registry"), qPrintable(e));
        QVERIFY2(e.contains(QString::fromStdString(reg.host())), qPrintable(e));

        // Credentials from the Docker config when none are given.
        QTemporaryDir cfg;
        QFile f(cfg.filePath("config.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"auths\":{\"" + QByteArray::fromStdString(reg.host()) + "\":{\"auth\":\"" +
                QByteArray("alice:correct horse").toBase64() + "\"}}}");
        f.close();
        qputenv("DOCKER_CONFIG", cfg.path().toUtf8());
        RegistryClient fromConfig(reg.host(), fastRetries());
        const auto fetched = fromConfig.getManifest("secure/app", "v1");
        qputenv("DOCKER_CONFIG", dockerConfig_.path().toUtf8());
        QCOMPARE(fetched.bytes, img.manifestBytes);
    }

    void bearerTokenFlow()
    {
        TokenServer tokens;
        QVERIFY2(tokens.start(), qPrintable(tokens.errorString()));
        tokens.requireCredentials("bob", "hunter2");
        RegistryLauncher reg(tokens.registryOptions());
        START(reg);

        QTemporaryDir dst;
        RegistryClient client(reg.host(), withCredentials("bob", "hunter2"));
        const auto base = oci::OciLayout::open(test::fixturesDir() / "buildkit-v0.24" / "base-image" / "oci");
        pushLayoutTag(client, base, "latest", "library/busybox", "latest");
        const int afterPush = tokens.tokensIssued();
        QVERIFY2(afterPush >= 1 && afterPush <= 2, qPrintable(QString::number(afterPush))); // push scope (+ none for pull)

        // Pull scope: one token, reused for every request of that scope.
        for (int i = 0; i < 3; ++i)
            client.getManifest("library/busybox", "latest");
        QVERIFY(client.headManifest("library/busybox", "latest"));
        auto layout = oci::OciLayout::create(dst.path().toStdString());
        pullToLayout(client, "library/busybox", "latest", layout, "latest");
        QCOMPARE(tokens.tokensIssued(), afterPush + 1);
        QVERIFY(tokens.scopesSeen().contains("repository:library/busybox:pull"));
        QVERIFY(tokens.scopesSeen().contains("repository:library/busybox:pull,push"));
        QCOMPARE(layout.findTag("latest")->digest.str(),
                 std::string("sha256:2722d69496d5e1d6421d9ad0fe69f160c52c8e075ee34c17b95dd0205b17c457"));

        RegistryClient wrong(reg.host(), withCredentials("bob", "nope"));
        QString e = errorOf([&] { wrong.getManifest("library/busybox", "latest"); });
        QVERIFY2(e.contains("token server") && e.contains("401") && e.contains("refused the credentials of user \"bob\""),
                 qPrintable(e));
        RegistryClient anonymous(reg.host(), fastRetries());
        e = errorOf([&] { anonymous.getManifest("library/busybox", "latest"); });
        QVERIFY2(e.contains("401") && e.contains("no credentials for this registry"), qPrintable(e));
    }

    void retriesServerErrors()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 1000, 4);
        RegistryClient direct(reg.host(), fastRetries());
        direct.pushBlobs("flaky/app", img.blobs, store);
        direct.putManifest("flaky/app", "v1", img.manifestBytes, std::string(oci::media::OciManifest));

        FaultProxy proxy(reg.host());
        QVERIFY(proxy.start());
        RegistryClient client(proxy.host(), fastRetries());
        client.ping();
        proxy.clearRequests();
        proxy.failNext(2, 500);
        QCOMPARE(client.getManifest("flaky/app", "v1").bytes, img.manifestBytes);
        const auto seen = proxy.requests();
        QCOMPARE(seen.size(), std::size_t(3));
        QCOMPARE(seen[0].answeredStatus, 500);
        QCOMPARE(seen[1].answeredStatus, 500);
        QCOMPARE(seen[2].answeredStatus, 0);

        // 429 is retried too; an upload restarts from a fresh session after a 503.
        proxy.failNext(1, 429);
        QVERIFY(client.headBlob("flaky/app", img.manifest.config.digest));
        const SmallImage other = makeImage(store, 1, 3000, 5);
        proxy.clearRequests();
        proxy.failNext(2, 503); // HEAD, then the POST
        client.pushBlob("flaky/app", other.manifest.layers[0], store);
        QVERIFY(direct.headBlob("flaky/app", other.manifest.layers[0].digest));

        // A registry that keeps failing: a clear error once the retries are used up.
        RegistryOptions few = fastRetries();
        few.maxRetries = 2;
        RegistryClient impatient(proxy.host(), few);
        impatient.ping();
        proxy.failNext(10, 500);
        const QString e = errorOf([&] { impatient.getManifest("flaky/app", "v1"); });
        proxy.failNext(0);
        QVERIFY2(e.contains("GET /v2/flaky/app/manifests/v1") && e.contains("500"), qPrintable(e));
    }

    void connectionRefusedIsRetriedThenReported()
    {
        const quint16 port = test::freeLoopbackPort();
        RegistryOptions few = fastRetries();
        few.maxRetries = 2;
        RegistryClient client("127.0.0.1:" + std::to_string(port), few);
        const QString e = errorOf([&] { client.getManifest("x/y", "z"); });
        QVERIFY2(e.contains("registry 127.0.0.1:" + QString::number(port)) && e.contains("gave up after 2 retries"),
                 qPrintable(e));
    }

    void resumesACutBlob()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 3 << 20, 6);
        const oci::Descriptor layer = img.manifest.layers[0];
        RegistryClient(reg.host(), fastRetries()).pushBlob("big/app", layer, store);

        FaultProxy proxy(reg.host());
        QVERIFY(proxy.start());
        RegistryClient client(proxy.host(), fastRetries());
        const qint64 cut = 1 << 20;
        proxy.cutNextBlobAfter(cut);
        oci::ContentStore out(dst.path().toStdString());
        client.fetchBlob("big/app", layer, out);
        QVERIFY(out.verify(layer.digest));
        QCOMPARE(*out.size(layer.digest), layer.size);

        std::vector<QByteArray> ranges;
        for (const auto& r : proxy.requests())
            if (r.isBlobGet())
                ranges.push_back(r.range);
        QCOMPARE(ranges.size(), std::size_t(2));
        QVERIFY(ranges[0].isEmpty());
        QCOMPARE(ranges[1], "bytes=" + QByteArray::number(cut) + "-");
        QCOMPARE(filesUnder(dst.filePath("ingest").toStdString()), std::size_t(0));
    }

    void corruptBlobLeavesNothing()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 500000, 7);
        const oci::Descriptor layer = img.manifest.layers[0];
        RegistryClient(reg.host(), fastRetries()).pushBlob("bad/app", layer, store);

        FaultProxy proxy(reg.host());
        QVERIFY(proxy.start());
        RegistryClient client(proxy.host(), fastRetries());
        oci::ContentStore out(dst.path().toStdString());
        proxy.corruptNextBlob();
        QString e = errorOf([&] { client.fetchBlob("bad/app", layer, out); });
        QVERIFY2(e.contains("registry " + QString::fromStdString(proxy.host())) && e.contains(QString::fromStdString(layer.digest.str())) &&
                     e.contains("does not match its digest"),
                 qPrintable(e));
        QVERIFY(!out.has(layer.digest));
        QCOMPARE(filesUnder(dst.filePath("blobs").toStdString()), std::size_t(0));
        QCOMPARE(filesUnder(dst.filePath("ingest").toStdString()), std::size_t(0));

        // In memory too.
        proxy.corruptNextBlob();
        e = errorOf([&] { client.fetchBlobBytes("bad/app", layer, 1 << 20); });
        QVERIFY2(e.contains("does not match its digest"), qPrintable(e));

        // A descriptor naming bytes the registry does not have.
        oci::Descriptor missing = layer;
        missing.digest = oci::Digest::of("not pushed");
        e = errorOf([&] { client.fetchBlob("bad/app", missing, out); });
        QVERIFY2(e.contains("blob unknown") && e.contains("404") && e.contains(QString::fromStdString(missing.digest.str())),
                 qPrintable(e));
        QCOMPARE(filesUnder(dst.filePath("blobs").toStdString()), std::size_t(0));
        QCOMPARE(filesUnder(dst.filePath("ingest").toStdString()), std::size_t(0));

        // And a clean fetch afterwards works.
        client.fetchBlob("bad/app", layer, out);
        QVERIFY(out.verify(layer.digest));
    }

    void unknownTagNamesTheRef()
    {
        RegistryLauncher reg;
        START(reg);
        RegistryClient client(reg.host(), fastRetries());
        const QString e = errorOf([&] { client.getManifest("ref/missing", "cache"); });
        const QString ref = QString::fromStdString(reg.host()) + "/ref/missing:cache";
        QVERIFY2(e.contains("manifest unknown (404)") || e.contains("name unknown (404)"), qPrintable(e));
        QVERIFY2(e.contains(ref), qPrintable(e));
        QVERIFY(!client.headManifest("ref/missing", "cache"));
    }

    void fetchesBlobsInParallel()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 12, 300000, 8);
        RegistryOptions options = fastRetries();
        options.parallelism = 4;
        RegistryClient client(reg.host(), options);
        client.pushBlobs("par/app", img.blobs, store);

        oci::ContentStore out(dst.path().toStdString());
        std::int64_t total = 0;
        for (const auto& b : img.blobs)
            total += b.size;
        std::mutex m;
        std::int64_t last = 0, reportedTotal = 0;
        bool monotonic = true;
        std::vector<oci::Descriptor> withDuplicate = img.blobs;
        withDuplicate.push_back(img.blobs[3]);
        client.fetchBlobs("par/app", withDuplicate, out, [&](std::int64_t done, std::int64_t t) {
            std::lock_guard lock(m);
            monotonic &= done >= last;
            last = done;
            reportedTotal = t;
        });
        QVERIFY(monotonic);
        QCOMPARE(reportedTotal, total);
        QCOMPARE(last, total);
        for (const auto& b : img.blobs)
            QVERIFY(out.verify(b.digest));
    }

    void redirectDropsAuthorization()
    {
        RegistryLauncher::Options options;
        options.htpasswdUser = "carol";
        options.htpasswdPassword = "pw";
        RegistryLauncher reg(options);
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 70000, 9);
        RegistryClient(reg.host(), withCredentials("carol", "pw")).pushBlob("r/app", img.manifest.layers[0], store);

        // "Storage" on another origin authorises by itself; the registry front redirects blob GETs there.
        FaultProxy storage(reg.host());
        QVERIFY(storage.start());
        storage.setUpstreamAuthorization("Basic " + QByteArray("carol:pw").toBase64());
        FaultProxy front(reg.host());
        QVERIFY(front.start());
        front.redirectBlobsTo("http://" + QString::fromStdString(storage.host()));

        RegistryClient client(front.host(), withCredentials("carol", "pw"));
        oci::ContentStore out(dst.path().toStdString());
        client.fetchBlob("r/app", img.manifest.layers[0], out);
        QVERIFY(out.verify(img.manifest.layers[0].digest));
        bool redirected = false;
        for (const auto& r : front.requests())
            if (r.isBlobGet()) {
                redirected = r.answeredStatus == 307;
                QVERIFY(r.authorization.startsWith("Basic "));
            }
        QVERIFY(redirected);
        bool fetched = false;
        for (const auto& r : storage.requests())
            if (r.isBlobGet()) {
                fetched = true;
                QVERIFY2(r.authorization.isEmpty(), "the registry's credentials were sent to another origin");
            }
        QVERIFY(fetched);
    }

    void cancelStopsATransferCleanly()
    {
        RegistryLauncher reg;
        START(reg);
        QTemporaryDir src, dst;
        oci::ContentStore store(src.path().toStdString());
        const SmallImage img = makeImage(store, 1, 8 << 20, 10);
        RegistryClient(reg.host(), fastRetries()).pushBlob("cancel/app", img.manifest.layers[0], store);

        std::atomic<bool> cancel{false};
        RegistryOptions options = fastRetries();
        options.cancelled = [&] { return cancel.load(); };
        RegistryClient client(reg.host(), options);
        oci::ContentStore out(dst.path().toStdString());
        const QString e = errorOf([&] {
            client.fetchBlob("cancel/app", img.manifest.layers[0], out, [&](std::int64_t done, std::int64_t) {
                if (done > 0)
                    cancel = true;
            });
        });
        QVERIFY2(e.contains("cancelled") && e.contains("/v2/cancel/app/blobs/"), qPrintable(e));
        QCOMPARE(filesUnder(dst.filePath("blobs").toStdString()), std::size_t(0));
        QCOMPARE(filesUnder(dst.filePath("ingest").toStdString()), std::size_t(0));
        cancel = false;
        client.fetchBlob("cancel/app", img.manifest.layers[0], out);
        QVERIFY(out.verify(img.manifest.layers[0].digest));
    }

    void imageIndexRoundTrip()
    {
        // An image index over two platform manifests: children are pushed before the index, by digest.
        QTemporaryDir src, dst;
        auto layout = oci::OciLayout::create(src.path().toStdString());
        const SmallImage amd64 = makeImage(layout.blobs(), 2, 20000, 11);
        const SmallImage arm64 = makeImage(layout.blobs(), 1, 30000, 12);
        oci::Index index;
        index.mediaType = std::string(oci::media::OciIndex);
        for (const auto* img : {&amd64, &arm64}) {
            oci::Descriptor d = layout.blobs().put(img->manifestBytes, std::string(oci::media::OciManifest));
            d.platform = oci::Platform::parse(img == &amd64 ? "linux/amd64" : "linux/arm64/v8");
            index.manifests.push_back(d);
        }
        const std::string indexBytes = index.toJson().dump();
        const oci::Descriptor top = layout.blobs().put(indexBytes, std::string(oci::media::OciIndex));
        layout.setTag("multi", top);

        RegistryLauncher reg;
        START(reg);
        FaultProxy proxy(reg.host());
        QVERIFY(proxy.start());
        RegistryClient client(proxy.host(), fastRetries());
        QCOMPARE(pushLayoutTag(client, layout, "multi", "multi/app", "v1").digest, top.digest);
        // Order: every blob before any manifest, child manifests (by digest) before the tagged index.
        std::vector<QByteArray> manifestPuts;
        bool manifestSeen = false, blobAfterManifest = false;
        for (const auto& r : proxy.requests()) {
            if (r.method == "PUT" && r.target.contains("/manifests/")) {
                manifestSeen = true;
                manifestPuts.push_back(r.target.mid(r.target.lastIndexOf('/') + 1));
            } else if (r.method == "PUT") {
                blobAfterManifest |= manifestSeen;
            }
        }
        QVERIFY(!blobAfterManifest);
        QCOMPARE(manifestPuts.size(), std::size_t(3));
        QVERIFY(manifestPuts[0].startsWith("sha256:") && manifestPuts[1].startsWith("sha256:"));
        QCOMPARE(manifestPuts[2], QByteArray("v1"));

        auto pulled = oci::OciLayout::create(dst.path().toStdString());
        QCOMPARE(pullToLayout(client, "multi/app", "v1", pulled, "multi").digest, top.digest);
        for (const auto* img : {&amd64, &arm64}) {
            QVERIFY(pulled.blobs().verify(oci::Digest::of(img->manifestBytes)));
            for (const auto& b : img->blobs)
                QVERIFY(pulled.blobs().verify(b.digest));
        }
        QCOMPARE(pulled.findTag("multi")->mediaType, std::string(oci::media::OciIndex));
    }

    void layoutRoundTrips_data()
    {
        QTest::addColumn<QString>("layoutDir");
        QTest::addColumn<QString>("tag");
        QTest::addColumn<QString>("repo");
        const QString root = QString::fromStdString((test::fixturesDir() / "buildkit-v0.24").string());
        QTest::newRow("cache index") << root + "/02-multi-stage/cache/registry-max-index" << "cache-max-index"
                                     << "ref/02-multi-stage";
        QTest::newRow("base image") << root + "/base-image/oci" << "latest" << "library/busybox";
        QTest::newRow("cache manifest") << root + "/01-single-stage/cache/registry-max" << "cache-max"
                                        << "ref/01-single-stage";
    }
    void layoutRoundTrips()
    {
        QFETCH(QString, layoutDir);
        QFETCH(QString, tag);
        QFETCH(QString, repo);
        RegistryLauncher reg;
        START(reg);
        RegistryClient client(reg.host(), fastRetries());
        const auto source = oci::OciLayout::open(layoutDir.toStdString());
        const auto sourceTop = source.findTag(tag.toStdString());
        QVERIFY(sourceTop);
        const oci::Descriptor pushed = pushLayoutTag(client, source, tag.toStdString(), repo.toStdString(), tag.toStdString());
        QCOMPARE(pushed.digest, sourceTop->digest);

        QTemporaryDir dst;
        auto layout = oci::OciLayout::create(dst.path().toStdString());
        const oci::Descriptor pulled = pullToLayout(client, repo.toStdString(), tag.toStdString(), layout, tag.toStdString());
        QCOMPARE(pulled.digest, sourceTop->digest);
        QCOMPARE(pulled.mediaType, sourceTop->mediaType);
        QCOMPARE(pulled.size, sourceTop->size);
        const auto top = layout.findTag(tag.toStdString());
        QVERIFY(top);
        QCOMPARE(top->digest, sourceTop->digest);

        // Every blob the top references (transitively) arrived intact and equals the source's.
        std::vector<oci::Descriptor> pending{*top};
        std::size_t count = 0;
        while (!pending.empty()) {
            const oci::Descriptor d = pending.back();
            pending.pop_back();
            QVERIFY2(layout.blobs().verify(d.digest), d.digest.str().c_str());
            QCOMPARE(layout.blobs().read(d.digest), source.blobs().read(d.digest));
            ++count;
            if (!oci::media::isManifest(d.mediaType) && !oci::media::isIndex(d.mediaType))
                continue;
            const std::string bytes = layout.blobs().read(d.digest);
            if (oci::media::isIndex(d.mediaType))
                for (const auto& c : oci::Index::parse(bytes, "pulled").manifests)
                    pending.push_back(c);
            else {
                const auto m = oci::Manifest::parse(bytes, "pulled");
                pending.push_back(m.config);
                for (const auto& l : m.layers)
                    pending.push_back(l);
            }
        }
        QVERIFY(count >= 3);
        QCOMPARE(filesUnder(dst.filePath("ingest").toStdString()), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestRegistryClient)
#include "test_registry_client.moc"

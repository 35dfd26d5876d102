// Reference grammar, WWW-Authenticate parsing, Docker config credentials (with a real credential helper
// process) and URL helpers of the registry layer.
#include "base/error.h"
#include "registry/auth_challenge.h"
#include "registry/docker_config.h"
#include "registry/http_transport.h"
#include "registry/reference.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstdlib>

using namespace cachescope;
using namespace cachescope::registry;

namespace {

void writeText(const QString& path, const QByteArray& text, QFile::Permissions perms = {})
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(text);
    f.close();
    if (perms)
        f.setPermissions(perms);
}

// Sets an environment variable for the scope of a test.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const QByteArray& value) : name_(name), had_(qEnvironmentVariableIsSet(name)), old_(qgetenv(name))
    {
        qputenv(name, value);
    }
    ~ScopedEnv()
    {
        if (had_)
            qputenv(name_, old_);
        else
            qunsetenv(name_);
    }

private:
    const char* name_;
    bool had_;
    QByteArray old_;
};

// JSON written with single quotes, for readability in C++ literals.
QByteArray json(QByteArray text)
{
    return text.replace('\'', '"');
}

const std::string kDigest = "sha256:" + std::string(64, 'a');

} // namespace

class TestRegistry : public QObject {
    Q_OBJECT
private slots:
    void referenceParses_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("domain");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("tag");
        QTest::addColumn<QString>("digest");
        QTest::addColumn<QString>("normalized");
        const QString d = QString::fromStdString(kDigest);
        QTest::newRow("official image") << "busybox" << "docker.io" << "library/busybox" << "latest" << ""
                                        << "docker.io/library/busybox:latest";
        QTest::newRow("user image") << "user/app" << "docker.io" << "user/app" << "latest" << ""
                                    << "docker.io/user/app:latest";
        QTest::newRow("index.docker.io alias") << "index.docker.io/library/x:1" << "docker.io" << "library/x" << "1" << ""
                                               << "docker.io/library/x:1";
        QTest::newRow("explicit docker.io single") << "docker.io/alpine" << "docker.io" << "library/alpine" << "latest"
                                                   << "" << "docker.io/library/alpine:latest";
        QTest::newRow("localhost with port") << "localhost:5000/x" << "localhost:5000" << "x" << "latest" << ""
                                             << "localhost:5000/x:latest";
        QTest::newRow("localhost without port") << "localhost/x:t" << "localhost" << "x" << "t" << ""
                                                << "localhost/x:t";
        QTest::newRow("tag and digest") << "127.0.0.1:5055/library/busybox:latest@" + d << "127.0.0.1:5055"
                                        << "library/busybox" << "latest" << d
                                        << "127.0.0.1:5055/library/busybox:latest@" + d;
        QTest::newRow("digest only") << "ghcr.io/o/r@" + d << "ghcr.io" << "o/r" << "" << d << "ghcr.io/o/r@" + d;
        QTest::newRow("ipv6") << "[::1]:5000/x" << "[::1]:5000" << "x" << "latest" << "" << "[::1]:5000/x:latest";
        QTest::newRow("dotted domain") << "registry.example.com/a/b/c:v1.2-rc_3" << "registry.example.com" << "a/b/c"
                                       << "v1.2-rc_3" << "" << "registry.example.com/a/b/c:v1.2-rc_3";
        QTest::newRow("separators") << "a/b.c__d-e--f_g" << "docker.io" << "a/b.c__d-e--f_g" << "latest" << ""
                                    << "docker.io/a/b.c__d-e--f_g:latest";
        QTest::newRow("uppercase domain") << "Registry.Example/x" << "Registry.Example" << "x" << "latest" << ""
                                          << "Registry.Example/x:latest";
        QTest::newRow("first component without dot is a path") << "team/app:cache" << "docker.io" << "team/app"
                                                                << "cache" << "" << "docker.io/team/app:cache";
    }
    void referenceParses()
    {
        QFETCH(QString, input);
        const Reference r = Reference::parse(input.toStdString());
        QTEST(QString::fromStdString(r.domain), "domain");
        QTEST(QString::fromStdString(r.path), "path");
        QTEST(QString::fromStdString(r.tag), "tag");
        QTEST(QString::fromStdString(r.digest.str()), "digest");
        QTEST(QString::fromStdString(r.str()), "normalized");
        QCOMPARE(Reference::parse(r.str()), r); // normalising is idempotent
    }

    void referenceRejects_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("cause");
        QTest::newRow("empty") << "" << "empty";
        QTest::newRow("uppercase path") << "docker.io/Library/busybox" << "lowercase";
        QTest::newRow("uppercase single") << "BusyBox" << "lowercase";
        QTest::newRow("bad tag char") << "busybox:la$t" << "invalid tag";
        QTest::newRow("tag starts with dot") << "busybox:.x" << "invalid tag";
        QTest::newRow("tag too long") << "busybox:" + QString(129, 'a') << "invalid tag";
        QTest::newRow("empty tag") << "busybox:" << "invalid tag";
        QTest::newRow("bad digest") << "busybox@sha256:abc" << "invalid digest";
        QTest::newRow("double slash") << "a//b" << "empty path component";
        QTest::newRow("trailing separator") << "a/b-" << "invalid path component";
        QTest::newRow("triple underscore") << "a/b___c" << "invalid path component";
        QTest::newRow("bad domain") << "-bad.example/x" << "invalid registry domain";
        QTest::newRow("bad port") << "host.example:po/x" << "invalid registry domain";
        QTest::newRow("empty domain host") << ":5000/x" << "invalid registry domain";
        QTest::newRow("image id") << QString(64, 'a') << "image ID";
        QTest::newRow("too long") << "example.com/" + QString(250, 'a') << "255";
    }
    void referenceRejects()
    {
        QFETCH(QString, input);
        QFETCH(QString, cause);
        try {
            Reference::parse(input.toStdString());
            QFAIL("expected an error");
        } catch (const Error& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains("\"" + input + "\""), qPrintable(message)); // names the text
            QVERIFY2(message.contains(cause), qPrintable(message));
        }
    }

    void referenceParts()
    {
        const Reference r = Reference::parse("127.0.0.1:5055/ref/app:cache@" + kDigest);
        QCOMPARE(r.repository(), std::string("127.0.0.1:5055/ref/app"));
        QCOMPARE(r.tagOrDigest(), kDigest);
        QCOMPARE(Reference::parse("busybox").tagOrDigest(), std::string("latest"));
        QCOMPARE(Reference::parse("busybox").apiHost(), std::string("registry-1.docker.io"));
        QCOMPARE(r.apiHost(), std::string("127.0.0.1:5055"));
        QVERIFY(r.isLoopback());
        QVERIFY(Reference::parse("localhost/x").isLoopback());
        QVERIFY(Reference::parse("[::1]:5000/x").isLoopback());
        QVERIFY(Reference::parse("127.1.2.3:80/x").isLoopback());
        QVERIFY(!Reference::parse("128.0.0.1:80/x").isLoopback());
        QVERIFY(!Reference::parse("127.example.com/x").isLoopback());
        QVERIFY(!Reference::parse("busybox").isLoopback());
    }

    void challengesParse()
    {
        auto c = parseAuthChallenges(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
            "scope=\"repository:library/busybox:pull\"");
        QCOMPARE(c.size(), std::size_t(1));
        QVERIFY(c[0].isBearer());
        QCOMPARE(c[0].param("realm"), std::string("https://auth.docker.io/token"));
        QCOMPARE(c[0].param("service"), std::string("registry.docker.io"));
        QCOMPARE(c[0].param("scope"), std::string("repository:library/busybox:pull"));

        c = parseAuthChallenges(R"(Basic realm="Registry Realm")");
        QCOMPARE(c.size(), std::size_t(1));
        QVERIFY(c[0].isBasic());
        QCOMPARE(c[0].param("realm"), std::string("Registry Realm"));

        // Several challenges, unquoted values, odd spacing and case, escapes, commas inside quotes.
        c = parseAuthChallenges(
            "basic realm=simple ,  BEARER  Realm=\"http://h/t?a=1,b=2\" , Service = \"s \\\"q\\\" \\\\ x\", error=\"insufficient_scope\"");
        QCOMPARE(c.size(), std::size_t(2));
        QVERIFY(c[0].isBasic());
        QCOMPARE(c[0].param("realm"), std::string("simple"));
        QVERIFY(c[1].isBearer());
        QCOMPARE(c[1].param("realm"), std::string("http://h/t?a=1,b=2"));
        QCOMPARE(c[1].param("service"), std::string("s \"q\" \\ x"));
        QCOMPARE(c[1].param("error"), std::string("insufficient_scope"));

        QVERIFY(parseAuthChallenges("").empty());
        c = parseAuthChallenges("Bearer");
        QCOMPARE(c.size(), std::size_t(1));
        QVERIFY(c[0].params.empty());
        // An unterminated quote takes the rest rather than failing.
        c = parseAuthChallenges("Bearer realm=\"http://x");
        QCOMPARE(c[0].param("realm"), std::string("http://x"));
    }

    void registryKeysNormalize()
    {
        QCOMPARE(normalizeRegistryKey("https://index.docker.io/v1/"), std::string("docker.io"));
        QCOMPARE(normalizeRegistryKey("registry-1.docker.io"), std::string("docker.io"));
        QCOMPARE(normalizeRegistryKey("http://127.0.0.1:5000/v2/"), std::string("127.0.0.1:5000"));
        QCOMPARE(normalizeRegistryKey("GHCR.io"), std::string("ghcr.io"));
    }

    void dockerConfigAuths()
    {
        QTemporaryDir dir;
        const QByteArray userPass = QByteArray("alice:s3cr:et").toBase64();
        writeText(dir.filePath("config.json"), json("{'auths':{"
                                                    "'https://index.docker.io/v1/':{'auth':'" + userPass + "'},"
                                                    "'127.0.0.1:5000':{'username':'bob','password':'pw'},"
                                                    "'http://reg.example:8443/v2/':{'identitytoken':'refresh-me'},"
                                                    "'placeholder.example':{}"
                                                    "}}"));
        ScopedEnv env("DOCKER_CONFIG", dir.path().toUtf8());
        QCOMPARE(DockerConfig::defaultPath().string(), dir.filePath("config.json").toStdString());
        const DockerConfig config = DockerConfig::load();
        auto hub = config.credentialsFor("registry-1.docker.io");
        QVERIFY(hub);
        QCOMPARE(hub->username, std::string("alice"));
        QCOMPARE(hub->password, std::string("s3cr:et")); // only the first ':' separates
        QCOMPARE(config.credentialsFor("docker.io"), hub);
        auto local = config.credentialsFor("127.0.0.1:5000");
        QVERIFY(local);
        QCOMPARE(local->username, std::string("bob"));
        QCOMPARE(local->password, std::string("pw"));
        auto oauth = config.credentialsFor("reg.example:8443");
        QVERIFY(oauth);
        QCOMPARE(oauth->identityToken, std::string("refresh-me"));
        QVERIFY(!config.credentialsFor("placeholder.example"));
        QVERIFY(!config.credentialsFor("127.0.0.1:5001")); // the port is part of the key
    }

    void dockerConfigMissingAndBroken()
    {
        QTemporaryDir dir;
        QVERIFY(!DockerConfig::loadFile(dir.filePath("absent.json").toStdString()).credentialsFor("docker.io"));
        writeText(dir.filePath("bad.json"), "{\"auths\": ");
        try {
            DockerConfig::loadFile(dir.filePath("bad.json").toStdString());
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("bad.json"), e.what());
        }
        writeText(dir.filePath("badauth.json"), R"({"auths":{"x.io":{"auth":"bm9jb2xvbg=="}}})"); // "nocolon"
        QVERIFY_THROWS_EXCEPTION(Error, DockerConfig::loadFile(dir.filePath("badauth.json").toStdString()));
    }

    void credentialHelpers()
    {
        // A real helper process on PATH, speaking the docker-credential-helpers protocol.
        QTemporaryDir dir;
        const QString bin = dir.filePath("bin");
        QVERIFY(QDir().mkpath(bin));
        const auto exec = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
        writeText(bin + "/docker-credential-cstest",
                  "#!/bin/sh\n"
                  "[ \"$1\" = get ] || { echo \"unexpected action $1\" >&2; exit 2; }\n"
                  "read -r server\n"
                  "echo \"$server\" >> \"$(dirname \"$0\")/asked\"\n"
                  "case \"$server\" in\n"
                  "  127.0.0.1:5000) echo '{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"helper-user\",\"Secret\":\"helper-pass\"}' ;;\n"
                  "  https://index.docker.io/v1/) echo '{\"ServerURL\":\"\",\"Username\":\"<token>\",\"Secret\":\"identity-token\"}' ;;\n"
                  "  broken.example) echo \"keychain locked\" >&2; exit 3 ;;\n"
                  "  *) echo \"credentials not found in native keychain\"; exit 1 ;;\n"
                  "esac\n",
                  exec);
        writeText(bin + "/docker-credential-store",
                  "#!/bin/sh\n"
                  "read -r server\n"
                  "echo \"{\\\"Username\\\":\\\"store-user\\\",\\\"Secret\\\":\\\"store-$server\\\"}\"\n",
                  exec);
        writeText(dir.filePath("config.json"),
                  json("{'auths': {'other.example': {'auth': '" + QByteArray("file:user").toBase64() + "'}},"
                       " 'credHelpers': {'127.0.0.1:5000': 'cstest', 'https://index.docker.io/v1/': 'cstest',"
                       "                 'broken.example': 'cstest', 'unknown.example': 'cstest', 'nohelper.example': 'absent'},"
                       " 'credsStore': 'store'}"));
        ScopedEnv path("PATH", (bin + ":" + qEnvironmentVariable("PATH")).toUtf8());
        const DockerConfig config = DockerConfig::loadFile(dir.filePath("config.json").toStdString());

        auto local = config.credentialsFor("127.0.0.1:5000");
        QVERIFY(local);
        QCOMPARE(local->username, std::string("helper-user"));
        QCOMPARE(local->password, std::string("helper-pass"));

        auto hub = config.credentialsFor("registry-1.docker.io");
        QVERIFY(hub);
        QCOMPARE(hub->identityToken, std::string("identity-token"));
        QVERIFY(hub->username.empty());

        QVERIFY(!config.credentialsFor("unknown.example")); // "not found" is not an error
        try {
            config.credentialsFor("broken.example");
            QFAIL("expected an error");
        } catch (const Error& e) {
            const QString m = e.what();
            QVERIFY2(m.contains("docker-credential-cstest") && m.contains("keychain locked") && m.contains("status 3"),
                     qPrintable(m));
        }
        try {
            config.credentialsFor("nohelper.example");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("docker-credential-absent"), e.what());
        }
        // credsStore serves hosts without their own helper.
        auto other = config.credentialsFor("other.example");
        QVERIFY(other);
        QCOMPARE(other->username, std::string("store-user"));
        QCOMPARE(other->password, std::string("store-other.example"));

        QFile asked(bin + "/asked");
        QVERIFY(asked.open(QIODevice::ReadOnly));
        const QByteArray log = asked.readAll();
        QVERIFY2(log.contains("https://index.docker.io/v1/\n"), log.constData()); // Docker Hub's server URL
    }

    void urlHelpers()
    {
        QCOMPARE(resolveUrl("http://127.0.0.1:5000/v2/x/blobs/uploads/", "/v2/x/blobs/uploads/u?_state=a"),
                 std::string("http://127.0.0.1:5000/v2/x/blobs/uploads/u?_state=a"));
        QCOMPARE(resolveUrl("http://a:1/v2/", "https://b/c"), std::string("https://b/c"));
        QCOMPARE(urlOrigin("http://127.0.0.1:5000/v2/"), std::string("http://127.0.0.1:5000"));
        QCOMPARE(urlOrigin("https://example.com/x"), std::string("https://example.com:443"));
        QVERIFY(urlOrigin("http://127.0.0.1:5000/a") != urlOrigin("http://127.0.0.1:5001/a"));
        QCOMPARE(urlPath("http://h:1/v2/x?y=1"), std::string("/v2/x?y=1"));
        QCOMPARE(urlEscape("sha256:ab"), std::string("sha256%3Aab"));
    }
};

QTEST_GUILESS_MAIN(TestRegistry)
#include "test_registry.moc"

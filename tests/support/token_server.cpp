#include "support/token_server.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUrl>
#include <QUrlQuery>
#include <QUuid>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cachescope::test {

struct TokenServer::Keys {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    QByteArray certDer;
    ~Keys()
    {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
};

namespace {

QByteArray base64Url(const QByteArray& bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray httpAnswer(int status, const QByteArray& reason, const QByteArray& body,
                      const QByteArray& extraHeaders = {})
{
    return "HTTP/1.1 " + QByteArray::number(status) + " " + reason + "\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n" + extraHeaders + "\r\n" +
           body;
}

void addExtension(X509* cert, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

} // namespace

TokenServer::TokenServer() : keys_(std::make_unique<Keys>()) {}

TokenServer::~TokenServer()
{
    if (thread_)
        thread_->stop();
}

bool TokenServer::start()
{
    if (!dir_.isValid()) {
        error_ = "cannot create a temporary directory";
        return false;
    }
    keys_->key = EVP_RSA_gen(2048);
    keys_->cert = X509_new();
    if (!keys_->key || !keys_->cert) {
        error_ = "cannot generate an RSA key";
        return false;
    }
    X509* cert = keys_->cert;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, keys_->key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("cachescope test token issuer"),
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    addExtension(cert, NID_basic_constraints, "critical,CA:TRUE");
    addExtension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
    if (X509_sign(cert, keys_->key, EVP_sha256()) == 0) {
        error_ = "cannot sign the certificate";
        return false;
    }
    unsigned char* der = nullptr;
    int derLength = i2d_X509(cert, &der);
    keys_->certDer = QByteArray(reinterpret_cast<const char*>(der), derLength);
    OPENSSL_free(der);

    FILE* pem = std::fopen(rootCertBundle().toLocal8Bit().constData(), "w");
    if (!pem || PEM_write_X509(pem, cert) != 1) {
        if (pem)
            std::fclose(pem);
        error_ = "cannot write " + rootCertBundle();
        return false;
    }
    std::fclose(pem);

    thread_ = std::make_unique<LoopbackServerThread>([this](QTcpServer* server) {
        QObject::connect(server, &QTcpServer::newConnection, server, [this, server] {
            while (QTcpSocket* socket = server->nextPendingConnection()) {
                auto buffer = std::make_shared<QByteArray>();
                QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
                    *buffer += socket->readAll();
                    if (auto request = HttpRequestHead::take(*buffer)) {
                        socket->write(handle(*request));
                        socket->disconnectFromHost();
                    }
                });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    });
    port_ = thread_->startAndWait();
    if (port_ == 0) {
        error_ = "cannot listen on 127.0.0.1";
        return false;
    }
    return true;
}

void TokenServer::requireCredentials(const QString& user, const QString& password)
{
    QMutexLocker lock(&mutex_);
    user_ = user;
    password_ = password;
}

QString TokenServer::realm() const
{
    return QString("http://127.0.0.1:%1/token").arg(port_);
}

QString TokenServer::rootCertBundle() const
{
    return dir_.filePath("token-issuer.pem");
}

RegistryLauncher::Options TokenServer::registryOptions() const
{
    RegistryLauncher::Options o;
    o.tokenRealm = realm();
    o.tokenService = service();
    o.tokenIssuer = issuer();
    o.tokenRootCertBundle = rootCertBundle();
    return o;
}

QStringList TokenServer::scopesSeen() const
{
    QMutexLocker lock(&mutex_);
    return scopes_;
}

QByteArray TokenServer::handle(const HttpRequestHead& request)
{
    ++requests_;
    const QUrl url(QString::fromUtf8(request.target));
    if (url.path() != "/token")
        return httpAnswer(404, "Not Found", R"({"details":"not found"})");
    QUrlQuery query(url);
    // The refresh-token grant posts its parameters as a form.
    if (request.method == "POST")
        query = QUrlQuery(QString::fromUtf8(request.body));
    const QStringList scopes = query.allQueryItemValues("scope", QUrl::FullyDecoded);
    QString subject = "anonymous";
    {
        QMutexLocker lock(&mutex_);
        scopes_ += scopes;
        if (!user_.isEmpty()) {
            const QByteArray expected = "Basic " + (user_ + ":" + password_).toUtf8().toBase64();
            if (request.header("Authorization") != expected)
                return httpAnswer(401, "Unauthorized", R"({"details":"incorrect username or password"})",
                                  "WWW-Authenticate: Basic realm=\"cachescope token server\"\r\n");
            subject = user_;
        }
    }
    if (query.queryItemValue("service", QUrl::FullyDecoded) != service())
        return httpAnswer(400, "Bad Request", R"({"details":"unknown service"})");
    const QByteArray token = issue(subject, scopes);
    ++issued_;
    QJsonObject answer{{"token", QString::fromLatin1(token)},
                       {"access_token", QString::fromLatin1(token)},
                       {"expires_in", 300},
                       {"issued_at", QDateTime::currentDateTimeUtc().toString(Qt::ISODate)}};
    return httpAnswer(200, "OK", QJsonDocument(answer).toJson(QJsonDocument::Compact));
}

QByteArray TokenServer::issue(const QString& subject, const QStringList& scopes) const
{
    QJsonArray access;
    for (const QString& scope : scopes) {
        // "repository:<name>:<action>[,<action>]"
        const qsizetype first = scope.indexOf(':');
        const qsizetype last = scope.lastIndexOf(':');
        if (first < 0 || last <= first)
            continue;
        QJsonArray actions;
        for (const QString& a : scope.mid(last + 1).split(',', Qt::SkipEmptyParts))
            actions.append(a);
        access.append(QJsonObject{{"type", scope.left(first)}, {"name", scope.mid(first + 1, last - first - 1)},
                                  {"actions", actions}});
    }
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QJsonObject header{{"typ", "JWT"}, {"alg", "RS256"},
                       {"x5c", QJsonArray{QString::fromLatin1(keys_->certDer.toBase64())}}};
    QJsonObject claims{{"iss", issuer()},
                       {"sub", subject},
                       {"aud", service()},
                       {"exp", now + 300},
                       {"nbf", now - 10},
                       {"iat", now},
                       {"jti", QUuid::createUuid().toString(QUuid::WithoutBraces)},
                       {"access", access}};
    const QByteArray signingInput = base64Url(QJsonDocument(header).toJson(QJsonDocument::Compact)) + "." +
                                    base64Url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t length = 0;
    QByteArray signature;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, keys_->key) == 1 &&
        EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(signingInput.constData()),
                       static_cast<std::size_t>(signingInput.size())) == 1) {
        signature.resize(static_cast<qsizetype>(length));
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(signingInput.constData()),
                       static_cast<std::size_t>(signingInput.size()));
        signature.resize(static_cast<qsizetype>(length));
    }
    EVP_MD_CTX_free(ctx);
    return signingInput + "." + base64Url(signature);
}

} // namespace cachescope::test

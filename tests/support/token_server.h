#pragma once
// A Docker token server (the "realm" of a Bearer challenge) on 127.0.0.1, on its own thread. It checks
// HTTP basic credentials when told to and issues real RS256 JWTs, signed with a fresh RSA key whose
// self-signed certificate is written to rootCertBundle() and sent in the token's `x5c` header, so the
// real docker-registry (auth: token) validates them.
#include "support/loopback_http.h"
#include "support/registry_launcher.h"

#include <QMutex>
#include <QStringList>
#include <QTemporaryDir>

#include <atomic>
#include <memory>

namespace cachescope::test {

class TokenServer {
public:
    TokenServer();
    ~TokenServer();
    TokenServer(const TokenServer&) = delete;
    TokenServer& operator=(const TokenServer&) = delete;

    // Generates the key and certificate and starts listening. false (see errorString) on failure.
    bool start();
    QString errorString() const { return error_; }

    // From now on tokens require these basic credentials (401 otherwise).
    void requireCredentials(const QString& user, const QString& password);

    QString realm() const;   // http://127.0.0.1:<port>/token
    QString service() const { return "cachescope-registry"; }
    QString issuer() const { return "cachescope-token-server"; }
    QString rootCertBundle() const;
    // Options that make a RegistryLauncher trust this server.
    RegistryLauncher::Options registryOptions() const;

    int tokenRequests() const { return requests_.load(); }
    int tokensIssued() const { return issued_.load(); }
    QStringList scopesSeen() const;

private:
    QByteArray handle(const HttpRequestHead& request);
    QByteArray issue(const QString& subject, const QStringList& scopes) const;

    struct Keys;
    std::unique_ptr<Keys> keys_;
    QTemporaryDir dir_;
    std::unique_ptr<LoopbackServerThread> thread_;
    quint16 port_ = 0;
    QString error_;
    mutable QMutex mutex_;
    QString user_;
    QString password_;
    QStringList scopes_;
    std::atomic<int> requests_{0};
    std::atomic<int> issued_{0};
};

} // namespace cachescope::test

#pragma once
// Starts Debian's real registry (/usr/bin/docker-registry, distribution v2.8) on 127.0.0.1 with a free
// port and a temporary storage directory, always with our own config (nothing from /etc/docker/registry
// or REGISTRY_* variables), optionally with htpasswd basic auth or token auth. Stops it on destruction.
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <memory>
#include <string>

namespace cachescope::test {

class RegistryLauncher {
public:
    struct Options {
        // htpasswd basic auth when user is set (bcrypt entry written with `htpasswd -Bbn`).
        QString htpasswdUser;
        QString htpasswdPassword;
        // Token auth when realm is set (see TokenServer::registryOptions()).
        QString tokenRealm;
        QString tokenService;
        QString tokenIssuer;
        QString tokenRootCertBundle;
    };

    RegistryLauncher();
    explicit RegistryLauncher(Options options);
    ~RegistryLauncher();
    RegistryLauncher(const RegistryLauncher&) = delete;
    RegistryLauncher& operator=(const RegistryLauncher&) = delete;

    // Starts the registry and waits until /v2/ answers. false (see errorString) when it did not come up.
    bool start();
    void stop();

    QString errorString() const { return error_; }
    quint16 port() const { return port_; }
    // "127.0.0.1:<port>"
    std::string host() const;
    QString storageDir() const;
    // What the registry printed so far (its log goes to a file so a blocked test never stalls it).
    QString log() const;

private:
    bool startOnce(QString& why, bool& portTaken);
    bool waitUntilAnswering(QString& why);

    Options options_;
    QTemporaryDir dir_;
    std::unique_ptr<QProcess> process_;
    quint16 port_ = 0;
    QString error_;
};

// A free TCP port on 127.0.0.1 (bound and released; a race with other processes is retried by callers).
quint16 freeLoopbackPort();

} // namespace cachescope::test

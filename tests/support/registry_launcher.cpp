#include "support/registry_launcher.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QProcessEnvironment>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

namespace cachescope::test {

namespace {
constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";
} // namespace

quint16 freeLoopbackPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

RegistryLauncher::RegistryLauncher() : RegistryLauncher(Options{}) {}

RegistryLauncher::RegistryLauncher(Options options) : options_(std::move(options)) {}

RegistryLauncher::~RegistryLauncher()
{
    stop();
}

std::string RegistryLauncher::host() const
{
    return "127.0.0.1:" + std::to_string(port_);
}

QString RegistryLauncher::storageDir() const
{
    return dir_.filePath("storage");
}

QString RegistryLauncher::log() const
{
    QFile f(dir_.filePath("registry.log"));
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

bool RegistryLauncher::start()
{
    if (!dir_.isValid()) {
        error_ = "cannot create a temporary directory";
        return false;
    }
    if (!QFile::exists(kRegistryBinary)) {
        error_ = QString(kRegistryBinary) + " is not installed (Debian package docker-registry)";
        return false;
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
        QString why;
        bool portTaken = false;
        if (startOnce(why, portTaken))
            return true;
        error_ = why;
        stop();
        if (!portTaken)
            return false;
    }
    return false;
}

bool RegistryLauncher::startOnce(QString& why, bool& portTaken)
{
    port_ = freeLoopbackPort();
    if (port_ == 0) {
        why = "no free port on 127.0.0.1";
        return false;
    }
    QString auth;
    if (!options_.htpasswdUser.isEmpty()) {
        QProcess htpasswd;
        htpasswd.start("htpasswd", {"-Bbn", options_.htpasswdUser, options_.htpasswdPassword});
        if (!htpasswd.waitForFinished(30000) || htpasswd.exitCode() != 0) {
            why = "htpasswd (apache2-utils) failed: " + QString::fromUtf8(htpasswd.readAllStandardError());
            return false;
        }
        QFile file(dir_.filePath("htpasswd"));
        if (!file.open(QIODevice::WriteOnly) || file.write(htpasswd.readAllStandardOutput().trimmed() + "\n") < 0) {
            why = "cannot write " + file.fileName();
            return false;
        }
        auth = QString("auth:\n  htpasswd:\n    realm: cachescope-test\n    path: %1\n").arg(file.fileName());
    } else if (!options_.tokenRealm.isEmpty()) {
        auth = QString("auth:\n  token:\n    realm: %1\n    service: %2\n    issuer: %3\n    rootcertbundle: %4\n")
                   .arg(options_.tokenRealm, options_.tokenService, options_.tokenIssuer, options_.tokenRootCertBundle);
    }
    const QString config = QString("version: 0.1\n"
                                   "log:\n  level: info\n  formatter: text\n"
                                   "storage:\n"
                                   "  filesystem:\n    rootdirectory: %1\n"
                                   "  delete:\n    enabled: true\n"
                                   "  cache:\n    blobdescriptor: inmemory\n"
                                   "  maintenance:\n    uploadpurging:\n      enabled: false\n"
                                   "http:\n  addr: 127.0.0.1:%2\n  secret: cachescope-test-secret\n"
                                   "%3")
                               .arg(storageDir())
                               .arg(port_)
                               .arg(auth);
    QFile configFile(dir_.filePath("config.yml"));
    if (!configFile.open(QIODevice::WriteOnly) || configFile.write(config.toUtf8()) < 0) {
        why = "cannot write " + configFile.fileName();
        return false;
    }
    configFile.close();

    process_ = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& key : env.keys())
        if (key.startsWith("REGISTRY_") || key.startsWith("OTEL_"))
            env.remove(key);
    process_->setProcessEnvironment(env);
    process_->setProcessChannelMode(QProcess::MergedChannels);
    process_->setStandardOutputFile(dir_.filePath("registry.log"), QIODevice::Append);
    process_->start(kRegistryBinary, {"serve", configFile.fileName()});
    if (!process_->waitForStarted(10000)) {
        why = "cannot start " + QString(kRegistryBinary) + ": " + process_->errorString();
        return false;
    }
    if (!waitUntilAnswering(why)) {
        portTaken = log().contains("address already in use");
        return false;
    }
    return true;
}

bool RegistryLauncher::waitUntilAnswering(QString& why)
{
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        if (process_->state() != QProcess::Running) {
            why = "docker-registry exited (status " + QString::number(process_->exitCode()) + "):\n" + log();
            return false;
        }
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port_);
        if (socket.waitForConnected(500)) {
            socket.write("GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            socket.waitForBytesWritten(1000);
            QByteArray answer;
            while (socket.waitForReadyRead(1000))
                answer += socket.readAll();
            answer += socket.readAll();
            if (answer.startsWith("HTTP/1.") && (answer.contains(" 200 ") || answer.contains(" 401 ")))
                return true;
        }
        QThread::msleep(50);
    }
    why = "docker-registry did not answer on /v2/ within 20 s:\n" + log();
    return false;
}

void RegistryLauncher::stop()
{
    if (!process_)
        return;
    if (process_->state() != QProcess::NotRunning) {
        process_->terminate();
        if (!process_->waitForFinished(5000)) {
            process_->kill();
            process_->waitForFinished(5000);
        }
    }
    process_.reset();
}

} // namespace cachescope::test

#include "support/fault_proxy.h"

#include <QTcpSocket>

namespace cachescope::test {

struct FaultProxy::Faults {
    QMutex mutex;
    int failCount = 0;
    int failStatus = 500;
    qint64 cutAfter = -1;
    bool corrupt = false;
    QString redirectBase;
    QByteArray upstreamAuthorization;
    std::vector<SeenRequest> seen;
};

namespace {

// What happens to one forwarded answer.
struct Forwarding {
    QByteArray head;       // answer head, until complete
    bool headDone = false;
    qint64 bodyBytes = 0;
    qint64 cutAfter = -1;  // close the client after this many body bytes
    bool corrupt = false;
    bool finished = false;
};

QByteArray reason(int status)
{
    switch (status) {
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 429: return "Too Many Requests";
    case 307: return "Temporary Redirect";
    default: return "Error";
    }
}

} // namespace

FaultProxy::FaultProxy(std::string upstreamHost) : upstream_(std::move(upstreamHost)), faults_(std::make_unique<Faults>()) {}

FaultProxy::~FaultProxy()
{
    if (thread_)
        thread_->stop();
}

std::string FaultProxy::host() const
{
    return "127.0.0.1:" + std::to_string(port_);
}

void FaultProxy::failNext(int n, int status)
{
    QMutexLocker lock(&faults_->mutex);
    faults_->failCount = n;
    faults_->failStatus = status;
}

void FaultProxy::cutNextBlobAfter(qint64 bytes)
{
    QMutexLocker lock(&faults_->mutex);
    faults_->cutAfter = bytes;
}

void FaultProxy::corruptNextBlob()
{
    QMutexLocker lock(&faults_->mutex);
    faults_->corrupt = true;
}

void FaultProxy::redirectBlobsTo(const QString& baseUrl)
{
    QMutexLocker lock(&faults_->mutex);
    faults_->redirectBase = baseUrl;
}

void FaultProxy::setUpstreamAuthorization(const QByteArray& header)
{
    QMutexLocker lock(&faults_->mutex);
    faults_->upstreamAuthorization = header;
}

std::vector<FaultProxy::SeenRequest> FaultProxy::requests() const
{
    QMutexLocker lock(&faults_->mutex);
    return faults_->seen;
}

void FaultProxy::clearRequests()
{
    QMutexLocker lock(&faults_->mutex);
    faults_->seen.clear();
}

bool FaultProxy::start()
{
    const QString upstreamHost = QString::fromStdString(upstream_);
    const quint16 upstreamPort = upstreamHost.section(':', -1).toUShort();
    Faults* faults = faults_.get();

    thread_ = std::make_unique<LoopbackServerThread>([faults, upstreamPort](QTcpServer* server) {
        QObject::connect(server, &QTcpServer::newConnection, server, [faults, upstreamPort, server] {
            while (QTcpSocket* client = server->nextPendingConnection()) {
                auto buffer = std::make_shared<QByteArray>();
                auto handled = std::make_shared<bool>(false);
                QObject::connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                QObject::connect(client, &QTcpSocket::readyRead, client, [=] {
                    *buffer += client->readAll();
                    if (*handled)
                        return;
                    auto request = HttpRequestHead::take(*buffer);
                    if (!request)
                        return;
                    *handled = true;

                    SeenRequest seen{request->method, request->target, request->header("Range"),
                                     request->header("Authorization"), 0};
                    auto forwarding = std::make_shared<Forwarding>();
                    QByteArray injectAuth;
                    QByteArray madeUp;
                    {
                        QMutexLocker lock(&faults->mutex);
                        if (faults->failCount > 0) {
                            --faults->failCount;
                            seen.answeredStatus = faults->failStatus;
                            madeUp = "HTTP/1.1 " + QByteArray::number(faults->failStatus) + " " +
                                     reason(faults->failStatus) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                        } else if (request->isBlobGet() && !faults->redirectBase.isEmpty()) {
                            seen.answeredStatus = 307;
                            madeUp = "HTTP/1.1 307 Temporary Redirect\r\nLocation: " + faults->redirectBase.toUtf8() +
                                     request->target + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                        } else if (request->isBlobGet()) {
                            forwarding->cutAfter = faults->cutAfter;
                            forwarding->corrupt = faults->corrupt;
                            faults->cutAfter = -1;
                            faults->corrupt = false;
                        }
                        if (request->header("Authorization").isEmpty())
                            injectAuth = faults->upstreamAuthorization;
                        faults->seen.push_back(seen);
                    }
                    if (!madeUp.isEmpty()) {
                        client->write(madeUp);
                        client->disconnectFromHost();
                        return;
                    }

                    // Forward with "Connection: close": one request per upstream connection.
                    QByteArray out = request->method + " " + request->target + " HTTP/1.1\r\n";
                    for (const auto& [k, v] : request->headers)
                        if (k.compare("Connection", Qt::CaseInsensitive) != 0 &&
                            k.compare("Keep-Alive", Qt::CaseInsensitive) != 0)
                            out += k + ": " + v + "\r\n";
                    if (!injectAuth.isEmpty())
                        out += "Authorization: " + injectAuth + "\r\n";
                    out += "Connection: close\r\n\r\n" + request->body;

                    auto* upstream = new QTcpSocket(client);
                    QObject::connect(upstream, &QTcpSocket::connected, upstream, [upstream, out] { upstream->write(out); });
                    QObject::connect(upstream, &QTcpSocket::readyRead, upstream, [=] {
                        QByteArray data = upstream->readAll();
                        if (forwarding->finished)
                            return;
                        if (!forwarding->headDone) {
                            forwarding->head += data;
                            const qsizetype end = forwarding->head.indexOf("\r\n\r\n");
                            if (end < 0)
                                return;
                            forwarding->headDone = true;
                            // Faults apply to the blob itself, not to a redirect or an error answer.
                            if (!forwarding->head.startsWith("HTTP/1.1 200") && !forwarding->head.startsWith("HTTP/1.1 206")) {
                                forwarding->cutAfter = -1;
                                forwarding->corrupt = false;
                            }
                            client->write(forwarding->head.left(end + 4));
                            data = forwarding->head.mid(end + 4);
                        }
                        if (forwarding->corrupt && forwarding->bodyBytes == 0 && !data.isEmpty()) {
                            data[0] = static_cast<char>(data[0] ^ 0xff);
                            forwarding->corrupt = false;
                        }
                        if (forwarding->cutAfter >= 0 && forwarding->bodyBytes + data.size() >= forwarding->cutAfter) {
                            client->write(data.left(forwarding->cutAfter - forwarding->bodyBytes));
                            forwarding->finished = true;
                            upstream->abort();
                            client->disconnectFromHost(); // after what was written: a clean early close
                            return;
                        }
                        forwarding->bodyBytes += data.size();
                        client->write(data);
                    });
                    QObject::connect(upstream, &QTcpSocket::disconnected, client, [client] { client->disconnectFromHost(); });
                    QObject::connect(upstream, &QTcpSocket::errorOccurred, client, [client, upstream](QAbstractSocket::SocketError e) {
                        if (e != QAbstractSocket::RemoteHostClosedError && upstream->state() != QAbstractSocket::ConnectedState)
                            client->disconnectFromHost();
                    });
                    upstream->connectToHost(QHostAddress::LocalHost, upstreamPort);
                });
            }
        });
    });
    port_ = thread_->startAndWait();
    return port_ != 0;
}

} // namespace cachescope::test

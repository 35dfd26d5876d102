#pragma once
// Pieces shared by the test servers (TokenServer, FaultProxy): a QThread that runs a QTcpServer on
// 127.0.0.1 with a free port and its own event loop (the engine's client blocks the test thread),
// and a minimal HTTP/1.1 request reader.
#include <QByteArray>
#include <QList>
#include <QPair>
#include <QSemaphore>
#include <QTcpServer>
#include <QThread>

#include <functional>
#include <optional>

namespace cachescope::test {

struct HttpRequestHead {
    QByteArray method;
    QByteArray target; // path and query
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(const QByteArray& name) const
    {
        for (const auto& [k, v] : headers)
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        return {};
    }
    bool isBlobGet() const { return method == "GET" && target.contains("/blobs/sha256:"); }

    // Takes one complete request (head + Content-Length body) off the front of buffer, if there is one.
    static std::optional<HttpRequestHead> take(QByteArray& buffer)
    {
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return std::nullopt;
        HttpRequestHead r;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
        r.method = first.value(0);
        r.target = first.value(1);
        qsizetype length = 0;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon <= 0)
                continue;
            QByteArray name = lines[i].left(colon).trimmed();
            QByteArray value = lines[i].mid(colon + 1).trimmed();
            if (name.compare("Content-Length", Qt::CaseInsensitive) == 0)
                length = value.toLongLong();
            r.headers.append({name, value});
        }
        if (buffer.size() < end + 4 + length)
            return std::nullopt;
        r.body = buffer.mid(end + 4, length);
        buffer.remove(0, end + 4 + length);
        return r;
    }
};

// Runs `setup(server)` on its own thread once the server listens, then that thread's event loop.
class LoopbackServerThread : public QThread {
public:
    explicit LoopbackServerThread(std::function<void(QTcpServer*)> setup) : setup_(std::move(setup)) {}
    ~LoopbackServerThread() override { stop(); }

    // Starts the thread and waits until the server listens; 0 when it could not.
    quint16 startAndWait()
    {
        start();
        ready_.acquire();
        return port_;
    }
    void stop()
    {
        if (isRunning()) {
            quit();
            wait();
        }
    }
    quint16 port() const { return port_; }

protected:
    void run() override
    {
        QTcpServer server;
        if (!server.listen(QHostAddress::LocalHost, 0)) {
            ready_.release();
            return;
        }
        port_ = server.serverPort();
        setup_(&server);
        ready_.release();
        exec();
    }

private:
    std::function<void(QTcpServer*)> setup_;
    QSemaphore ready_;
    quint16 port_ = 0;
};

} // namespace cachescope::test

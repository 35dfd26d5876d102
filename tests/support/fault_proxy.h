#pragma once
// An HTTP proxy on 127.0.0.1 (its own thread) in front of a real registry, that injects faults on
// request: error answers to the next N requests, a connection cut after K bytes of the next blob body,
// a corrupted byte in the next blob body, redirects of blob GETs to another origin. It forwards one
// request per connection and logs every request it saw.
#include "support/loopback_http.h"

#include <QMutex>
#include <QString>

#include <memory>
#include <string>
#include <vector>

namespace cachescope::test {

class FaultProxy {
public:
    struct SeenRequest {
        QByteArray method;
        QByteArray target;
        QByteArray range;         // Range header, if any
        QByteArray authorization; // Authorization header, if any
        int answeredStatus = 0;   // status the proxy made up (0 when forwarded)

        bool isBlobGet() const { return method == "GET" && target.contains("/blobs/sha256:"); }
    };

    // upstream: "127.0.0.1:<port>" of the registry.
    explicit FaultProxy(std::string upstreamHost);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    bool start();
    quint16 port() const { return port_; }
    std::string host() const; // "127.0.0.1:<port>"

    // The next n requests get `status` with an empty body instead of reaching the registry.
    void failNext(int n, int status = 500);
    // The next blob GET answer is cut (connection closed) after `bytes` bytes of its body.
    void cutNextBlobAfter(qint64 bytes);
    // The next blob GET answer has its first body byte flipped.
    void corruptNextBlob();
    // Blob GETs are answered 307 to baseUrl + the same path (until cleared with an empty url).
    void redirectBlobsTo(const QString& baseUrl);
    // Requests that arrive without Authorization are forwarded with this one (a stand-in for
    // storage that authorises a redirected request by its URL).
    void setUpstreamAuthorization(const QByteArray& header);

    std::vector<SeenRequest> requests() const;
    void clearRequests();

private:
    struct Faults;
    std::string upstream_;
    std::unique_ptr<Faults> faults_;
    std::unique_ptr<LoopbackServerThread> thread_;
    quint16 port_ = 0;
};

} // namespace cachescope::test

#pragma once
// One HTTP exchange over libcurl, with bodies streamed in (from a file) and out (to a sink).
// Redirects, auth and retries are the registry client's business: this layer only reports what
// happened, and tells a network failure (TransportError) apart from an HTTP answer.
#include "base/error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::registry {

struct HttpHeader {
    std::string name;
    std::string value;
};

struct HttpResponse {
    long status = 0;
    std::vector<HttpHeader> headers;
    std::string body; // the body, unless a sink took it (2xx answers to requests with a sink)
    std::string url;  // the URL that answered

    // First value of a header (case-insensitive name), or "".
    std::string header(std::string_view name) const;
    std::vector<std::string> headerValues(std::string_view name) const;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    std::string body;                 // request body, unless bodyFd is set
    int bodyFd = -1;                  // stream this file's first bodySize bytes as the body
    std::int64_t bodySize = 0;
    bool verifyTls = true;
    // In-memory bodies (errors, manifests, tokens) larger than this abort the exchange with an Error.
    std::size_t maxBodyBytes = 1 << 20;
    // For a 2xx answer: onHeaders runs once the headers are in, then the body goes to sink.
    std::function<void(const HttpResponse&)> onHeaders;
    std::function<void(const char* data, std::size_t size)> sink;
    // Polled while the exchange runs (also when no bytes flow); true aborts it with a TransportError.
    std::function<bool()> cancelled;
};

// No (complete) HTTP answer: refused, reset, timed out, cut short, TLS failure…
class TransportError : public Error {
public:
    TransportError(const std::string& message, bool transient, bool tlsFailure, bool cancelled = false)
        : Error(message), transient_(transient), tlsFailure_(tlsFailure), cancelled_(cancelled)
    {
    }
    // Worth retrying: connection refused/reset, partial transfer, timeout.
    bool transient() const { return transient_; }
    bool tlsFailure() const { return tlsFailure_; }
    bool cancelled() const { return cancelled_; }

private:
    bool transient_;
    bool tlsFailure_;
    bool cancelled_;
};

class HttpTransport {
public:
    HttpTransport();
    ~HttpTransport();
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    // Performs one request; does not follow redirects. Thread-safe: connections are pooled per handle
    // and each call takes a free handle. Exceptions thrown by onHeaders/sink propagate to the caller.
    HttpResponse perform(const HttpRequest& request);

private:
    struct Pool;
    std::unique_ptr<Pool> pool_;
};

// Resolves a Location header (absolute, or relative to base).
std::string resolveUrl(const std::string& base, const std::string& location);
// "scheme://host:port" of a URL, port made explicit; used to keep credentials on their origin.
std::string urlOrigin(const std::string& url);
// The path and query of a URL ("/v2/x/blobs/uploads/…"), for messages.
std::string urlPath(const std::string& url);
std::string urlEscape(std::string_view text);

} // namespace cachescope::registry

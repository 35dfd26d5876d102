#include "registry/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <mutex>
#include <unistd.h>

namespace cachescope::registry {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trimmed(std::string_view s)
{
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    return std::string(s);
}

void globalInit()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool isTransient(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: // loopback names and flaky DNS alike
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

bool isTlsFailure(CURLcode code)
{
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION ||
           code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CIPHER ||
           code == CURLE_SSL_ENGINE_NOTFOUND || code == CURLE_SSL_ENGINE_SETFAILED;
}

// State of one exchange, shared with libcurl's callbacks. Callbacks must not throw through C code:
// they park the exception here and make libcurl abort.
struct Exchange {
    const HttpRequest* request = nullptr;
    HttpResponse response;
    bool headersDone = false;
    bool toSink = false;
    bool tooLarge = false;
    std::exception_ptr error;
    std::int64_t uploaded = 0;
};

std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* ex = static_cast<Exchange*>(user);
    const std::size_t n = size * count;
    std::string_view line(data, n);
    try {
        if (line.rfind("HTTP/", 0) == 0) { // a new status line: interim answers (100) start over
            ex->response.headers.clear();
            ex->headersDone = false;
            auto space = line.find(' ');
            ex->response.status = space == std::string_view::npos ? 0 : std::atol(std::string(line.substr(space + 1, 3)).c_str());
        } else if (trimmed(line).empty()) {
            if (ex->response.status >= 200) {
                ex->headersDone = true;
                ex->toSink = ex->request->sink && ex->response.status < 300;
                if (ex->toSink && ex->request->onHeaders)
                    ex->request->onHeaders(ex->response);
            }
        } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
            ex->response.headers.push_back({trimmed(line.substr(0, colon)), trimmed(line.substr(colon + 1))});
        }
    } catch (...) {
        ex->error = std::current_exception();
        return 0;
    }
    return n;
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* ex = static_cast<Exchange*>(user);
    const std::size_t n = size * count;
    try {
        if (ex->toSink) {
            ex->request->sink(data, n);
        } else {
            if (ex->response.body.size() + n > ex->request->maxBodyBytes) {
                ex->tooLarge = true;
                return 0;
            }
            ex->response.body.append(data, n);
        }
    } catch (...) {
        ex->error = std::current_exception();
        return 0;
    }
    return n;
}

std::size_t onRead(char* buffer, std::size_t size, std::size_t count, void* user)
{
    auto* ex = static_cast<Exchange*>(user);
    const std::int64_t left = ex->request->bodySize - ex->uploaded;
    const std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(left, static_cast<std::int64_t>(size * count)));
    if (want == 0)
        return 0;
    ssize_t n;
    do {
        n = ::pread(ex->request->bodyFd, buffer, want, ex->uploaded);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return CURL_READFUNC_ABORT;
    ex->uploaded += n;
    return static_cast<std::size_t>(n);
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    auto* ex = static_cast<Exchange*>(user);
    return ex->request->cancelled() ? 1 : 0;
}

int onSeek(void* user, curl_off_t offset, int origin)
{
    // libcurl rewinds the body when it has to send it again (a reused connection closed under it).
    auto* ex = static_cast<Exchange*>(user);
    if (origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    ex->uploaded = offset;
    return CURL_SEEKFUNC_OK;
}

} // namespace

struct HttpTransport::Pool {
    std::mutex mutex;
    std::vector<CURL*> idle;

    ~Pool()
    {
        for (CURL* h : idle)
            curl_easy_cleanup(h);
    }
    CURL* take()
    {
        {
            std::lock_guard lock(mutex);
            if (!idle.empty()) {
                CURL* h = idle.back();
                idle.pop_back();
                return h;
            }
        }
        CURL* h = curl_easy_init();
        if (!h)
            throw Error("cannot initialise libcurl");
        return h;
    }
    void give(CURL* h)
    {
        std::lock_guard lock(mutex);
        idle.push_back(h);
    }
};

HttpTransport::HttpTransport() : pool_(std::make_unique<Pool>())
{
    globalInit();
}

HttpTransport::~HttpTransport() = default;

HttpResponse HttpTransport::perform(const HttpRequest& request)
{
    CURL* h = pool_->take();
    struct Give {
        Pool* pool;
        CURL* h;
        ~Give() { pool->give(h); }
    } give{pool_.get(), h};
    curl_easy_reset(h); // keeps the handle's connection cache

    Exchange ex;
    ex.request = &request;
    ex.response.url = request.url;

    curl_slist* headers = nullptr;
    for (const auto& line : request.headers)
        headers = curl_slist_append(headers, line.c_str());
    // No "Expect: 100-continue" round trip: auth is settled before any large upload.
    headers = curl_slist_append(headers, "Expect:");
    struct FreeHeaders {
        curl_slist* list;
        ~FreeHeaders() { curl_slist_free_all(list); }
    } freeHeaders{headers};

    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cachescope/0.1");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled transfer (under 1 byte/s for a minute) is a timeout, which is retried.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.verifyTls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.verifyTls ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);

    if (request.cancelled) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ex);
    }

    if (request.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.bodyFd >= 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, onRead);
        curl_easy_setopt(h, CURLOPT_READDATA, &ex);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, onSeek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &ex);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.bodySize));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH" || !request.body.empty()) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    CURLcode rc = curl_easy_perform(h);
    if (ex.error)
        std::rethrow_exception(ex.error);
    if (ex.tooLarge)
        throw Error(request.method + " " + urlPath(request.url) + ": response is larger than " +
                    std::to_string(request.maxBodyBytes) + " bytes");
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        throw TransportError("cancelled", false, false, true);
    if (rc != CURLE_OK) {
        std::string detail = errorBuffer[0] ? errorBuffer : curl_easy_strerror(rc);
        throw TransportError(detail, isTransient(rc), isTlsFailure(rc));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    ex.response.status = status;
    // A 2xx answer with an empty body (HEAD, 201) still tells onHeaders what it got.
    return std::move(ex.response);
}

std::string HttpResponse::header(std::string_view name) const
{
    for (const auto& h : headers)
        if (equalsIgnoreCase(h.name, name))
            return h.value;
    return {};
}

std::vector<std::string> HttpResponse::headerValues(std::string_view name) const
{
    std::vector<std::string> out;
    for (const auto& h : headers)
        if (equalsIgnoreCase(h.name, name))
            out.push_back(h.value);
    return out;
}

std::string resolveUrl(const std::string& base, const std::string& location)
{
    CURLU* u = curl_url();
    std::string out = location;
    if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
        char* s = nullptr;
        if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
            out = s;
            curl_free(s);
        }
    }
    curl_url_cleanup(u);
    return out;
}

std::string urlOrigin(const std::string& url)
{
    CURLU* u = curl_url();
    std::string out;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
        char *scheme = nullptr, *host = nullptr, *port = nullptr;
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        out = std::string(scheme ? scheme : "") + "://" + (host ? host : "") + ":" + (port ? port : "");
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
    }
    curl_url_cleanup(u);
    return out;
}

std::string urlPath(const std::string& url)
{
    auto scheme = url.find("://");
    if (scheme == std::string::npos)
        return url;
    auto slash = url.find('/', scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string urlEscape(std::string_view text)
{
    globalInit();
    char* s = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
    std::string out = s ? s : "";
    curl_free(s);
    return out;
}

} // namespace cachescope::registry

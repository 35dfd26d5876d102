#include "registry/registry_client.h"

#include "base/error.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "registry/auth_challenge.h"
#include "registry/http_transport.h"
#include "registry/reference.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

namespace cachescope::registry {

namespace {

using Clock = std::chrono::steady_clock;

// An error this client composed itself: already worded for the user, passed through unchanged.
// `retriable` marks failures a caller that restarts a larger operation (an upload) may try again.
class RegistryError : public Error {
public:
    RegistryError(const std::string& message, bool retriable = false) : Error(message), retriable_(retriable) {}
    bool retriable() const { return retriable_; }

private:
    bool retriable_;
};

std::string base64(std::string_view in)
{
    std::string out(4 * ((in.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string reasonPhrase(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "HTTP error";
    }
}

// The first message of a Distribution API error body ({"errors":[{"code":…,"message":…}]}).
std::string registryMessage(const std::string& body)
{
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object())
        return {};
    auto errors = j.find("errors");
    if (errors == j.end() || !errors->is_array() || errors->empty() || !(*errors)[0].is_object())
        return {};
    const auto& e = (*errors)[0];
    std::string message = e.value("message", "");
    if (message.empty()) {
        message = e.value("code", "");
        std::transform(message.begin(), message.end(), message.begin(), [](unsigned char c) { return c == '_' ? ' ' : std::tolower(c); });
    }
    return message;
}

std::string withoutQuery(const std::string& path)
{
    return path.substr(0, path.find('?'));
}

std::string mediaTypeOf(const std::string& contentType)
{
    std::string t = contentType.substr(0, contentType.find(';'));
    while (!t.empty() && t.back() == ' ')
        t.pop_back();
    return t;
}

bool isRedirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string pullScope(const std::string& repo)
{
    return "repository:" + repo + ":pull";
}

std::string pushScope(const std::string& repo)
{
    return "repository:" + repo + ":pull,push";
}

// Runs fn(i) for i in [0, n) on up to `parallelism` threads. After the first failure no new item
// starts and `cancel` is raised for the ones in flight; that failure is rethrown.
void forEachParallel(std::size_t n, int parallelism, std::atomic<bool>& cancel, const std::function<void(std::size_t)>& fn)
{
    std::atomic<std::size_t> next{0};
    std::exception_ptr first;
    std::mutex mutex;
    auto worker = [&] {
        while (!cancel.load()) {
            const std::size_t i = next++;
            if (i >= n)
                return;
            try {
                fn(i);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!first)
                    first = std::current_exception();
                cancel = true;
            }
        }
    };
    const std::size_t workers = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, parallelism)));
    std::vector<std::thread> threads;
    for (std::size_t w = 1; w < workers; ++w)
        threads.emplace_back(worker);
    worker();
    for (auto& t : threads)
        t.join();
    if (first)
        std::rethrow_exception(first);
}

struct SchemeChoice {
    std::string scheme;
    bool verifyTls;
};

} // namespace

struct RegistryClient::Impl {
    // One logical request: auth, retries and redirects are applied around it.
    struct Call {
        std::string method = "GET";
        std::string path; // "/v2/…", or an absolute URL (upload locations)
        std::vector<std::string> headers;
        std::vector<std::string> scopes;
        std::string body;
        int bodyFd = -1;
        std::int64_t bodySize = 0;
        std::size_t maxBodyBytes = 1 << 20;
        int maxRetries = -1; // -1: options.maxRetries
        std::function<void()> beforeAttempt;
        std::function<bool()> progressed; // true when the failed attempt still moved a transfer forward
        std::function<void(const HttpResponse&)> onHeaders;
        std::function<void(const char*, std::size_t)> sink;
        const std::atomic<bool>* stop = nullptr; // raised when a sibling transfer failed
    };

    struct CachedToken {
        std::string token;
        std::optional<Clock::time_point> expires;
    };

    std::string host;
    RegistryOptions options;
    HttpTransport http;

    std::mutex pingMutex;
    std::mutex mutex; // guards everything below
    bool pinged = false;
    std::string scheme;
    bool verifyTls = true;
    std::optional<AuthChallenge> challenge;
    bool credentialsLoaded = false;
    std::optional<Credentials> credentials;
    std::map<std::string, CachedToken> tokens;
    std::mutex tokenMutex; // one token request at a time, so parallel transfers share one token
    std::atomic<int> tokenRequestCount{0};

    Impl(std::string h, RegistryOptions o) : host(std::move(h)), options(std::move(o)) {}

    std::string prefix() const { return "registry " + host; }

    std::string describe(const Call& call, const std::string& url) const
    {
        return prefix() + ": " + call.method + " " + withoutQuery(url.empty() ? call.path : urlPath(url));
    }

    std::string baseUrl()
    {
        std::lock_guard lock(mutex);
        return scheme + "://" + host;
    }

    std::string statusText(const HttpResponse& r) const
    {
        if (r.status == 401 || r.status == 403)
            return std::to_string(r.status) + " " + reasonPhrase(r.status);
        std::string message = registryMessage(r.body);
        return message.empty() ? std::to_string(r.status) + " " + reasonPhrase(r.status)
                               : message + " (" + std::to_string(r.status) + ")";
    }

    [[noreturn]] void fail(const Call& call, const HttpResponse& r, const std::string& hint = {}) const
    {
        std::string message = describe(call, r.url) + ": " + statusText(r);
        if (!hint.empty())
            message += " — " + hint;
        else if (r.status == 401 || r.status == 403) {
            if (std::string m = registryMessage(r.body); !m.empty())
                message += " — " + m;
        }
        throw RegistryError(message, r.status == 429 || r.status >= 500);
    }

    static Call callFor(std::string method, std::string path)
    {
        Call c;
        c.method = std::move(method);
        c.path = std::move(path);
        return c;
    }

    bool isCancelled(const Call& call) const
    {
        return (call.stop && call.stop->load()) || (options.cancelled && options.cancelled());
    }

    void throwIfCancelled(const Call& call) const
    {
        if (isCancelled(call))
            throw RegistryError(describe(call, "") + ": cancelled");
    }

    // Sleeps between retries, waking early to honour a cancel.
    void pause(const Call& call, std::chrono::milliseconds delay) const
    {
        const auto until = Clock::now() + delay;
        while (Clock::now() < until) {
            throwIfCancelled(call);
            std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
        }
    }

    std::chrono::milliseconds backoff(int attempt) const
    {
        auto delay = options.initialBackoff * (1LL << std::min(attempt, 16));
        return std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(10));
    }

    std::chrono::milliseconds retryDelay(const HttpResponse& r, int attempt) const
    {
        const std::string after = r.header("Retry-After");
        if (!after.empty()) {
            if (std::all_of(after.begin(), after.end(), ::isdigit))
                return std::min<std::chrono::milliseconds>(std::chrono::seconds(std::stoll(after.substr(0, 6))),
                                                           std::chrono::seconds(30));
            if (time_t when = curl_getdate(after.c_str(), nullptr); when > 0) {
                auto seconds = std::max<long long>(0, static_cast<long long>(when - ::time(nullptr)));
                return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), std::chrono::seconds(30));
            }
        }
        return backoff(attempt);
    }

    // --- credentials and tokens ------------------------------------------------------------------

    std::optional<Credentials> loadCredentials()
    {
        std::lock_guard lock(mutex);
        if (!credentialsLoaded) {
            if (options.credentials) {
                credentials = options.credentials;
            } else {
                try {
                    credentials = DockerConfig::load().credentialsFor(host);
                } catch (const std::exception& e) {
                    throw RegistryError(prefix() + ": credentials: " + e.what());
                }
            }
            credentialsLoaded = true;
        }
        return credentials;
    }

    static std::string scopeKey(std::vector<std::string> scopes)
    {
        std::sort(scopes.begin(), scopes.end());
        std::string key;
        for (const auto& s : scopes)
            key += s + " ";
        return key;
    }

    std::string fetchToken(const AuthChallenge& c, const std::vector<std::string>& scopes)
    {
        const std::string realm = c.param("realm");
        if (realm.empty())
            throw RegistryError(prefix() + ": bearer challenge without a realm");
        const std::string service = c.param("service");
        auto creds = loadCredentials();
        std::string query;
        auto add = [&](const std::string& k, const std::string& v) {
            query += (query.empty() ? "" : "&") + k + "=" + urlEscape(v);
        };
        if (!service.empty())
            add("service", service);
        for (const auto& s : scopes)
            add("scope", s);

        HttpRequest req;
        req.verifyTls = !options.insecure;
        req.cancelled = options.cancelled;
        if (creds && !creds->identityToken.empty()) {
            // OAuth2 refresh-token grant, as Docker does for identity tokens.
            add("grant_type", "refresh_token");
            add("refresh_token", creds->identityToken);
            add("client_id", "cachescope");
            req.method = "POST";
            req.url = realm;
            req.body = query;
            req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
        } else {
            req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
            if (creds)
                req.headers.push_back("Authorization: Basic " + base64(creds->username + ":" + creds->password));
        }
        const std::string what = prefix() + ": token server " + withoutQuery(realm);
        HttpResponse r;
        for (int attempt = 0;; ++attempt) {
            ++tokenRequestCount;
            try {
                r = http.perform(req);
            } catch (const TransportError& e) {
                if (e.transient() && attempt < options.maxRetries) {
                    pause(callFor(req.method, withoutQuery(realm)), backoff(attempt));
                    continue;
                }
                throw RegistryError(what + ": " + e.what());
            }
            if ((r.status == 429 || r.status >= 500) && attempt < options.maxRetries) {
                pause(callFor(req.method, withoutQuery(realm)), retryDelay(r, attempt));
                continue;
            }
            break;
        }
        if (r.status == 401 || r.status == 403)
            throw RegistryError(what + ": " + std::to_string(r.status) + " " + reasonPhrase(r.status) + " — " +
                                (creds ? "the token server refused the credentials of user \"" + creds->username + "\""
                                       : std::string("no credentials for this registry")));
        if (r.status != 200)
            throw RegistryError(what + ": " + std::to_string(r.status) + " " + reasonPhrase(r.status));
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        std::string token;
        if (j.is_object()) {
            token = j.value("token", "");
            if (token.empty())
                token = j.value("access_token", "");
        }
        if (token.empty())
            throw RegistryError(what + ": the answer has no \"token\" or \"access_token\"");
        CachedToken cached{token, std::nullopt};
        if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
            auto seconds = std::max<long long>(j["expires_in"].get<long long>(), 60);
            cached.expires = Clock::now() + std::chrono::seconds(seconds - 10);
        }
        std::lock_guard lock(mutex);
        tokens[scopeKey(scopes)] = cached;
        return token;
    }

    // The Authorization header for a request, from what the registry asked for so far ("" for none).
    std::string authorization(const std::vector<std::string>& scopes, bool refresh)
    {
        std::optional<AuthChallenge> c;
        {
            std::lock_guard lock(mutex);
            c = challenge;
        }
        if (!c)
            return {};
        if (c->isBasic()) {
            auto creds = loadCredentials();
            if (!creds)
                return {};
            return "Authorization: Basic " + base64(creds->username + ":" + creds->password);
        }
        if (!c->isBearer())
            return {};
        const std::string key = scopeKey(scopes);
        std::lock_guard fetching(tokenMutex);
        {
            std::lock_guard lock(mutex);
            auto it = tokens.find(key);
            if (it != tokens.end() && !refresh && (!it->second.expires || Clock::now() < *it->second.expires))
                return "Authorization: Bearer " + it->second.token;
            if (it != tokens.end())
                tokens.erase(it);
        }
        return "Authorization: Bearer " + fetchToken(*c, scopes);
    }

    // Updates the known challenge from a 401 answer; false when it carries none we can answer.
    bool learnChallenge(const HttpResponse& r, std::vector<std::string>& scopes)
    {
        std::string all;
        for (const auto& v : r.headerValues("WWW-Authenticate"))
            all += v + ", ";
        std::optional<AuthChallenge> picked;
        for (const auto& c : parseAuthChallenges(all))
            if (c.isBearer() || (c.isBasic() && !picked))
                picked = c;
        if (!picked)
            return false;
        // A registry may ask for more than we did (insufficient_scope names what it wants).
        if (std::string s = picked->param("scope"); picked->isBearer() && !s.empty())
            if (std::find(scopes.begin(), scopes.end(), s) == scopes.end())
                scopes.push_back(s);
        std::lock_guard lock(mutex);
        challenge = picked;
        return true;
    }

    // --- requests --------------------------------------------------------------------------------

    HttpResponse followRedirects(const Call& call, const std::string& auth)
    {
        const std::string base = baseUrl();
        std::string url = call.path.rfind("/", 0) == 0 ? base + call.path : call.path;
        const std::string origin = urlOrigin(base);
        std::string method = call.method;
        bool verify;
        {
            std::lock_guard lock(mutex);
            verify = verifyTls;
        }
        for (int hop = 0; hop < 10; ++hop) {
            HttpRequest req;
            req.method = method;
            req.url = url;
            req.headers = call.headers;
            // The registry's credentials stay with the registry: a redirect to storage elsewhere
            // (S3, a CDN) gets a URL that carries its own authorisation.
            if (!auth.empty() && urlOrigin(url) == origin)
                req.headers.push_back(auth);
            if (method == call.method) {
                req.body = call.body;
                req.bodyFd = call.bodyFd;
                req.bodySize = call.bodySize;
            }
            req.verifyTls = urlOrigin(url) == origin ? verify : !options.insecure;
            req.maxBodyBytes = call.maxBodyBytes;
            req.onHeaders = call.onHeaders;
            req.sink = call.sink;
            if (options.cancelled || call.stop)
                req.cancelled = [this, stop = call.stop] {
                    return (stop && stop->load()) || (options.cancelled && options.cancelled());
                };
            HttpResponse r = http.perform(req);
            const std::string location = r.header("Location");
            if (!isRedirect(r.status) || location.empty() || call.method == "POST" || call.method == "PUT")
                return r;
            url = resolveUrl(url, location);
            if (r.status == 303)
                method = "GET";
        }
        throw RegistryError(describe(call, "") + ": too many redirects");
    }

    HttpResponse sendAuthorized(const Call& call)
    {
        std::vector<std::string> scopes = call.scopes;
        std::string auth = authorization(scopes, false);
        HttpResponse r = followRedirects(call, auth);
        if (r.status != 401)
            return r;
        auto creds = loadCredentials();
        if (!learnChallenge(r, scopes))
            fail(call, r, creds ? "the registry refused the credentials of user \"" + creds->username + "\""
                                : "no credentials for this registry");
        bool basic;
        {
            std::lock_guard lock(mutex);
            basic = challenge->isBasic();
        }
        if (basic && !creds)
            fail(call, r, "no credentials for this registry");
        const std::string retryAuth = authorization(scopes, true);
        if (basic && retryAuth == auth)
            fail(call, r, "the registry refused the credentials of user \"" + creds->username + "\"");
        r = followRedirects(call, retryAuth);
        if (r.status == 401)
            fail(call, r, creds ? "the registry refused the credentials of user \"" + creds->username + "\""
                                : "no credentials for this registry (anonymous access was refused)");
        return r;
    }

    // Sends with auth, redirects and retries (429/5xx, transient network errors). A final 429/5xx
    // answer is returned for the caller to report.
    HttpResponse send(const Call& call)
    {
        ensurePinged();
        const int maxRetries = call.maxRetries >= 0 ? call.maxRetries : options.maxRetries;
        int attempt = 0;
        int progressedAttempts = 0;
        while (true) {
            throwIfCancelled(call);
            if (call.beforeAttempt)
                call.beforeAttempt();
            HttpResponse r;
            try {
                r = sendAuthorized(call);
            } catch (const TransportError& e) {
                if (e.cancelled())
                    throw RegistryError(describe(call, "") + ": cancelled");
                // A transfer that moved forward before breaking resumes without using up a retry.
                if (e.transient() && call.progressed && call.progressed() && progressedAttempts < 1000) {
                    ++progressedAttempts;
                    continue;
                }
                if (e.transient() && attempt < maxRetries) {
                    pause(call, backoff(attempt++));
                    continue;
                }
                throw RegistryError(describe(call, "") + ": " + e.what() +
                                        (attempt > 0 ? " (gave up after " + std::to_string(attempt) + " retries)" : ""),
                                    e.transient());
            } catch (const RegistryError&) {
                throw;
            } catch (const std::exception& e) {
                throw RegistryError(describe(call, "") + ": " + e.what());
            }
            if ((r.status == 429 || r.status >= 500) && attempt < maxRetries) {
                pause(call, retryDelay(r, attempt++));
                continue;
            }
            return r;
        }
    }

    // --- ping ------------------------------------------------------------------------------------

    std::vector<SchemeChoice> schemeCandidates() const
    {
        if (isLoopbackHost(host))
            return {{"http", false}, {"https", !options.insecure}};
        if (options.insecure)
            return {{"https", false}, {"http", false}};
        return {{"https", true}};
    }

    void ensurePinged(bool force = false)
    {
        std::lock_guard pingLock(pingMutex);
        {
            std::lock_guard lock(mutex);
            if (pinged && !force)
                return;
        }
        const std::string what = prefix() + ": GET /v2/";
        HttpResponse r;
        SchemeChoice chosen{"https", true};
        for (int attempt = 0;; ++attempt) {
            std::optional<TransportError> lastError;
            bool answered = false;
            for (const auto& candidate : schemeCandidates()) {
                HttpRequest req;
                req.url = candidate.scheme + "://" + host + "/v2/";
                req.verifyTls = candidate.verifyTls;
                req.cancelled = options.cancelled;
                try {
                    r = http.perform(req);
                    chosen = candidate;
                    answered = true;
                    break;
                } catch (const TransportError& e) {
                    if (!lastError || !e.transient()) // keep the most telling error (TLS over "refused")
                        lastError = e;
                }
            }
            if (!answered) {
                if (lastError->transient() && attempt < options.maxRetries) {
                    pause(callFor("GET", "/v2/"), backoff(attempt));
                    continue;
                }
                throw RegistryError(what + ": " + lastError->what() +
                                        (attempt > 0 ? " (gave up after " + std::to_string(attempt) + " retries)" : ""),
                                    lastError->transient());
            }
            if ((r.status == 429 || r.status >= 500) && attempt < options.maxRetries) {
                pause(callFor("GET", "/v2/"), retryDelay(r, attempt));
                continue;
            }
            break;
        }
        std::optional<AuthChallenge> learned;
        if (r.status == 401) {
            std::string all;
            for (const auto& v : r.headerValues("WWW-Authenticate"))
                all += v + ", ";
            for (const auto& c : parseAuthChallenges(all))
                if (c.isBearer() || (c.isBasic() && !learned))
                    learned = c;
        } else if (r.status == 404) {
            throw RegistryError(what + ": 404 Not Found — " + host + " does not serve the registry API (/v2/)");
        } else if (r.status != 200) {
            Call call;
            call.path = "/v2/";
            fail(call, r);
        }
        std::lock_guard lock(mutex);
        scheme = chosen.scheme;
        verifyTls = chosen.verifyTls;
        challenge = learned;
        pinged = true;
    }

    std::string refName(const std::string& repo, const std::string& tagOrDigest) const
    {
        return host + "/" + repo + (oci::Digest::tryParse(tagOrDigest) ? "@" : ":") + tagOrDigest;
    }

    // --- blobs -----------------------------------------------------------------------------------

    void fetchBlob(const std::string& repo, const oci::Descriptor& desc, oci::ContentStore& store,
                   const ProgressFn& progress, const std::atomic<bool>* cancel)
    {
        const std::int64_t total = desc.size;
        if (store.has(desc.digest)) {
            if (progress)
                progress(total, total);
            return;
        }
        auto writer = store.openWriter(desc.digest, desc.size > 0 ? desc.size : -1);
        std::int64_t lastOffset = 0;
        bool rangeAsked = false;
        Call call;
        call.path = "/v2/" + repo + "/blobs/" + desc.digest.str();
        call.scopes = {pullScope(repo)};
        call.beforeAttempt = [&] {
            call.headers.clear();
            lastOffset = writer->offset();
            rangeAsked = lastOffset > 0;
            if (rangeAsked)
                call.headers.push_back("Range: bytes=" + std::to_string(lastOffset) + "-");
        };
        call.progressed = [&] { return writer->offset() > lastOffset; };
        call.onHeaders = [&](const HttpResponse& r) {
            if (r.status == 206) {
                // "bytes <start>-<end>/<total>" must continue where we stopped.
                const std::string range = r.header("Content-Range");
                auto start = range.find("bytes ");
                if (!rangeAsked || start == std::string::npos ||
                    std::atoll(range.c_str() + start + 6) != writer->offset())
                    throw Error("unexpected partial answer (Content-Range: " + range + ")");
            } else if (writer->offset() > 0) {
                writer->reset(); // the server ignored our Range and sends the whole blob again
            }
        };
        call.stop = cancel;
        call.sink = [&](const char* data, std::size_t n) {
            writer->write(data, n);
            if (progress)
                progress(writer->offset(), total);
        };
        for (int incomplete = 0;; ++incomplete) {
            HttpResponse r = send(call);
            if (r.status == 404)
                fail(call, r, refName(repo, desc.digest.str()) + " not found");
            if (r.status != 200 && r.status != 206)
                fail(call, r);
            // An answer that ended early without a transport error (no Content-Length): resume it.
            if (desc.size > 0 && writer->offset() < desc.size && incomplete < options.maxRetries)
                continue;
            break;
        }
        try {
            writer->commit();
        } catch (const std::exception& e) {
            throw RegistryError(prefix() + ": " + repo + ": " + e.what());
        }
    }

    // POST an upload (or a mount), then PUT the bytes; true when the blob is in place.
    void uploadOnce(const std::string& repo, const oci::Descriptor& desc, const oci::ContentStore& store,
                    const std::string& mountFromRepo)
    {
        Call post;
        post.method = "POST";
        post.path = "/v2/" + repo + "/blobs/uploads/";
        post.scopes = {pushScope(repo)};
        if (!mountFromRepo.empty() && mountFromRepo != repo) {
            post.path += "?mount=" + urlEscape(desc.digest.str()) + "&from=" + urlEscape(mountFromRepo);
            post.scopes.push_back(pullScope(mountFromRepo));
        }
        HttpResponse r = send(post);
        if (r.status == 201)
            return; // mounted: the registry linked the blob without any bytes sent
        if (r.status != 202)
            fail(post, r);
        std::string location = r.header("Location");
        if (location.empty())
            throw RegistryError(describe(post, r.url) + ": the registry gave no upload Location");
        location = resolveUrl(r.url, location);
        location += (location.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") +
                    urlEscape(desc.digest.str());

        const auto path = store.blobPath(desc.digest);
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw RegistryError(prefix() + ": push " + desc.digest.str() + ": " + path.string() + ": " + std::strerror(errno));
        struct Close {
            int fd;
            ~Close() { ::close(fd); }
        } closeFd{fd};
        const auto size = store.size(desc.digest).value_or(0);
        if (desc.size > 0 && size != desc.size)
            throw RegistryError(prefix() + ": push " + desc.digest.str() + ": the stored blob has " + std::to_string(size) +
                                " bytes, its descriptor says " + std::to_string(desc.size));

        Call put;
        put.method = "PUT";
        put.path = location;
        put.headers = {"Content-Type: application/octet-stream"};
        put.scopes = {pushScope(repo)};
        put.bodyFd = fd;
        put.bodySize = size;
        put.maxRetries = 0; // an upload session that broke is not reused: the caller starts over
        r = send(put);
        if (r.status != 201 && r.status != 204)
            fail(put, r);
    }
};

RegistryClient::RegistryClient(std::string host, RegistryOptions options)
    : impl_(std::make_unique<Impl>(std::move(host), std::move(options)))
{
}

RegistryClient::~RegistryClient() = default;

const std::string& RegistryClient::host() const
{
    return impl_->host;
}

std::string RegistryClient::scheme() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->scheme;
}

int RegistryClient::tokenRequests() const
{
    return impl_->tokenRequestCount.load();
}

void RegistryClient::ping()
{
    impl_->ensurePinged(true);
}

FetchedManifest RegistryClient::getManifest(const std::string& repo, const std::string& tagOrDigest, std::size_t maxBytes)
{
    Impl::Call call;
    call.path = "/v2/" + repo + "/manifests/" + tagOrDigest;
    call.headers = {"Accept: " + oci::media::manifestAcceptHeader()};
    call.scopes = {pullScope(repo)};
    call.maxBodyBytes = maxBytes;
    HttpResponse r = impl_->send(call);
    const std::string ref = impl_->refName(repo, tagOrDigest);
    if (r.status == 404)
        impl_->fail(call, r, ref + " not found");
    if (r.status != 200)
        impl_->fail(call, r);

    FetchedManifest m;
    m.bytes = std::move(r.body);
    m.descriptor.digest = oci::Digest::of(m.bytes);
    m.descriptor.size = static_cast<std::int64_t>(m.bytes.size());
    const std::string what = impl_->prefix() + ": manifest " + ref;
    if (auto claimed = oci::Digest::tryParse(r.header("Docker-Content-Digest")); claimed && *claimed != m.descriptor.digest)
        throw RegistryError(what + ": its bytes hash to " + m.descriptor.digest.str() + " but the registry says " +
                            claimed->str());
    if (auto asked = oci::Digest::tryParse(tagOrDigest); asked && *asked != m.descriptor.digest)
        throw RegistryError(what + ": its bytes hash to " + m.descriptor.digest.str());

    std::string type = mediaTypeOf(r.header("Content-Type"));
    if (!oci::media::isManifest(type) && !oci::media::isIndex(type)) {
        // Some registries answer application/json; the JSON then says what it is.
        const auto j = oci::parseJson(m.bytes, what);
        type = j.is_object() ? j.value("mediaType", "") : "";
        if (!oci::media::isManifest(type) && !oci::media::isIndex(type))
            type = std::string(oci::detectManifestKind(j, what) == oci::ManifestKind::Index ? oci::media::OciIndex
                                                                                            : oci::media::OciManifest);
    }
    m.descriptor.mediaType = type;
    return m;
}

std::optional<oci::Descriptor> RegistryClient::headManifest(const std::string& repo, const std::string& tagOrDigest)
{
    Impl::Call call;
    call.method = "HEAD";
    call.path = "/v2/" + repo + "/manifests/" + tagOrDigest;
    call.headers = {"Accept: " + oci::media::manifestAcceptHeader()};
    call.scopes = {pullScope(repo)};
    HttpResponse r = impl_->send(call);
    if (r.status == 404)
        return std::nullopt;
    if (r.status != 200)
        impl_->fail(call, r);
    auto digest = oci::Digest::tryParse(r.header("Docker-Content-Digest"));
    const std::string type = mediaTypeOf(r.header("Content-Type"));
    const std::string length = r.header("Content-Length");
    if (!digest || length.empty() || !(oci::media::isManifest(type) || oci::media::isIndex(type)))
        return getManifest(repo, tagOrDigest).descriptor; // the headers do not say enough
    oci::Descriptor d;
    d.mediaType = type;
    d.digest = *digest;
    d.size = std::atoll(length.c_str());
    return d;
}

oci::Descriptor RegistryClient::putManifest(const std::string& repo, const std::string& tagOrDigest, std::string_view bytes,
                                            std::string mediaType)
{
    Impl::Call call;
    call.method = "PUT";
    call.path = "/v2/" + repo + "/manifests/" + tagOrDigest;
    call.headers = {"Content-Type: " + mediaType};
    call.scopes = {pushScope(repo)};
    call.body = std::string(bytes);
    HttpResponse r = impl_->send(call);
    if (r.status != 201 && r.status != 200 && r.status != 202)
        impl_->fail(call, r, impl_->refName(repo, tagOrDigest));
    oci::Descriptor d;
    d.mediaType = std::move(mediaType);
    d.digest = oci::Digest::of(bytes);
    d.size = static_cast<std::int64_t>(bytes.size());
    if (auto claimed = oci::Digest::tryParse(r.header("Docker-Content-Digest")); claimed && *claimed != d.digest)
        throw RegistryError(impl_->prefix() + ": manifest " + impl_->refName(repo, tagOrDigest) + " was stored as " +
                            claimed->str() + " but its bytes hash to " + d.digest.str());
    return d;
}

std::optional<std::int64_t> RegistryClient::headBlob(const std::string& repo, const oci::Digest& digest)
{
    Impl::Call call;
    call.method = "HEAD";
    call.path = "/v2/" + repo + "/blobs/" + digest.str();
    call.scopes = {pullScope(repo)};
    HttpResponse r = impl_->send(call);
    if (r.status == 404)
        return std::nullopt;
    if (r.status != 200)
        impl_->fail(call, r);
    return std::atoll(r.header("Content-Length").c_str());
}

void RegistryClient::fetchBlob(const std::string& repo, const oci::Descriptor& desc, oci::ContentStore& store,
                               ProgressFn progress)
{
    impl_->fetchBlob(repo, desc, store, progress, nullptr);
}

std::string RegistryClient::fetchBlobBytes(const std::string& repo, const oci::Descriptor& desc, std::size_t maxBytes)
{
    const std::string what = impl_->prefix() + ": blob " + impl_->refName(repo, desc.digest.str());
    if (desc.size > 0 && static_cast<std::uint64_t>(desc.size) > maxBytes)
        throw RegistryError(what + " is too large (" + std::to_string(desc.size) + " > " + std::to_string(maxBytes) + ")");
    Impl::Call call;
    call.path = "/v2/" + repo + "/blobs/" + desc.digest.str();
    call.scopes = {pullScope(repo)};
    call.maxBodyBytes = maxBytes;
    HttpResponse r = impl_->send(call);
    if (r.status == 404)
        impl_->fail(call, r, impl_->refName(repo, desc.digest.str()) + " not found");
    if (r.status != 200)
        impl_->fail(call, r);
    const oci::Digest actual = oci::Digest::of(r.body);
    if (actual != desc.digest)
        throw RegistryError(what + " does not match its digest (its bytes hash to " + actual.str() + ")");
    return std::move(r.body);
}

void RegistryClient::fetchBlobs(const std::string& repo, const std::vector<oci::Descriptor>& descs,
                                oci::ContentStore& store, ProgressFn progress)
{
    std::vector<oci::Descriptor> unique;
    std::set<oci::Digest> seen;
    std::int64_t total = 0;
    for (const auto& d : descs)
        if (seen.insert(d.digest).second) {
            unique.push_back(d);
            total += d.size;
        }
    std::mutex progressMutex;
    std::vector<std::int64_t> done(unique.size(), 0);
    std::int64_t sum = 0;
    std::atomic<bool> cancel{false};
    forEachParallel(unique.size(), impl_->options.parallelism, cancel, [&](std::size_t i) {
        ProgressFn each;
        if (progress)
            each = [&, i](std::int64_t d, std::int64_t) {
                std::lock_guard lock(progressMutex);
                sum += d - done[i];
                done[i] = d;
                progress(sum, total);
            };
        impl_->fetchBlob(repo, unique[i], store, each, &cancel);
    });
}

void RegistryClient::pushBlob(const std::string& repo, const oci::Descriptor& desc, const oci::ContentStore& store,
                              const std::string& mountFromRepo)
{
    // Ask with push scope so that one token serves the whole push.
    Impl::Call head;
    head.method = "HEAD";
    head.path = "/v2/" + repo + "/blobs/" + desc.digest.str();
    head.scopes = {pushScope(repo)};
    HttpResponse r = impl_->send(head);
    if (r.status == 200)
        return;
    if (r.status != 404)
        impl_->fail(head, r);
    if (!store.has(desc.digest))
        throw RegistryError(impl_->prefix() + ": push " + desc.digest.str() + " to " + repo + ": blob is missing from " +
                            store.root().string());
    for (int attempt = 0;; ++attempt) {
        try {
            impl_->uploadOnce(repo, desc, store, mountFromRepo);
            return;
        } catch (const RegistryError& e) {
            if (!e.retriable() || attempt >= impl_->options.maxRetries)
                throw;
            impl_->pause(Impl::callFor("PUT", "/v2/" + repo + "/blobs/uploads/"), impl_->backoff(attempt));
        }
    }
}

bool RegistryClient::mountBlob(const std::string& repo, const oci::Digest& digest, const std::string& fromRepo)
{
    if (fromRepo.empty() || fromRepo == repo)
        return false;
    Impl::Call post;
    post.method = "POST";
    post.path = "/v2/" + repo + "/blobs/uploads/?mount=" + urlEscape(digest.str()) + "&from=" + urlEscape(fromRepo);
    post.scopes = {pushScope(repo), pullScope(fromRepo)};
    HttpResponse r = impl_->send(post);
    if (r.status == 201)
        return true;
    if (r.status != 202)
        impl_->fail(post, r);
    // An upload session was opened instead: close it (an abandoned one would only expire later).
    if (const std::string location = r.header("Location"); !location.empty()) {
        Impl::Call cancel;
        cancel.method = "DELETE";
        cancel.path = resolveUrl(r.url, location);
        cancel.scopes = {pushScope(repo)};
        cancel.maxRetries = 0;
        try {
            impl_->send(cancel);
        } catch (const std::exception&) {
        }
    }
    return false;
}

void RegistryClient::pushBlobs(const std::string& repo, const std::vector<oci::Descriptor>& descs,
                               const oci::ContentStore& store, const std::string& mountFromRepo)
{
    std::vector<oci::Descriptor> unique;
    std::set<oci::Digest> seen;
    for (const auto& d : descs)
        if (seen.insert(d.digest).second)
            unique.push_back(d);
    std::atomic<bool> cancel{false};
    forEachParallel(unique.size(), impl_->options.parallelism, cancel,
                    [&](std::size_t i) { pushBlob(repo, unique[i], store, mountFromRepo); });
}

} // namespace cachescope::registry

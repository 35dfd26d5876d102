#pragma once
// A client of the OCI Distribution API (Docker Registry HTTP API v2) for one registry host:
// ping, manifests (GET/HEAD/PUT with Accept negotiation), blobs (HEAD, streamed GET with digest
// verification, redirects and Range resume, upload with cross-repository mount), anonymous, Basic and
// bearer-token auth, retries with backoff. Calls block; the client is safe to use from several threads.
#include "oci/content_store.h"
#include "oci/descriptor.h"
#include "registry/docker_config.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::registry {

struct RegistryOptions {
    // Plain HTTP allowed and TLS not verified (BuildKit's registry.insecure): https without verification
    // first, then http. Loopback hosts always use plain HTTP.
    bool insecure = false;
    // When unset, credentials come from the Docker config (auths, credHelpers, credsStore).
    std::optional<Credentials> credentials;
    int maxRetries = 4;
    std::chrono::milliseconds initialBackoff{100};
    // Parallel transfers in fetchBlobs/pushBlobs.
    int parallelism = 8;
    // Cooperative cancel: polled during transfers and between retries; when it returns true the call
    // in progress throws Error("… cancelled") and leaves nothing partial in the content store.
    std::function<bool()> cancelled;
};

struct FetchedManifest {
    // mediaType from Content-Type (or the JSON), digest of the bytes (checked against
    // Docker-Content-Digest and a requested digest), size of the bytes.
    oci::Descriptor descriptor;
    std::string bytes;
};

// (bytes done, bytes total) of a transfer; may be called from worker threads, one call at a time.
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

class RegistryClient {
public:
    // host: the API host with optional port ("127.0.0.1:5000", "registry-1.docker.io"); see Reference::apiHost.
    explicit RegistryClient(std::string host, RegistryOptions options = {});
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    const std::string& host() const;
    // "http" or "https", once the first request chose it.
    std::string scheme() const;

    // GET /v2/: learns the scheme and the auth challenge. Other calls ping when needed.
    void ping();

    // Throws Error naming the registry and the ref when it is unknown (404), unauthorized, too large,
    // or when its bytes do not match the digest the registry (or tagOrDigest) says they have.
    FetchedManifest getManifest(const std::string& repo, const std::string& tagOrDigest, std::size_t maxBytes = 4 << 20);
    // nullopt when the registry does not know the ref.
    std::optional<oci::Descriptor> headManifest(const std::string& repo, const std::string& tagOrDigest);
    oci::Descriptor putManifest(const std::string& repo, const std::string& tagOrDigest, std::string_view bytes,
                                std::string mediaType);

    // Blob size, or nullopt when the repository does not have it.
    std::optional<std::int64_t> headBlob(const std::string& repo, const oci::Digest& digest);
    // Streams a blob into the store (no-op when present). Nothing is left in the store when the blob
    // cannot be fetched whole or does not match its digest.
    void fetchBlob(const std::string& repo, const oci::Descriptor& desc, oci::ContentStore& store,
                   ProgressFn progress = {});
    // A small blob in memory, verified against its digest; Error when larger than maxBytes.
    std::string fetchBlobBytes(const std::string& repo, const oci::Descriptor& desc, std::size_t maxBytes);
    // Fetches several blobs, up to options.parallelism at a time; progress sums all of them. The first
    // failure stops the others and is thrown (blobs already complete stay in the store).
    void fetchBlobs(const std::string& repo, const std::vector<oci::Descriptor>& descs, oci::ContentStore& store,
                    ProgressFn progress = {});
    // Uploads a blob from the store unless the registry has it; with mountFromRepo, asks the registry to
    // mount it from that repository first (no bytes sent when it can).
    void pushBlob(const std::string& repo, const oci::Descriptor& desc, const oci::ContentStore& store,
                  const std::string& mountFromRepo = {});
    void pushBlobs(const std::string& repo, const std::vector<oci::Descriptor>& descs, const oci::ContentStore& store,
                   const std::string& mountFromRepo = {});

    // Asks the registry to link a blob of another repository on it into `repo` (cross-repository
    // mount): true when it did, no bytes sent. false when the registry cannot (it answers with an
    // upload session instead, which is cancelled); throws Error for other answers.
    bool mountBlob(const std::string& repo, const oci::Digest& digest, const std::string& fromRepo);

    // Requests made to the token endpoint so far (tests check that tokens are reused).
    int tokenRequests() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace cachescope::registry

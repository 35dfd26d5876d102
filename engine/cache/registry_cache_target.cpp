#include "cache/registry_cache_target.h"

#include "base/error.h"
#include "base/temporary_directory.h"
#include "registry/reference.h"

#include <map>
#include <set>

namespace cachescope::cache {

namespace {

// A refused mount (no pull right on the source repository, a registry without mounts) is not an
// error: the blob then travels through the staging store.
bool mounted(registry::RegistryClient& client, const std::string& repo, const oci::Descriptor& d, const std::string& from)
{
    try {
        return client.mountBlob(repo, d.digest, from);
    } catch (const std::exception&) {
        return false;
    }
}

} // namespace

oci::Descriptor pushRegistryCache(const CacheBlobs& blobs, const std::string& refText,
                                  registry::RegistryOptions options, const ExportProgress& progress)
{
    const auto say = [&](const std::string& line) {
        if (progress)
            progress(line);
    };
    try {
        const auto ref = registry::Reference::parse(refText);
        if (ref.tag.empty())
            throw Error("the reference needs a tag to push the cache under");
        registry::RegistryClient client(ref.apiHost(), std::move(options));
        const std::string& repo = ref.path;
        const TemporaryDirectory staging("cachescope-export"); // a scratch store for blobs not on local disk
        oci::ContentStore stage(staging.path());

        // Group the layer blobs by the local store they can be pushed from.
        std::map<const oci::ContentStore*, std::vector<oci::Descriptor>> byStore;
        std::set<oci::Digest> seen;
        for (const auto& l : blobs.layers) {
            if (!seen.insert(l.descriptor.digest).second)
                continue;
            if (const oci::ContentStore* store = l.source->localStore(); store && store->has(l.descriptor.digest)) {
                byStore[store].push_back(l.descriptor);
                continue;
            }
            // Remote blobs: a cross-repository mount when they are on the target's registry (BuildKit
            // mounts too), else through the staging store, unless the target has them already.
            if (const auto* remote = dynamic_cast<const RegistryLayerSource*>(l.source.get());
                remote && remote->host() == client.host() && mounted(client, repo, l.descriptor, remote->repository()))
                continue;
            if (!client.headBlob(repo, l.descriptor.digest)) {
                l.source->fetch(l.descriptor, stage);
                byStore[&stage].push_back(l.descriptor);
            }
        }
        for (const auto& [store, descs] : byStore)
            client.pushBlobs(repo, descs, *store);
        for (const auto& l : blobs.layers)
            say("writing layer " + l.descriptor.digest.str());

        // Extra blobs (the context manifest) are pushed like layers: a registry checks that every
        // blob a manifest lists exists.
        for (const auto& e : blobs.extras) {
            if (client.headBlob(repo, e.descriptor.digest))
                continue;
            stage.put(e.bytes, e.descriptor.mediaType);
            client.pushBlob(repo, e.descriptor, stage);
        }
        stage.put(blobs.configBytes, blobs.config.mediaType);
        client.pushBlob(repo, blobs.config, stage);
        say("writing config " + blobs.config.digest.str());

        auto pushed = client.putManifest(repo, ref.tag, blobs.manifestBytes, blobs.manifest.mediaType);
        const bool imageManifest = blobs.manifest.mediaType == "application/vnd.oci.image.manifest.v1+json";
        say(std::string(imageManifest ? "writing cache image manifest " : "writing cache manifest ") +
            blobs.manifest.digest.str());
        oci::Descriptor out = blobs.manifest;
        if (!pushed.digest.empty() && pushed.digest != out.digest)
            throw Error("the registry stored the manifest as " + pushed.digest.str() + ", expected " + out.digest.str());
        return out;
    } catch (const std::exception& e) {
        rethrowWithContext("registry cache export " + refText, e);
    }
}

} // namespace cachescope::cache

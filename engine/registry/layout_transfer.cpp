#include "registry/layout_transfer.h"

#include "base/error.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

#include <set>

namespace cachescope::registry {

namespace {

constexpr std::uintmax_t kMaxManifestBytes = 4 << 20;

bool isManifestType(const std::string& t)
{
    return oci::media::isManifest(t) || oci::media::isIndex(t);
}

// What a manifest or index references: child manifests (to walk) and blobs (to copy).
struct References {
    std::vector<oci::Descriptor> children;
    std::vector<oci::Descriptor> blobs;
};

References referencesOf(const std::string& bytes, const std::string& what)
{
    References refs;
    const auto j = oci::parseJson(bytes, what);
    if (oci::detectManifestKind(j, what) == oci::ManifestKind::Index) {
        // A BuildKit cache index lists layer and config blobs where an image index lists manifests.
        for (auto& d : oci::Index::fromJson(j, what).manifests)
            (isManifestType(d.mediaType) ? refs.children : refs.blobs).push_back(std::move(d));
    } else {
        auto m = oci::Manifest::fromJson(j, what);
        refs.blobs.push_back(std::move(m.config));
        for (auto& l : m.layers)
            refs.blobs.push_back(std::move(l));
    }
    return refs;
}

struct Node {
    oci::Descriptor desc;
    std::string bytes;
};

} // namespace

oci::Descriptor pushLayoutTag(RegistryClient& client, const oci::OciLayout& layout, const std::string& srcTag,
                              const std::string& repo, const std::string& destTag)
{
    const std::string where = "OCI layout " + layout.dir().string();
    auto top = layout.findTag(srcTag);
    if (!top)
        throw Error(where + ": tag \"" + srcTag + "\" not found in index.json");

    std::vector<Node> manifests; // children before parents
    std::vector<oci::Descriptor> blobs;
    std::set<oci::Digest> visited;
    std::function<void(const oci::Descriptor&)> walk = [&](const oci::Descriptor& d) {
        if (!visited.insert(d.digest).second)
            return;
        const std::string what = where + ": " + d.digest.str();
        Node node{d, layout.blobs().read(d.digest, kMaxManifestBytes)};
        if (oci::Digest::of(node.bytes) != d.digest)
            throw Error(what + ": the stored manifest does not match its digest");
        References refs = referencesOf(node.bytes, what);
        for (const auto& child : refs.children)
            walk(child);
        for (auto& b : refs.blobs)
            if (visited.insert(b.digest).second)
                blobs.push_back(std::move(b));
        if (!isManifestType(node.desc.mediaType)) // index.json may omit or misname it; the JSON decides
            node.desc.mediaType = std::string(oci::detectManifestKind(oci::parseJson(node.bytes, what), what) ==
                                                      oci::ManifestKind::Index
                                                  ? oci::media::OciIndex
                                                  : oci::media::OciManifest);
        manifests.push_back(std::move(node));
    };
    walk(*top);

    client.pushBlobs(repo, blobs, layout.blobs());
    for (std::size_t i = 0; i + 1 < manifests.size(); ++i)
        client.putManifest(repo, manifests[i].desc.digest.str(), manifests[i].bytes, manifests[i].desc.mediaType);
    const Node& last = manifests.back();
    return client.putManifest(repo, destTag, last.bytes, last.desc.mediaType);
}

oci::Descriptor pullToLayout(RegistryClient& client, const std::string& repo, const std::string& tagOrDigest,
                             oci::OciLayout& layout, const std::string& destTag, ProgressFn progress)
{
    std::vector<Node> manifests; // children before parents
    std::vector<oci::Descriptor> blobs;
    std::set<oci::Digest> visited;
    std::function<oci::Descriptor(const std::string&)> walk = [&](const std::string& ref) {
        FetchedManifest m = client.getManifest(repo, ref);
        const std::string what = "registry " + client.host() + ": " + repo + "@" + m.descriptor.digest.str();
        References refs = referencesOf(m.bytes, what);
        for (const auto& child : refs.children)
            if (visited.insert(child.digest).second)
                walk(child.digest.str());
        for (auto& b : refs.blobs)
            if (visited.insert(b.digest).second)
                blobs.push_back(std::move(b));
        manifests.push_back({m.descriptor, std::move(m.bytes)});
        return manifests.back().desc;
    };
    const oci::Descriptor top = walk(tagOrDigest);

    client.fetchBlobs(repo, blobs, layout.blobs(), std::move(progress));
    for (const auto& node : manifests)
        if (!layout.blobs().has(node.desc.digest))
            layout.blobs().putExpected(node.desc.digest, node.bytes);
    layout.setTag(destTag, top);
    return top;
}

} // namespace cachescope::registry

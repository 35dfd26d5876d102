#include "cache/imported_cache.h"

#include "base/error.h"
#include "cache/inline_cache.h"
#include "cache/preflight.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace cachescope::cache {

namespace {

std::string sizeProblem(const std::string& what, std::size_t size)
{
    return what + " is " + std::to_string(size) + " bytes — BuildKit would refuse this (limit " +
           std::to_string(kBuildkitBlobLimit) + ")";
}

std::string readMetadata(BlobProvider& provider, const oci::Descriptor& desc, const std::string& what,
                         const std::string& kind, ImportedCache& out)
{
    std::string bytes;
    try {
        bytes = provider.readBlob(desc, kMaxMetadataBytes);
    } catch (const std::exception& e) {
        rethrowWithContext(what, e);
    }
    if (static_cast<std::int64_t>(bytes.size()) > kBuildkitBlobLimit)
        out.problems.push_back({kind + "-too-large", sizeProblem(what, bytes.size())});
    return bytes;
}

// The cache manifest forms: the config is a cacheconfig blob, the layers are listed beside it.
void importCacheConfig(BlobProvider& provider, const oci::Descriptor& configDesc,
                       std::map<oci::Digest, oci::Descriptor> layers, ImportedCache& out)
{
    const std::string what = "config " + configDesc.digest.str();
    const std::string bytes = readMetadata(provider, configDesc, what, "config", out);
    out.configSize = static_cast<std::int64_t>(bytes.size());
    ImportedGraph g;
    g.manifestDigest = out.manifestDigest;
    g.configDigest = configDesc.digest;
    g.layerDescriptors = std::move(layers);
    g.config = parseCacheConfig(bytes, what);
    g.graph = KeyGraph::build(g.config, g.layerDescriptors, what, &out.problems);
    out.graphs.push_back(std::move(g));
}

// One image manifest read for inline cache. Returns false (with a reason) when it has none.
bool importInlineManifest(BlobProvider& provider, const oci::Manifest& manifest, const oci::Digest& manifestDigest,
                          const std::string& platformHint, ImportedCache& out, std::string& reason)
{
    if (manifest.layers.empty()) {
        reason = "no layers";
        return false;
    }
    const std::string what = "image config " + manifest.config.digest.str();
    const std::string bytes = readMetadata(provider, manifest.config, what, "config", out);
    out.configSize = std::max<std::int64_t>(out.configSize, static_cast<std::int64_t>(bytes.size()));
    InlineCache inl = readInlineCache(manifest, bytes, what);
    if (!inl.present) {
        reason = "no " + std::string(kInlineCacheKey) + " in its config";
        return false;
    }
    const std::string platform = platformHint.empty() ? inl.platform : platformHint;
    if (!inl.skipReason.empty()) {
        out.problems.push_back({"platform-skipped", "image manifest " + manifestDigest.str() + " (" + platform +
                                                        ") skipped as BuildKit does: " + inl.skipReason});
        reason = inl.skipReason;
        return false;
    }
    ImportedGraph g;
    g.platform = platform;
    g.manifestDigest = manifestDigest;
    g.configDigest = manifest.config.digest;
    g.layerDescriptors = std::move(inl.layers);
    g.config = std::move(inl.config);
    g.graph = KeyGraph::build(g.config, g.layerDescriptors, what + ": " + std::string(kInlineCacheKey), &out.problems);
    out.graphs.push_back(std::move(g));
    return true;
}

void importImage(BlobProvider& provider, const nlohmann::json& top, oci::ManifestKind kind, const std::string& what,
                 ImportedCache& out)
{
    out.form = CacheForm::Inline;
    std::string reason;
    if (kind == oci::ManifestKind::Manifest) {
        const oci::Manifest m = oci::Manifest::fromJson(top, what);
        if (!importInlineManifest(provider, m, out.manifestDigest, {}, out, reason))
            throw Error(what + ": no cache config (" + std::string(oci::media::BuildkitCacheConfig) +
                        ") and no inline cache: " + reason);
        return;
    }
    // An image index: every platform's manifest may carry its own inline cache.
    const oci::Index index = oci::Index::fromJson(top, what);
    std::vector<std::string> reasons;
    for (const auto& child : index.manifests) {
        if (child.annotation("vnd.docker.reference.type") == "attestation-manifest")
            continue;
        if (!child.mediaType.empty() && !oci::media::isManifest(child.mediaType))
            continue;
        const std::string platform = child.platform ? child.platform->str() : std::string();
        const std::string childWhat = "image manifest " + child.digest.str() + (platform.empty() ? "" : " (" + platform + ")");
        // As in BuildKit, a broken platform fails the whole source; only a diff_ids mismatch is skipped.
        const std::string bytes = readMetadata(provider, child, childWhat, "manifest", out);
        const oci::Manifest m = oci::Manifest::parse(bytes, childWhat);
        if (!importInlineManifest(provider, m, child.digest, platform, out, reason))
            reasons.push_back(childWhat + ": " + reason);
    }
    if (out.graphs.empty()) {
        std::string all;
        for (const auto& r : reasons)
            all += (all.empty() ? "" : "; ") + r;
        throw Error(what + ": no cache config (" + std::string(oci::media::BuildkitCacheConfig) +
                    ") and no inline cache in any platform" + (all.empty() ? "" : " (" + all + ")"));
    }
}

void importInto(BlobProvider& provider, ImportedCache& out, std::optional<oci::Descriptor>& contextManifest)
{
    const oci::Descriptor top = provider.resolve();
    out.manifestDigest = top.digest;
    out.manifestMediaType = top.mediaType;
    const std::string what = "manifest " + top.digest.str();
    const std::string bytes = readMetadata(provider, top, what, "manifest", out);
    out.manifestSize = static_cast<std::int64_t>(bytes.size());
    const nlohmann::json json = oci::parseJson(bytes, what);
    const oci::ManifestKind kind = oci::detectManifestKind(json, what);
    if (out.manifestMediaType.empty() && json.is_object())
        out.manifestMediaType = json.value("mediaType", "");

    if (kind == oci::ManifestKind::Index) {
        const oci::Index index = oci::Index::fromJson(json, what);
        const oci::Descriptor* config = nullptr;
        std::map<oci::Digest, oci::Descriptor> layers;
        for (const auto& d : index.manifests) {
            if (d.mediaType == oci::media::BuildkitCacheConfig) {
                if (!config)
                    config = &d;
            } else if (isContextManifestDescriptor(d)) {
                contextManifest = d;
            } else {
                layers.emplace(d.digest, d);
            }
        }
        if (config) {
            out.form = CacheForm::Index;
            importCacheConfig(provider, *config, std::move(layers), out);
            return;
        }
        importImage(provider, json, kind, what, out);
        return;
    }

    const oci::Manifest manifest = oci::Manifest::fromJson(json, what);
    if (manifest.config.mediaType == oci::media::BuildkitCacheConfig) {
        out.form = CacheForm::ImageManifest;
        std::map<oci::Digest, oci::Descriptor> layers;
        for (const auto& d : manifest.layers) {
            if (isContextManifestDescriptor(d))
                contextManifest = d;
            else
                layers.emplace(d.digest, d);
        }
        importCacheConfig(provider, manifest.config, std::move(layers), out);
        return;
    }
    importImage(provider, json, kind, what, out);
}

} // namespace

std::string_view cacheFormName(CacheForm form)
{
    switch (form) {
    case CacheForm::ImageManifest: return "image-manifest";
    case CacheForm::Index: return "index";
    case CacheForm::Inline: return "inline";
    }
    return "unknown";
}

std::size_t ImportedCache::recordCount() const
{
    std::size_t n = 0;
    for (const auto& g : graphs)
        n += g.config.records.size();
    return n;
}

std::size_t ImportedCache::layerCount() const
{
    std::size_t n = 0;
    for (const auto& g : graphs)
        n += g.config.layers.size();
    return n;
}

std::size_t ImportedCache::resultCount() const
{
    std::size_t n = 0;
    for (const auto& g : graphs)
        n += g.graph.resultCount();
    return n;
}

ImportedCache importCache(BlobProvider& provider, const CacheSpec& spec)
{
    ImportedCache out;
    out.spec = spec;
    try {
        out.source = provider.describe();
        std::optional<oci::Descriptor> manifestDesc;
        importInto(provider, out, manifestDesc);
        if (manifestDesc) {
            try {
                out.contextManifest = readContextManifest(provider, *manifestDesc);
            } catch (const std::exception& e) {
                out.problems.push_back(SourceProblem{"context-manifest", e.what()});
            }
        }
        preflightCache(provider, out);
        out.ok = true;
    } catch (const std::exception& e) {
        // Nothing partial: a failed source keeps only what names it and why.
        ImportedCache failed;
        failed.spec = spec;
        failed.source = out.source.empty() ? spec.displayName() : out.source;
        failed.error = failed.source + ": " + e.what();
        return failed;
    }
    return out;
}

} // namespace cachescope::cache

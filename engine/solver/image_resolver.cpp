#include "solver/image_resolver.h"

#include "base/error.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "registry/reference.h"

#include <nlohmann/json.hpp>

namespace cachescope::solver {

namespace {

constexpr std::size_t kMaxConfig = 8 << 20;

bool platformMatches(const oci::Platform& have, const dockerfile::Platform& want)
{
    if (have.os != want.os || have.architecture != want.architecture)
        return false;
    // amd64 has no variant by default; arm64 images often say v8.
    if (want.variant.empty())
        return have.variant.empty() || have.variant == "v8" || want.architecture == "amd64";
    return have.variant == want.variant;
}

// Picks the platform's manifest from an index (first match, as containerd's matcher orders them).
oci::Descriptor pickPlatform(const std::string& bytes, const std::string& what, const dockerfile::Platform& platform)
{
    const oci::Index index = oci::Index::parse(bytes, what);
    for (const auto& d : index.manifests)
        if (d.platform && platformMatches(*d.platform, platform))
            return d;
    throw Error(what + ": no image for platform " + platform.str());
}

bool isIndex(const std::string& bytes, const std::string& what)
{
    return oci::detectManifestKind(oci::parseJson(bytes, what), what) == oci::ManifestKind::Index;
}

std::string displayRef(const registry::Reference& r, const oci::Digest& digest)
{
    if (!r.digest.empty())
        return r.str();
    return r.repository() + ":" + r.tag + "@" + digest.str();
}

} // namespace

ImageResolver::ImageResolver(std::map<std::string, std::string> namedContexts, registry::RegistryOptions options)
    : named_(std::move(namedContexts)), options_(std::move(options))
{
}

std::string ImageResolver::namedContextFor(const std::string& name) const
{
    const auto exact = named_.find(name);
    if (exact != named_.end())
        return exact->second;
    try {
        const std::string norm = registry::Reference::parse(name).str();
        for (const auto& [key, value] : named_) {
            try {
                if (registry::Reference::parse(key).str() == norm)
                    return value;
            } catch (const Error&) {
            }
        }
    } catch (const Error&) {
    }
    return {};
}

void ImageResolver::readConfig(const std::string& bytes, const std::string& what, ResolvedImage& out)
{
    const nlohmann::json j = oci::parseJson(bytes, what);
    try {
        if (j.contains("rootfs") && j["rootfs"].contains("diff_ids"))
            for (const auto& d : j["rootfs"]["diff_ids"])
                out.source.diffIds.push_back(oci::Digest::parse(d.get<std::string>()));
        const nlohmann::json c = j.value("config", nlohmann::json::object());
        auto strings = [&](const char* key) {
            std::vector<std::string> v;
            if (c.contains(key) && c[key].is_array())
                for (const auto& s : c[key])
                    v.push_back(s.get<std::string>());
            return v;
        };
        auto& cfg = out.base.config;
        cfg.env = strings("Env");
        cfg.workingDir = c.contains("WorkingDir") && c["WorkingDir"].is_string() ? c["WorkingDir"].get<std::string>() : "";
        cfg.user = c.contains("User") && c["User"].is_string() ? c["User"].get<std::string>() : "";
        cfg.shell = strings("Shell");
        cfg.cmd = strings("Cmd");
        cfg.entrypoint = strings("Entrypoint");
        cfg.onBuild = strings("OnBuild");
    } catch (const nlohmann::json::exception& e) {
        throw Error(what + ": malformed image config: " + e.what());
    } catch (const Error& e) {
        throw Error(what + ": " + e.what());
    }
    out.base.hasLayers = !out.source.diffIds.empty();
}

ResolvedImage ImageResolver::fromRegistry(const std::string& text, const dockerfile::Platform& platform)
{
    const registry::Reference ref = registry::Reference::parse(text);
    registry::RegistryClient client(ref.apiHost(), options_);
    const std::string path = ref.path;
    const std::string what = "image " + ref.str();
    const registry::FetchedManifest top = client.getManifest(path, ref.tagOrDigest());
    ResolvedImage out;
    out.source.manifestDigest = top.descriptor.digest;
    std::string manifestBytes = top.bytes;
    if (isIndex(top.bytes, what)) {
        const oci::Descriptor d = pickPlatform(top.bytes, what, platform);
        manifestBytes = client.getManifest(path, d.digest.str()).bytes;
    }
    const oci::Manifest m = oci::Manifest::parse(manifestBytes, what);
    out.configBytes = client.fetchBlobBytes(path, m.config, kMaxConfig);
    readConfig(out.configBytes, what + " config", out);
    out.layers = m.layers;
    out.registryHost = ref.apiHost();
    out.registryRepo = path;
    out.base.resolvedName = displayRef(ref, out.source.manifestDigest);
    out.origin = "registry " + ref.apiHost();
    return out;
}

ResolvedImage ImageResolver::fromLayout(const std::string& spec, const dockerfile::Platform& platform)
{
    // DIR[:TAG] or DIR@sha256:…; a ':' only counts after the last '/'.
    std::string dir = spec, tag = "latest";
    oci::Digest pinned;
    if (const auto at = spec.rfind('@'); at != std::string::npos && spec.compare(at + 1, 7, "sha256:") == 0) {
        pinned = oci::Digest::parse(spec.substr(at + 1));
        dir = spec.substr(0, at);
    } else if (const auto colon = spec.rfind(':'); colon != std::string::npos &&
                                                   (spec.rfind('/') == std::string::npos || colon > spec.rfind('/'))) {
        dir = spec.substr(0, colon);
        tag = spec.substr(colon + 1);
    }
    const std::string what = "oci-layout://" + spec;
    const oci::OciLayout layout = oci::OciLayout::open(dir);
    oci::Descriptor top;
    if (!pinned.empty()) {
        top.digest = pinned;
    } else {
        auto found = layout.findTag(tag);
        if (!found) {
            const oci::Index idx = layout.readIndex();
            if (idx.manifests.size() == 1 && spec.find(':') == std::string::npos)
                found = idx.manifests[0];
            else
                throw Error(what + ": tag \"" + tag + "\" not found in " + dir + "/index.json");
        }
        top = *found;
    }
    ResolvedImage out;
    out.source.manifestDigest = top.digest;
    std::string bytes = layout.blobs().read(top.digest, kMaxConfig);
    if (isIndex(bytes, what))
        bytes = layout.blobs().read(pickPlatform(bytes, what, platform).digest, kMaxConfig);
    const oci::Manifest m = oci::Manifest::parse(bytes, what);
    out.configBytes = layout.blobs().read(m.config.digest, kMaxConfig);
    readConfig(out.configBytes, what + " config", out);
    out.layers = m.layers;
    out.layoutDir = dir;
    out.origin = "oci-layout " + dir;
    return out;
}

const ResolvedImage& ImageResolver::resolve(const std::string& name, const dockerfile::Platform& platform)
{
    std::lock_guard lock(mutex_);
    const std::string key = name + " " + platform.str();
    if (const auto it = cache_.find(key); it != cache_.end())
        return it->second;
    ResolvedImage r;
    const std::string named = namedContextFor(name);
    try {
        if (named.starts_with("docker-image://")) {
            r = fromRegistry(named.substr(15), platform);
        } else if (named.starts_with("oci-layout://")) {
            r = fromLayout(named.substr(13), platform);
        } else if (!named.empty()) {
            throw Error("build context \"" + named + "\" is not an image (use docker-image:// or oci-layout://)");
        } else {
            r = fromRegistry(name, platform);
        }
    } catch (const Error& e) {
        throw Error("resolving image " + name + (named.empty() ? "" : " (--build-context " + named + ")") + ": " +
                    e.what());
    }
    if (!named.empty()) {
        // BuildKit prints the name the Dockerfile used, pinned to what the context resolved to.
        try {
            r.base.resolvedName = displayRef(registry::Reference::parse(name), r.source.manifestDigest);
        } catch (const Error&) {
            r.base.resolvedName = name;
        }
    }
    r.source.platform.os = platform.os;
    r.source.platform.architecture = platform.architecture;
    r.source.platform.variant = platform.variant;
    r.source.platform.osVersion = platform.osVersion;
    byName_[name] = r;
    return cache_.emplace(key, std::move(r)).first->second;
}

} // namespace cachescope::solver

#include "cache/context_manifest.h"

#include "base/error.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace cachescope::cache {

const ManifestSelector* ContextManifest::find(std::string_view selector) const
{
    const auto it = std::lower_bound(selectors.begin(), selectors.end(), selector,
                                     [](const ManifestSelector& s, std::string_view t) { return s.selector < t; });
    return it != selectors.end() && it->selector == selector ? &*it : nullptr;
}

void ContextManifest::add(ManifestSelector selector, const std::map<std::string, ManifestFile>& covered)
{
    for (const auto& [path, f] : covered)
        files.emplace(path, f);
    std::sort(selector.paths.begin(), selector.paths.end());
    const auto it = std::lower_bound(selectors.begin(), selectors.end(), selector.selector,
                                     [](const ManifestSelector& s, const std::string& t) { return s.selector < t; });
    if (it != selectors.end() && it->selector == selector.selector)
        *it = std::move(selector);
    else
        selectors.insert(it, std::move(selector));
}

std::string ContextManifest::toJson() const
{
    // nlohmann::json objects are std::maps: keys come out sorted, so equal manifests give equal bytes.
    nlohmann::json j;
    nlohmann::json& fj = j["files"] = nlohmann::json::object();
    for (const auto& [path, f] : files) {
        nlohmann::json o;
        o["type"] = f.type;
        o["mode"] = f.mode;
        if (f.type == "file")
            o["size"] = f.size;
        if (!f.digest.empty())
            o["digest"] = f.digest;
        if (f.type == "symlink")
            o["link"] = f.link;
        fj[path] = std::move(o);
    }
    j["mediaType"] = std::string(kContextManifestMediaType);
    nlohmann::json& sj = j["selectors"] = nlohmann::json::array();
    for (const auto& s : selectors)
        sj.push_back({{"selector", s.selector}, {"checksum", s.checksum}, {"paths", s.paths}});
    return j.dump();
}

ContextManifest ContextManifest::parse(std::string_view text, const std::string& what)
{
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(what + ": not a JSON object");
    if (j.value("mediaType", std::string()) != kContextManifestMediaType)
        throw Error(what + ": mediaType is not " + std::string(kContextManifestMediaType));
    ContextManifest m;
    try {
        for (const auto& [path, o] : j.at("files").items()) {
            ManifestFile f;
            f.type = o.at("type").get<std::string>();
            f.mode = o.at("mode").get<std::uint32_t>();
            f.size = o.value("size", std::int64_t{0});
            f.digest = o.value("digest", std::string());
            f.link = o.value("link", std::string());
            m.files.emplace(path, std::move(f));
        }
        for (const auto& o : j.at("selectors")) {
            ManifestSelector s;
            s.selector = o.at("selector").get<std::string>();
            s.checksum = o.at("checksum").get<std::string>();
            s.paths = o.at("paths").get<std::vector<std::string>>();
            m.add(std::move(s), {});
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(what + ": " + e.what());
    }
    return m;
}

oci::Descriptor contextManifestDescriptor(std::string_view json)
{
    oci::Descriptor d;
    d.mediaType = std::string(kContextManifestMediaType);
    d.digest = oci::Digest::of(json);
    d.size = static_cast<std::int64_t>(json.size());
    d.annotations["org.opencontainers.image.title"] = "cachescope-context-manifest.json";
    return d;
}

bool isContextManifestDescriptor(const oci::Descriptor& d)
{
    return d.mediaType == kContextManifestMediaType;
}

ContextManifest readContextManifest(BlobProvider& provider, const oci::Descriptor& d)
{
    const std::string what = "context manifest " + d.digest.str();
    return ContextManifest::parse(provider.readBlob(d, kMaxContextManifestBytes), what);
}

} // namespace cachescope::cache

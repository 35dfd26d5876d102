#include "oci/manifest.h"

#include "base/error.h"
#include "oci/media_types.h"

namespace cachescope::oci {

nlohmann::json parseJson(std::string_view bytes, const std::string& what)
{
    try {
        return nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::parse_error& e) {
        std::string detail = e.what();
        // nlohmann prefixes "[json.exception.parse_error.101] "; keep the readable part.
        if (auto pos = detail.find("] "); pos != std::string::npos)
            detail = detail.substr(pos + 2);
        throw Error(what + ": invalid JSON: " + detail);
    }
}

ManifestKind detectManifestKind(const nlohmann::json& j, const std::string& what)
{
    if (!j.is_object())
        throw Error(what + ": not a JSON object");
    if (auto mt = j.find("mediaType"); mt != j.end() && mt->is_string()) {
        const auto& t = mt->get_ref<const std::string&>();
        if (media::isIndex(t))
            return ManifestKind::Index;
        if (media::isManifest(t))
            return ManifestKind::Manifest;
    }
    bool hasManifests = j.contains("manifests");
    bool hasManifestFields = j.contains("config") || j.contains("layers");
    if (hasManifests && hasManifestFields)
        throw Error(what + ": ambiguous: has both \"manifests\" and \"config\"/\"layers\"");
    if (hasManifests)
        return ManifestKind::Index;
    if (hasManifestFields)
        return ManifestKind::Manifest;
    throw Error(what + ": neither an image manifest nor an index (no \"manifests\", \"config\" or \"layers\")");
}

namespace {
std::map<std::string, std::string> annotationsFrom(const nlohmann::json& j)
{
    std::map<std::string, std::string> out;
    if (auto it = j.find("annotations"); it != j.end() && it->is_object())
        for (const auto& [k, v] : it->items())
            if (v.is_string())
                out[k] = v.get<std::string>();
    return out;
}

void putAnnotations(nlohmann::ordered_json& j, const std::map<std::string, std::string>& annotations)
{
    if (annotations.empty())
        return;
    nlohmann::ordered_json a = nlohmann::ordered_json::object();
    for (const auto& [k, v] : annotations)
        a[k] = v;
    j["annotations"] = a;
}
} // namespace

Manifest Manifest::fromJson(const nlohmann::json& j, const std::string& what)
{
    if (!j.is_object())
        throw Error(what + ": manifest is not a JSON object");
    Manifest m;
    m.schemaVersion = j.value("schemaVersion", 2);
    m.mediaType = j.value("mediaType", "");
    m.artifactType = j.value("artifactType", "");
    auto config = j.find("config");
    if (config == j.end())
        throw Error(what + ": manifest has no config descriptor");
    m.config = Descriptor::fromJson(*config, what + ": config");
    if (auto layers = j.find("layers"); layers != j.end()) {
        if (!layers->is_array())
            throw Error(what + ": manifest \"layers\" is not an array");
        for (std::size_t i = 0; i < layers->size(); ++i)
            m.layers.push_back(Descriptor::fromJson((*layers)[i], what + ": layer " + std::to_string(i)));
    }
    m.annotations = annotationsFrom(j);
    return m;
}

Manifest Manifest::parse(std::string_view bytes, const std::string& what)
{
    return fromJson(parseJson(bytes, what), what);
}

nlohmann::ordered_json Manifest::toJson() const
{
    nlohmann::ordered_json j;
    j["schemaVersion"] = schemaVersion;
    if (!mediaType.empty())
        j["mediaType"] = mediaType;
    if (!artifactType.empty())
        j["artifactType"] = artifactType;
    j["config"] = config.toJson();
    nlohmann::ordered_json layerArray = nlohmann::ordered_json::array();
    for (const auto& l : layers)
        layerArray.push_back(l.toJson());
    j["layers"] = layerArray;
    putAnnotations(j, annotations);
    return j;
}

Index Index::fromJson(const nlohmann::json& j, const std::string& what)
{
    if (!j.is_object())
        throw Error(what + ": index is not a JSON object");
    Index idx;
    idx.schemaVersion = j.value("schemaVersion", 2);
    idx.mediaType = j.value("mediaType", "");
    auto manifests = j.find("manifests");
    if (manifests == j.end() || !manifests->is_array())
        throw Error(what + ": index has no \"manifests\" array");
    for (std::size_t i = 0; i < manifests->size(); ++i)
        idx.manifests.push_back(Descriptor::fromJson((*manifests)[i], what + ": manifests[" + std::to_string(i) + "]"));
    idx.annotations = annotationsFrom(j);
    return idx;
}

Index Index::parse(std::string_view bytes, const std::string& what)
{
    return fromJson(parseJson(bytes, what), what);
}

nlohmann::ordered_json Index::toJson() const
{
    nlohmann::ordered_json j;
    j["schemaVersion"] = schemaVersion;
    if (!mediaType.empty())
        j["mediaType"] = mediaType;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& d : manifests)
        list.push_back(d.toJson());
    j["manifests"] = list;
    putAnnotations(j, annotations);
    return j;
}

} // namespace cachescope::oci

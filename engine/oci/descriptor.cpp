#include "oci/descriptor.h"

#include "base/error.h"

namespace cachescope::oci {

Platform Platform::parse(std::string_view text)
{
    Platform p;
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t slash = text.find('/', start);
        parts.emplace_back(text.substr(start, slash - start));
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
        throw Error("invalid platform \"" + std::string(text) + "\" (expected os/arch[/variant], e.g. linux/amd64)");
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3)
        p.variant = parts[2];
    return p;
}

std::string Platform::str() const
{
    std::string s = os + "/" + architecture;
    if (!variant.empty())
        s += "/" + variant;
    return s;
}

std::string Descriptor::annotation(std::string_view key) const
{
    auto it = annotations.find(std::string(key));
    return it == annotations.end() ? std::string() : it->second;
}

Platform platformFromJson(const nlohmann::json& j)
{
    Platform p;
    p.architecture = j.value("architecture", "");
    p.os = j.value("os", "");
    p.osVersion = j.value("os.version", "");
    if (auto it = j.find("os.features"); it != j.end() && it->is_array())
        for (const auto& f : *it)
            if (f.is_string())
                p.osFeatures.push_back(f.get<std::string>());
    p.variant = j.value("variant", "");
    return p;
}

nlohmann::ordered_json platformToJson(const Platform& p)
{
    nlohmann::ordered_json j;
    j["architecture"] = p.architecture;
    j["os"] = p.os;
    if (!p.osVersion.empty())
        j["os.version"] = p.osVersion;
    if (!p.osFeatures.empty())
        j["os.features"] = p.osFeatures;
    if (!p.variant.empty())
        j["variant"] = p.variant;
    return j;
}

Descriptor Descriptor::fromJson(const nlohmann::json& j, const std::string& what)
{
    if (!j.is_object())
        throw Error(what + ": descriptor is not a JSON object");
    Descriptor d;
    if (auto it = j.find("mediaType"); it != j.end() && it->is_string())
        d.mediaType = it->get<std::string>();
    auto digest = j.find("digest");
    if (digest == j.end() || !digest->is_string())
        throw Error(what + ": descriptor has no digest");
    d.digest = Digest::parse(digest->get<std::string>());
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0)
        throw Error(what + ": descriptor " + d.digest.str() + " has no valid size");
    d.size = size->get<std::int64_t>();
    if (auto it = j.find("urls"); it != j.end() && it->is_array())
        for (const auto& u : *it)
            if (u.is_string())
                d.urls.push_back(u.get<std::string>());
    if (auto it = j.find("annotations"); it != j.end() && it->is_object())
        for (const auto& [k, v] : it->items())
            if (v.is_string())
                d.annotations[k] = v.get<std::string>();
    if (auto it = j.find("platform"); it != j.end() && it->is_object())
        d.platform = platformFromJson(*it);
    if (auto it = j.find("artifactType"); it != j.end() && it->is_string())
        d.artifactType = it->get<std::string>();
    return d;
}

nlohmann::ordered_json Descriptor::toJson() const
{
    nlohmann::ordered_json j;
    j["mediaType"] = mediaType;
    j["digest"] = digest.str();
    j["size"] = size;
    if (!urls.empty())
        j["urls"] = urls;
    if (!annotations.empty()) {
        nlohmann::ordered_json a = nlohmann::ordered_json::object();
        for (const auto& [k, v] : annotations)
            a[k] = v;
        j["annotations"] = a;
    }
    if (platform)
        j["platform"] = platformToJson(*platform);
    if (!artifactType.empty())
        j["artifactType"] = artifactType;
    return j;
}

} // namespace cachescope::oci

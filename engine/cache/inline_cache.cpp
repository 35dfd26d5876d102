#include "cache/inline_cache.h"

#include "base/base64.h"
#include "base/error.h"
#include "oci/media_types.h"

#include <array>

namespace cachescope::cache {


InlineCache readInlineCache(const oci::Manifest& manifest, std::string_view imageConfig, const std::string& what)
{
    InlineCache out;
    const nlohmann::json config = oci::parseJson(imageConfig, what);
    if (!config.is_object())
        throw Error(what + ": image config is not a JSON object");
    out.platform = config.value("os", "") + "/" + config.value("architecture", "");
    if (auto v = config.find("variant"); v != config.end() && v->is_string() && !v->get<std::string>().empty())
        out.platform += "/" + v->get<std::string>();

    auto key = config.find(kInlineCacheKey);
    if (key == config.end() || key->is_null())
        return out;
    if (!key->is_string())
        throw Error(what + ": " + std::string(kInlineCacheKey) + " is not a base64 string");
    out.present = true;
    const std::string records = base64Decode(key->get_ref<const std::string&>(), what + ": " + std::string(kInlineCacheKey));
    out.config.records = parseInlineRecords(records, what + ": " + std::string(kInlineCacheKey));

    std::vector<std::string> diffIds;
    if (auto rootfs = config.find("rootfs"); rootfs != config.end() && rootfs->is_object())
        if (auto ids = rootfs->find("diff_ids"); ids != rootfs->end() && ids->is_array())
            for (const auto& id : *ids)
                diffIds.push_back(id.is_string() ? id.get<std::string>() : std::string());
    if (diffIds.size() != manifest.layers.size()) {
        out.skipReason = std::to_string(diffIds.size()) + " diff_ids for " + std::to_string(manifest.layers.size()) +
                         " layers";
        return out;
    }

    // History entries that made a layer, in order: their times and commands annotate the layers.
    std::vector<std::string> created, createdBy;
    if (auto history = config.find("history"); history != config.end() && history->is_array())
        for (const auto& h : *history) {
            if (!h.is_object() || h.value("empty_layer", false))
                continue;
            created.push_back(h.value("created", ""));
            createdBy.push_back(h.value("created_by", ""));
        }

    for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
        oci::Descriptor d = manifest.layers[i];
        d.annotations[std::string(oci::media::AnnotationUncompressed)] = diffIds[i];
        if (i < created.size() && !created[i].empty())
            d.annotations[std::string(oci::media::AnnotationCreatedAt)] = created[i];
        if (i < createdBy.size() && !createdBy[i].empty())
            d.annotations[std::string(oci::media::AnnotationDescription)] = createdBy[i];
        Layer l;
        l.blob = d.digest;
        l.parent = static_cast<int>(i) - 1;
        out.config.layers.push_back(std::move(l));
        out.layers.emplace(d.digest, std::move(d));
    }
    return out;
}

} // namespace cachescope::cache

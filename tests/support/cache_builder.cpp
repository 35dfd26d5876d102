#include "support/cache_builder.h"

#include "base/files.h"
#include "base/go_json.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

#include <algorithm>
#include <map>

namespace cachescope::test {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

CacheBuilder::CacheBuilder(fs::path dir) : dir_(std::move(dir)), layout_(oci::OciLayout::create(dir_)) {}

oci::Descriptor CacheBuilder::addLayer(std::string_view bytes, bool withDiffId)
{
    oci::Descriptor d = layout_.blobs().put(bytes, std::string(oci::media::OciLayerGzip));
    d.annotations[std::string(oci::media::AnnotationCreatedAt)] = "2026-01-02T03:04:05.123456789Z";
    if (withDiffId)
        d.annotations[std::string(oci::media::AnnotationUncompressed)] = oci::Digest::of("diff:" + std::string(bytes)).str();
    return d;
}

oci::Descriptor CacheBuilder::writeCache(std::string_view configJson, const std::vector<oci::Descriptor>& layers,
                                         const std::string& tag, Form form)
{
    oci::Descriptor config = layout_.blobs().put(configJson, std::string(oci::media::BuildkitCacheConfig));
    oci::Descriptor top;
    if (form == Form::ImageManifest) {
        oci::Manifest m;
        m.mediaType = std::string(oci::media::OciManifest);
        m.config = config;
        m.layers = layers;
        top = layout_.blobs().put(goJson(m.toJson()), std::string(oci::media::OciManifest));
    } else {
        oci::Index idx;
        idx.mediaType = std::string(oci::media::OciIndex);
        idx.manifests = layers;
        idx.manifests.push_back(config); // BuildKit lists the config last
        top = layout_.blobs().put(goJson(idx.toJson()), std::string(oci::media::OciIndex));
    }
    layout_.setTag(tag, top);
    return top;
}

oci::Descriptor CacheBuilder::writeInlineImage(std::string_view recordsJson, const std::vector<oci::Descriptor>& layers,
                                               const std::string& arch, int diffIdCount)
{
    ordered_json config;
    config["architecture"] = arch;
    config["os"] = "linux";
    ordered_json diffIds = ordered_json::array();
    const std::size_t n = diffIdCount < 0 ? layers.size() : static_cast<std::size_t>(diffIdCount);
    for (std::size_t i = 0; i < n; ++i)
        diffIds.push_back(oci::Digest::of("diff:" + std::to_string(i) + arch).str());
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", diffIds}};
    ordered_json history = ordered_json::array();
    for (std::size_t i = 0; i < layers.size(); ++i) {
        history.push_back({{"created", "2026-01-02T03:04:0" + std::to_string(i % 10) + "Z"},
                           {"created_by", "RUN step " + std::to_string(i)}});
        history.push_back({{"created", "2026-01-02T03:05:00Z"}, {"created_by", "ENV X=1"}, {"empty_layer", true}});
    }
    config["history"] = history;
    config["moby.buildkit.cache.v0"] = encodeBase64(recordsJson);
    oci::Descriptor configDesc = layout_.blobs().put(goJson(config), std::string(oci::media::DockerConfig));

    oci::Manifest m;
    m.mediaType = std::string(oci::media::DockerManifest);
    m.config = configDesc;
    for (oci::Descriptor l : layers) {
        l.annotations.clear(); // image manifests carry no BuildKit annotations
        l.mediaType = std::string(oci::media::DockerLayerGzip);
        m.layers.push_back(l);
    }
    return layout_.blobs().put(goJson(m.toJson()), std::string(oci::media::DockerManifest));
}

oci::Descriptor CacheBuilder::writeImageIndex(const std::vector<std::pair<oci::Descriptor, std::string>>& manifests,
                                              const std::string& tag)
{
    oci::Index idx;
    idx.mediaType = std::string(oci::media::OciIndex);
    for (auto [d, arch] : manifests) {
        d.platform = oci::Platform{"linux", arch, {}, {}, {}};
        idx.manifests.push_back(d);
    }
    oci::Descriptor top = layout_.blobs().put(goJson(idx.toJson()), std::string(oci::media::OciIndex));
    layout_.setTag(tag, top);
    return top;
}

void CacheBuilder::tag(const std::string& tag, const oci::Descriptor& desc) { layout_.setTag(tag, desc); }

void CacheBuilder::corruptBlob(const oci::Digest& d)
{
    const fs::path p = layout_.blobs().blobPath(d);
    std::string bytes = readFile(p);
    for (auto& c : bytes)
        c = static_cast<char>(c ^ 0x20);
    writeFileAtomic(p, bytes);
}

void CacheBuilder::truncateBlob(const oci::Digest& d)
{
    const fs::path p = layout_.blobs().blobPath(d);
    std::string bytes = readFile(p);
    writeFileAtomic(p, bytes.substr(0, bytes.size() / 2));
}

void CacheBuilder::removeBlob(const oci::Digest& d) { layout_.blobs().remove(d); }

std::string linearCacheConfig(const std::vector<oci::Descriptor>& layers)
{
    // Layers sorted by blob as BuildKit writes them; parents remapped accordingly.
    std::vector<std::size_t> order(layers.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return layers[a].digest < layers[b].digest; });
    std::vector<int> position(layers.size());
    for (std::size_t k = 0; k < order.size(); ++k)
        position[order[k]] = static_cast<int>(k);

    ordered_json cfgLayers = ordered_json::array();
    for (std::size_t k = 0; k < order.size(); ++k) {
        const std::size_t chainIndex = order[k];
        ordered_json l;
        l["blob"] = layers[chainIndex].digest.str();
        const int parent = chainIndex == 0 ? -1 : position[chainIndex - 1];
        if (parent != 0)
            l["parent"] = parent;
        cfgLayers.push_back(l);
    }
    ordered_json records = ordered_json::array();
    records.push_back({{"digest", oci::Digest::of("root-a").str()}});
    records.push_back({{"digest", oci::Digest::of("root-b").str()}});
    for (std::size_t i = 0; i < layers.size(); ++i) {
        ordered_json r;
        r["layers"] = ordered_json::array({{{"layer", position[i]}, {"createdAt", "2026-01-02T03:04:05Z"}}});
        r["digest"] = oci::Digest::of("step-" + std::to_string(i)).str();
        if (i == 0)
            r["inputs"] = ordered_json::array({ordered_json::array({{{"link", 0}}, {{"link", 1}}})});
        else
            r["inputs"] = ordered_json::array({ordered_json::array(
                {{{"selector", oci::Digest::of("/").str()}, {"link", static_cast<int>(i) + 1}}})});
        records.push_back(r);
    }
    ordered_json cfg;
    cfg["layers"] = cfgLayers;
    cfg["records"] = records;
    return goJson(cfg);
}

std::string encodeBase64(std::string_view bytes)
{
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const auto n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) | (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                       std::uint32_t(std::uint8_t(bytes[i + 2]));
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
        if (rest == 2)
            n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string snapshotTree(const fs::path& dir)
{
    std::map<std::string, std::string> entries;
    std::error_code ec;
    if (!fs::exists(dir, ec))
        return "<absent>";
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string rel = fs::relative(e.path(), dir).string();
        if (e.is_regular_file())
            entries[rel] = oci::Digest::of(readFile(e.path())).str();
        else
            entries[rel] = "dir";
    }
    std::string out;
    for (const auto& [k, v] : entries)
        out += k + " " + v + "\n";
    return out;
}

} // namespace cachescope::test

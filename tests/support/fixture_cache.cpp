#include "support/fixture_cache.h"

#include "base/error.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "support/fixtures.h"

#include <QByteArray>

namespace cachescope::test {

const std::vector<std::string>& fixtureNames()
{
    static const std::vector<std::string> names{"01-single-stage", "02-multi-stage", "03-build-args", "04-scratch-copy"};
    return names;
}

const std::vector<std::string>& variantNames()
{
    static const std::vector<std::string> names{"local-max",    "local-min",          "local-max-index", "registry-min",
                                                "registry-max", "registry-max-index", "inline-image"};
    return names;
}

std::string variantTag(const std::string& variant)
{
    if (variant.rfind("local-", 0) == 0)
        return "latest";
    if (variant == "inline-image")
        return "inline";
    return "cache-" + variant.substr(std::string("registry-").size());
}

FixtureCache loadFixtureCache(const std::string& fixture, const std::string& variant)
{
    return loadCacheLayout(cacheVariant(fixture, variant), variantTag(variant));
}

FixtureCache loadCacheLayout(const std::filesystem::path& layoutDir, const std::string& tag)
{
    FixtureCache out;
    auto layout = oci::OciLayout::open(layoutDir);
    auto top = layout.findTag(tag);
    if (!top)
        throw Error(layoutDir.string() + ": tag " + tag + " missing");
    out.top = *top;
    const std::string topBytes = layout.blobs().read(top->digest);
    const auto json = oci::parseJson(topBytes, "top");
    if (json.contains("manifests")) {
        for (const auto& d : oci::Index::fromJson(json, "index").manifests) {
            if (d.mediaType == oci::media::BuildkitCacheConfig)
                out.configBytes = layout.blobs().read(d.digest);
            else
                out.layers[d.digest] = d;
        }
        return out;
    }
    const auto m = oci::Manifest::fromJson(json, "manifest");
    for (const auto& d : m.layers)
        out.layers[d.digest] = d;
    const std::string config = layout.blobs().read(m.config.digest);
    if (m.config.mediaType == oci::media::BuildkitCacheConfig) {
        out.configBytes = config;
        return out;
    }
    out.isInline = true;
    const auto image = oci::parseJson(config, "image config");
    const std::string b64 = image.at("moby.buildkit.cache.v0").get<std::string>();
    const QByteArray decoded = QByteArray::fromBase64(QByteArray::fromStdString(b64));
    out.configBytes = decoded.toStdString();
    return out;
}

} // namespace cachescope::test

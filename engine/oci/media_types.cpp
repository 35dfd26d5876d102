#include "oci/media_types.h"

#include <array>
#include <utility>

namespace cachescope::oci::media {

namespace {
// OCI layer type <-> Docker layer type, for the types that have a counterpart.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kLayerPairs{{
    {OciLayer, DockerLayer},
    {OciLayerGzip, DockerLayerGzip},
    {OciLayerZstd, DockerLayerZstd},
    {OciLayerNondistributableGzip, DockerForeignLayerGzip},
}};
} // namespace

bool isIndex(std::string_view t)
{
    return t == OciIndex || t == DockerManifestList;
}

bool isManifest(std::string_view t)
{
    return t == OciManifest || t == DockerManifest;
}

bool isLayer(std::string_view t)
{
    return t == OciLayer || t == OciLayerGzip || t == OciLayerZstd || t == OciLayerNondistributable ||
           t == OciLayerNondistributableGzip || t == OciLayerNondistributableZstd || t == DockerLayer ||
           t == DockerLayerGzip || t == DockerLayerZstd || t == DockerForeignLayerGzip;
}

bool isImageConfig(std::string_view t)
{
    return t == OciConfig || t == DockerConfig;
}

Compression layerCompression(std::string_view t)
{
    if (t == OciLayer || t == DockerLayer || t == OciLayerNondistributable)
        return Compression::Uncompressed;
    if (t == OciLayerGzip || t == DockerLayerGzip || t == OciLayerNondistributableGzip || t == DockerForeignLayerGzip)
        return Compression::Gzip;
    if (t == OciLayerZstd || t == DockerLayerZstd || t == OciLayerNondistributableZstd)
        return Compression::Zstd;
    return Compression::Unknown;
}

std::string toOciLayerType(std::string_view t)
{
    for (auto [oci, docker] : kLayerPairs)
        if (t == docker)
            return std::string(oci);
    return std::string(t);
}

std::string toDockerLayerType(std::string_view t)
{
    for (auto [oci, docker] : kLayerPairs)
        if (t == oci)
            return std::string(docker);
    return std::string(t);
}

std::string manifestAcceptHeader()
{
    return std::string(OciManifest) + ", " + std::string(OciIndex) + ", " + std::string(DockerManifest) + ", " +
           std::string(DockerManifestList);
}

} // namespace cachescope::oci::media

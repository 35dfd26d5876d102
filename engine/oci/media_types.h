#pragma once
// Every OCI and Docker media type a cache export or an image can use, and how they relate.
#include <string>
#include <string_view>

namespace cachescope::oci::media {

// OCI image spec
inline constexpr std::string_view OciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view OciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view OciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view OciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view OciLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view OciLayerNondistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view OciLayerNondistributableZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view OciEmpty = "application/vnd.oci.empty.v1+json";

// Docker image manifest v2 schema 2
inline constexpr std::string_view DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view DockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view DockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

// BuildKit
inline constexpr std::string_view BuildkitCacheConfig = "application/vnd.buildkit.cacheconfig.v0";

// Annotations BuildKit writes on cache layer descriptors, and the OCI tag annotation.
inline constexpr std::string_view AnnotationUncompressed = "containerd.io/uncompressed";
inline constexpr std::string_view AnnotationCreatedAt = "buildkit/createdat";
inline constexpr std::string_view AnnotationDescription = "buildkit/description";
inline constexpr std::string_view AnnotationRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view AnnotationContainerdImageName = "io.containerd.image.name";

enum class Compression { Uncompressed, Gzip, Zstd, Unknown };

bool isIndex(std::string_view mediaType);     // OCI index or Docker manifest list
bool isManifest(std::string_view mediaType);  // OCI or Docker image manifest
bool isLayer(std::string_view mediaType);     // any OCI or Docker layer type
bool isImageConfig(std::string_view mediaType);
Compression layerCompression(std::string_view mediaType);

// BuildKit normalises Docker layer types to OCI ones before export and back when oci-mediatypes=false.
std::string toOciLayerType(std::string_view mediaType);
std::string toDockerLayerType(std::string_view mediaType);

// The Accept header value a client sends for manifests: every manifest and index type.
std::string manifestAcceptHeader();

} // namespace cachescope::oci::media

#pragma once
// Reading layer blobs: compression from magic bytes, and the diffID (sha256 of the tar).
#include "oci/digest.h"
#include "oci/media_types.h"

#include <filesystem>
#include <string_view>

namespace cachescope::exec {

// gzip (1f 8b), zstd (28 b5 2f fd) or, otherwise, an uncompressed tar.
oci::media::Compression detectCompression(const std::filesystem::path& blob);

// The compression to read a blob with: its magic bytes win over its media type, because
// registries serve "tar" layers that are gzip. Throws Error for media types that are not layers.
oci::media::Compression layerReadCompression(const std::filesystem::path& blob, std::string_view mediaType);

// sha256 of the uncompressed stream, streamed (constant memory).
oci::Digest computeDiffId(const std::filesystem::path& blob);

} // namespace cachescope::exec

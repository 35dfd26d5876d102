#pragma once
// Reading layer blobs: compression from magic bytes, and the diffID (sha256 of the tar).
#include "oci/digest.h"
#include "oci/media_types.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

namespace cachescope::exec {

// gzip (1f 8b), zstd (28 b5 2f fd) or, otherwise, an uncompressed tar.
oci::media::Compression detectCompression(const std::filesystem::path& blob);

// The compression to read a blob with: its magic bytes win over its media type, because
// registries serve "tar" layers that are gzip. Throws Error for media types that are not layers.
oci::media::Compression layerReadCompression(const std::filesystem::path& blob, std::string_view mediaType);

// Streams the uncompressed bytes of a gzip (one or several members), zstd or plain tar blob to
// `sink` in chunks of at most 1 MiB. Throws Error naming the blob when it cannot be read or decoded.
void readUncompressed(const std::filesystem::path& blob, const std::function<void(const char*, std::size_t)>& sink);

// sha256 of the uncompressed stream, streamed (constant memory).
oci::Digest computeDiffId(const std::filesystem::path& blob);

} // namespace cachescope::exec

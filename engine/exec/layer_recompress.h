#pragma once
// A layer blob in one compression becomes the same layer in another (cache export with
// compression=zstd|gzip|uncompressed, force-compression): decompress -> recompress through the
// layer writer's compressors, streamed, never whole in memory. The tar bytes, and so the diffID,
// stay the same; the decompressed stream is hashed and must equal the diffID the caller expects.
#include "oci/content_store.h"
#include "oci/descriptor.h"
#include "oci/media_types.h"

#include <filesystem>
#include <stop_token>

namespace cachescope::exec {

struct RecompressOptions {
    oci::media::Compression compression = oci::media::Compression::Zstd;
    int level = -1;   // the compressor's default when < 0
    int threads = 0;  // compression workers (gzip members, zstd); 0 = one per core
    bool ociMediaTypes = true;
    std::stop_token cancel;
};

struct RecompressResult {
    oci::Descriptor descriptor; // media type, digest, size of the new blob (no annotations)
    oci::Digest diffId;         // sha256 of the tar read
    std::uint64_t tarSize = 0;
};

// Reads `blob` (gzip, zstd or tar: told by its magic bytes) and writes it in `options.compression`
// into `into`. Throws Error naming the blob when it cannot be decoded, when its tar does not hash to
// `expectedDiffId` (skipped when that is empty), or on cancel; nothing is left in the store then.
RecompressResult recompressLayer(const std::filesystem::path& blob, const oci::Digest& expectedDiffId,
                                 oci::ContentStore& into, const RecompressOptions& options);

} // namespace cachescope::exec

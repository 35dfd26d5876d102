#pragma once
// A diff directory becomes a layer blob: tar (PAX, sorted names) -> gzip | zstd | nothing,
// streamed into the content store while hashing both the tar (diffID) and the blob. Both compressors
// use every core: zstd its own workers, gzip independent 1 MiB members (exec/parallel_gzip.h).
#include "exec/owner.h"
#include "exec/whiteout.h"
#include "oci/content_store.h"
#include "oci/descriptor.h"
#include "oci/media_types.h"

#include <cstdint>
#include <filesystem>
#include <stop_token>

namespace cachescope::exec {

struct LayerWriterOptions {
    oci::media::Compression compression = oci::media::Compression::Gzip;
    int level = -1;      // compressor's own default when < 0 (gzip 6, zstd 3)
    int threads = 0;     // compression workers (gzip members, zstd); 0 = one per core
    bool ociMediaTypes = true;
    WhiteoutFormat whiteouts = WhiteoutFormat::Overlay;
    OwnerMap owners;     // how on-disk owners become layer owners
    std::stop_token cancel;
};

struct LayerWriteResult {
    oci::Descriptor descriptor;     // media type, digest, size, containerd.io/uncompressed
    oci::Digest diffId;             // sha256 of the tar
    std::uint64_t tarSize = 0;
    std::uint64_t entries = 0;
};

// Writes the layer for `diffDir` into `store` (no-op for the bytes when the blob is present).
// Throws Error naming the directory and the file on failure, and Error("… cancelled") when
// `cancel` is requested; nothing is left in the store then.
LayerWriteResult writeLayer(const std::filesystem::path& diffDir, oci::ContentStore& store,
                            const LayerWriterOptions& options = {});

} // namespace cachescope::exec

#pragma once
// A cache export target as buildx spells it (`--cache-to`): type=local,dest=DIR[,tag=T],
// type=registry,ref=REF or type=inline, with the export options and BuildKit's defaults
// (spec §2.2, §3.1): mode=min, oci-mediatypes=true, image-manifest=true unless
// oci-mediatypes=false was given explicitly, compression gzip.
#include "cache/cache_spec.h"
#include "oci/media_types.h"

#include <string>
#include <string_view>

namespace cachescope::cache {

enum class ExportMode { Min, Max };

// The compression asked for: applies to newly created blobs; with force, to existing ones too.
struct ExportCompression {
    oci::media::Compression type = oci::media::Compression::Gzip;
    bool estargz = false; // compression=estargz: gzip blobs with a TOC
    int level = -1;       // compression-level; -1 = the compressor's default
    bool force = false;   // force-compression
    std::string name() const; // "gzip", "zstd", "uncompressed", "estargz"
};

struct CacheExportSpec {
    std::string type;         // local, registry, inline
    std::string dest;         // local
    std::string tag = "latest"; // local: org.opencontainers.image.ref.name in index.json
    std::string ref;          // registry, normalised is left to the registry layer
    ExportMode mode = ExportMode::Min;
    bool ociMediaTypes = true;
    bool imageManifest = true;
    ExportCompression compression;
    bool ignoreError = false;
    bool insecure = false;    // registry.insecure
    bool exportOnFailure = false; // export-on-failure: a failed build still exports the steps that finished
    std::string raw;          // the text it was parsed from

    // "local cache export /dir (tag latest)", "registry cache export host/repo:tag", "inline cache export".
    std::string displayName() const;
};

// Parses one --cache-to value. Throws Error("cache export \"<text>\": <cause>") with BuildKit's and
// buildx's wording where they have one: unsupported compression type X, non-bool value X specified
// for force-compression, non-integer value X specified for compression-level, and for
// image-manifest=true with oci-mediatypes=false: invalid configuration for remote cache, OCI
// mediatypes are required for image-manifest cache format.
CacheExportSpec parseCacheExportSpec(std::string_view text);

} // namespace cachescope::cache

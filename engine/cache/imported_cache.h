#pragma once
// One cache source after import: what it was, what form it had, its config(s) and key graph(s),
// and everything found wrong with it. A source that could not be imported has ok=false and an
// error naming it; it then carries no graph at all (nothing partial).
//
// Inline caches of a multi-platform image give one ImportedGraph per platform inside a single
// ImportedCache (BuildKit treats them as one combined source); every other form has exactly one.
#include "cache/blob_provider.h"
#include "cache/cache_config.h"
#include "cache/cache_spec.h"
#include "cache/context_manifest.h"
#include "cache/key_graph.h"
#include "cache/source_problem.h"
#include "oci/descriptor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::cache {

enum class CacheForm { ImageManifest, Index, Inline };

// "image-manifest", "index", "inline"
std::string_view cacheFormName(CacheForm form);

// BuildKit refuses manifests and configs above this (cache/remotecache/import.go); CacheScope
// reads them anyway and reports it.
inline constexpr std::int64_t kBuildkitBlobLimit = 1024 * 1024;
// CacheScope's own ceiling for a manifest or config read into memory.
inline constexpr std::size_t kMaxMetadataBytes = 64 * 1024 * 1024;

struct ImportedGraph {
    std::string platform;      // inline: "linux/amd64"; empty for cache manifests
    oci::Digest manifestDigest; // the cache manifest/index, or the platform's image manifest
    oci::Digest configDigest;   // the cache config, or the image config carrying inline cache
    std::map<oci::Digest, oci::Descriptor> layerDescriptors; // layer blobs the manifest lists
    CacheConfig config;         // inline: synthetic layers (parent i-1) + the decoded records
    KeyGraph graph;
};

struct ImportedCache {
    CacheSpec spec;
    std::string source; // the provider's description, the name used in messages
    bool ok = false;
    std::string error;  // "<source>: <cause>" when !ok
    CacheForm form = CacheForm::ImageManifest;
    oci::Digest manifestDigest;
    std::string manifestMediaType;
    std::int64_t manifestSize = 0;
    std::int64_t configSize = 0; // the cache config; inline: the largest image config read
    std::vector<ImportedGraph> graphs;
    std::vector<SourceProblem> problems;
    std::int64_t blobBytes = 0;  // sum of the distinct layer blobs listed
    std::size_t missingBlobs = 0;
    // CacheScope's own exports: the context manifest of the build that wrote it (not a layer; a
    // manifest that cannot be read is a problem "context-manifest", never a failed import).
    std::optional<ContextManifest> contextManifest;

    std::size_t recordCount() const;
    std::size_t layerCount() const; // config layers (inline: image layers)
    std::size_t resultCount() const;
};

// Imports one source: resolve, read the top blob, detect the form (spec §3.3), read the config
// or the inline cache, build the key graph(s), preflight every listed blob. Never throws for a
// problem of the source: it comes back as ok=false with the source and the cause in `error`.
ImportedCache importCache(BlobProvider& provider, const CacheSpec& spec);

} // namespace cachescope::cache

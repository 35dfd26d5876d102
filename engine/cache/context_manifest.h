#pragma once
// A context manifest: the file list behind a build's context checksums, so that a later build can say
// which files made a COPY (or a RUN bind mount of the context) miss. One is kept per build in the local
// history (solver/context_history.h); CacheScope's own cache exports carry it as an extra descriptor
// that BuildKit ignores (contextManifestDescriptor), and the importer reads it back
// (ImportedCache::contextManifest), so the explanation also works on another machine.
//
// JSON (compact, deterministic: keys sorted, selectors sorted by their text):
//   {"files":{"a.txt":{"digest":"sha256:…","mode":420,"size":5,"type":"file"},
//             "lib":{"mode":493,"type":"dir"},"ln":{"link":"a.txt","mode":511,"type":"symlink"}},
//    "mediaType":"application/vnd.cachescope.context-manifest.v1+json",
//    "selectors":[{"checksum":"sha256:…","paths":["a.txt"],"selector":"/a.txt"}]}
// `digest` is BuildKit's per-file checksum (tarsum header + content, docs/cache-keys.md), so a manifest
// never holds file contents; paths are relative to the context root, slash-separated.
#include "cache/blob_provider.h"
#include "oci/descriptor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::cache {

inline constexpr std::string_view kContextManifestMediaType = "application/vnd.cachescope.context-manifest.v1+json";
// Manifests are read into memory: refuse anything larger (a 100,000-file context is about 15 MB).
inline constexpr std::size_t kMaxContextManifestBytes = 256 * 1024 * 1024;

struct ManifestFile {
    std::string type = "file"; // "file", "dir", "symlink", "other"
    std::int64_t size = 0;     // regular files
    std::uint32_t mode = 0;    // permission bits incl. setuid/setgid/sticky
    std::string digest;        // regular files and symlinks: BuildKit's per-file checksum
    std::string link;          // symlink target
    bool operator==(const ManifestFile&) const = default;
};

struct ManifestSelector {
    std::string selector;           // the selector's text (solver::selectorText)
    std::string checksum;           // its content checksum in that build
    std::vector<std::string> paths; // files it covers, sorted
};

struct ContextManifest {
    std::map<std::string, ManifestFile> files;
    std::vector<ManifestSelector> selectors; // sorted by selector text, unique

    const ManifestSelector* find(std::string_view selector) const;
    // Adds or replaces a selector and the files it covers (files already present are kept).
    void add(ManifestSelector selector, const std::map<std::string, ManifestFile>& files);

    std::string toJson() const;
    // Throws Error("<what>: …") for malformed JSON or a wrong mediaType.
    static ContextManifest parse(std::string_view json, const std::string& what);
};

// The descriptor a cache export lists for the manifest blob `json` (the bytes of toJson()): media type
// kContextManifestMediaType, digest and size of the bytes, annotation "org.opencontainers.image.title".
//
// Why BuildKit ignores it (spec §3.3 step 4, §10.3): its importer reads the cache manifest's `layers`
// (image-manifest form) or the index's `manifests` other than the cacheconfig entry (index form) into a
// map digest -> descriptor and nothing else. Blobs are looked up in that map only through the cache
// config's `layers[].blob`, and only when a loaded result is extracted (§3.3 step 7); no config layer
// names the manifest's digest, so BuildKit never fetches, unpacks or validates it, and its media type is
// never inspected. The descriptor adds about 250 bytes to the cache manifest (1 MiB limit). The exporter
// must push the blob like any other (registries check that a manifest's blobs exist) and must not add a
// config `layers` entry for it.
oci::Descriptor contextManifestDescriptor(std::string_view json);
bool isContextManifestDescriptor(const oci::Descriptor& d);

// Reads and parses the manifest blob a cache export lists. Throws Error naming the blob.
ContextManifest readContextManifest(BlobProvider& provider, const oci::Descriptor& d);

} // namespace cachescope::cache

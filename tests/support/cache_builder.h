#pragma once
// Writes synthetic BuildKit caches as OCI layouts, for tests that need caches the fixtures do not
// have: malformed configs, missing or corrupt blobs, multi-platform inline images, huge configs.
#include "oci/descriptor.h"
#include "oci/oci_layout.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::test {

class CacheBuilder {
public:
    enum class Form { ImageManifest, Index };

    // Creates (or reuses) an OCI layout in `dir`.
    explicit CacheBuilder(std::filesystem::path dir);

    const std::filesystem::path& dir() const { return dir_; }
    oci::OciLayout& layout() { return layout_; }

    // Stores a layer blob (any bytes: nothing unpacks them) and returns its descriptor, annotated
    // like BuildKit's (containerd.io/uncompressed unless withDiffId is false, buildkit/createdat).
    oci::Descriptor addLayer(std::string_view bytes, bool withDiffId = true);

    // Stores `configJson` as the cache config and a manifest (or index) listing `layers`, and tags it.
    oci::Descriptor writeCache(std::string_view configJson, const std::vector<oci::Descriptor>& layers,
                               const std::string& tag = "latest", Form form = Form::ImageManifest);

    // An image whose config carries inline cache (`recordsJson` base64-encoded) and the given
    // diff_ids (one per layer unless overridden). Returns the image manifest, not tagged.
    oci::Descriptor writeInlineImage(std::string_view recordsJson, const std::vector<oci::Descriptor>& layers,
                                     const std::string& arch = "amd64", int diffIdCount = -1);
    // Tags an image index listing `manifests` with their platforms (linux/<arch>).
    oci::Descriptor writeImageIndex(const std::vector<std::pair<oci::Descriptor, std::string>>& manifests,
                                    const std::string& tag);
    void tag(const std::string& tag, const oci::Descriptor& desc);

    // Damage done after writing: same length other bytes / half the bytes / gone.
    void corruptBlob(const oci::Digest& d);
    void truncateBlob(const oci::Digest& d);
    void removeBlob(const oci::Digest& d);

private:
    std::filesystem::path dir_;
    oci::OciLayout layout_;
};

// A valid cache config over `layers` (a linear chain): two root records, then one record per
// layer linking the previous one with the "/" selector, each with the layer as its result.
std::string linearCacheConfig(const std::vector<oci::Descriptor>& layers);

// Base64 as Go encodes []byte.
std::string encodeBase64(std::string_view bytes);

// Every file under `dir` with its size and contents hash, to prove an import wrote nothing.
std::string snapshotTree(const std::filesystem::path& dir);

} // namespace cachescope::test

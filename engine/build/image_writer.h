#pragma once
// The image a build produces, written as an OCI image layout: config (env, cmd, entrypoint, workdir,
// user, labels, exposed ports, rootfs, history), manifest, and index.json tagged with its name.
#include "dockerfile/stages.h"
#include "oci/content_store.h"
#include "oci/descriptor.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::build {

struct ImageInput {
    dockerfile::ImageConfig config;
    std::string os = "linux";
    std::string architecture;
    std::string variant;
    std::vector<oci::Descriptor> layers; // bottom first, blobs in the content store
    std::vector<oci::Digest> diffIds;
    std::vector<std::string> history;    // created_by of each step
    std::optional<std::string> inlineCache; // moby.buildkit.cache.v0 (--cache-to type=inline)
};

// The image config JSON (OCI image-spec field names).
std::string imageConfigJson(const ImageInput& image);

// Copies the layers from `store` into the layout at `dest` (created), writes config and manifest,
// then points `tag` at the manifest (index.json last). Returns the manifest digest. Throws Error
// naming the directory.
oci::Digest writeOciImage(const ImageInput& image, const oci::ContentStore& store, const std::filesystem::path& dest,
                          const std::string& tag);

} // namespace cachescope::build

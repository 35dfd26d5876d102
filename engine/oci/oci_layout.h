#pragma once
// An OCI image layout directory: oci-layout, index.json, blobs/sha256/.
// Tags are index.json entries named by `io.containerd.image.name` or
// `org.opencontainers.image.ref.name`. index.json changes are atomic and serialised
// by index.json.lock, as BuildKit's client does.
#include "oci/content_store.h"
#include "oci/manifest.h"

#include <filesystem>
#include <optional>
#include <string>

namespace cachescope::oci {

class OciLayout {
public:
    // Opens an existing layout. Throws Error naming the directory when it or its index.json is missing.
    static OciLayout open(const std::filesystem::path& dir);
    // Opens or creates a layout for writing (directory, oci-layout, an empty index.json when absent).
    static OciLayout create(const std::filesystem::path& dir);

    const std::filesystem::path& dir() const { return dir_; }
    ContentStore& blobs() { return store_; }
    const ContentStore& blobs() const { return store_; }

    Index readIndex() const;
    // The descriptor tagged `tag`: first by io.containerd.image.name, then by ref.name. nullopt when absent.
    std::optional<Descriptor> findTag(const std::string& tag) const;
    // Points `tag` at `desc`, replacing entries with the same ref name and keeping other tags.
    void setTag(const std::string& tag, Descriptor desc);

private:
    explicit OciLayout(std::filesystem::path dir);
    std::filesystem::path dir_;
    ContentStore store_;
};

} // namespace cachescope::oci

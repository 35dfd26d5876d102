#pragma once
// Copies a tagged image or cache (manifest or index, with everything it references) between an OCI
// layout and a registry repository. Blobs go first, in parallel; manifests children-first; the top
// manifest last under its tag, so a reader never finds a tag whose content is incomplete.
#include "oci/oci_layout.h"
#include "registry/registry_client.h"

#include <string>

namespace cachescope::registry {

// Pushes layout tag srcTag to repo:destTag. Throws Error naming the layout or the registry.
oci::Descriptor pushLayoutTag(RegistryClient& client, const oci::OciLayout& layout, const std::string& srcTag,
                              const std::string& repo, const std::string& destTag);

// Pulls repo:tagOrDigest with everything it references into the layout, tagged destTag.
oci::Descriptor pullToLayout(RegistryClient& client, const std::string& repo, const std::string& tagOrDigest,
                             oci::OciLayout& layout, const std::string& destTag, ProgressFn progress = {});

} // namespace cachescope::registry

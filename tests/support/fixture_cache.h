#pragma once
// Reads the raw cache config of a fixture variant straight from its OCI layout, without the
// importer, so parser tests do not depend on the code they check against.
#include "oci/descriptor.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cachescope::test {

// The 4 fixtures and 7 variants of tests/fixtures/buildkit-v0.24.
const std::vector<std::string>& fixtureNames();
const std::vector<std::string>& variantNames();
// The tag each variant was exported under (fixture README): latest, cache-min, cache-max, …
std::string variantTag(const std::string& variant);

struct FixtureCache {
    bool isInline = false;
    oci::Descriptor top;
    std::string configBytes; // the cacheconfig blob, or the decoded inline records array
    std::map<oci::Digest, oci::Descriptor> layers; // as listed by the manifest (inline: image layers)
};

FixtureCache loadFixtureCache(const std::string& fixture, const std::string& variant);
// The same from any OCI layout holding a cache export (a local export: tag "latest").
FixtureCache loadCacheLayout(const std::filesystem::path& layoutDir, const std::string& tag);

} // namespace cachescope::test

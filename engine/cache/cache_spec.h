#pragma once
// A cache source as buildx spells it on the command line (`--cache-from`): CSV of key=value
// fields, quoted the encoding/csv way ("ref=a,b"), keys case-insensitive; a value without any
// `=` is the shorthand for type=registry,ref=<it>.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::cache {

struct CacheSpec {
    std::string type;                         // registry, local, inline
    std::map<std::string, std::string> attrs; // every field but type (keys lowercased)
    std::string raw;                          // the text it was parsed from

    std::string attr(const std::string& key, const std::string& fallback = {}) const;
    bool has(const std::string& key) const { return attrs.count(key) != 0; }
    // How errors and reports name the source: "local cache /x (tag latest)",
    // "registry cache host/repo:tag", "inline cache host/repo:tag".
    std::string displayName() const;
};

// Parses one source. Throws Error naming the text and the cause: a CSV error, a field without
// `=`, an unknown type, a missing src/ref, a malformed digest.
CacheSpec parseCacheSpec(std::string_view text);
// Parses one --cache-from value; the bare-ref shorthand may list several refs ("a,b").
std::vector<CacheSpec> parseCacheSpecs(std::string_view text);

// Splits one CSV line with Go encoding/csv's default rules (exposed for tests).
std::vector<std::string> splitCsvFields(std::string_view line);

} // namespace cachescope::cache

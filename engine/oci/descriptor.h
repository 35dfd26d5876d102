#pragma once
// OCI content descriptor and platform, with JSON in the field order of the Go structs.
#include "oci/digest.h"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::oci {

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;
    std::string osVersion;
    std::vector<std::string> osFeatures;

    // "linux/amd64", "linux/arm64/v8"
    static Platform parse(std::string_view text);
    std::string str() const;
    bool operator==(const Platform&) const = default;
};

struct Descriptor {
    std::string mediaType;
    Digest digest;
    std::int64_t size = 0;
    std::vector<std::string> urls;
    std::map<std::string, std::string> annotations; // Go maps marshal sorted, as std::map iterates
    std::optional<Platform> platform;
    std::string artifactType;

    std::string annotation(std::string_view key) const;

    // Throws Error("<what>: …") when a required field is missing or malformed.
    static Descriptor fromJson(const nlohmann::json& j, const std::string& what);
    nlohmann::ordered_json toJson() const;
};

Platform platformFromJson(const nlohmann::json& j);
nlohmann::ordered_json platformToJson(const Platform& p);

} // namespace cachescope::oci

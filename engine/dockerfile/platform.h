#pragma once
// An OCI platform as BuildKit's frontend formats and normalises it (containerd/platforms).
#include <string>
#include <string_view>

namespace cachescope::dockerfile {

struct Platform {
    std::string os = "linux";
    std::string architecture = "amd64";
    std::string variant;
    std::string osVersion;

    // "linux/amd64", "linux/arm/v7" (platforms.Format; osVersion is not shown)
    std::string str() const;
    // platforms.FormatAll: like str() with ":<osVersion>" after the OS when set
    std::string strAll() const;
    // Parses "linux/arm64", "linux/arm/v7", "amd64" (OS defaults to linux) and normalises aliases
    // (x86_64 -> amd64, aarch64 -> arm64, arm -> arm/v7, arm64/v8 -> arm64). Throws Error when malformed.
    static Platform parse(std::string_view text);

    bool operator==(const Platform&) const = default;
};

} // namespace cachescope::dockerfile

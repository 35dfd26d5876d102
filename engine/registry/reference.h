#pragma once
// A Docker image reference ("busybox", "127.0.0.1:5000/ref/app:cache@sha256:…"), parsed and
// normalised the way Docker and BuildKit do (github.com/distribution/reference).
#include "oci/digest.h"

#include <string>
#include <string_view>

namespace cachescope::registry {

inline constexpr std::string_view DockerHubDomain = "docker.io";
// Docker Hub's API is not served on docker.io itself.
inline constexpr std::string_view DockerHubApiHost = "registry-1.docker.io";

struct Reference {
    std::string domain; // "docker.io", "127.0.0.1:5000", "[::1]:5000"
    std::string path;   // "library/busybox"
    std::string tag;    // empty only when a digest is given
    oci::Digest digest; // may be empty

    // Parses and normalises: "busybox" -> docker.io/library/busybox:latest. A missing tag becomes "latest"
    // unless a digest pins the reference. Throws Error naming the text when it is not a valid reference.
    static Reference parse(std::string_view text);

    // domain/path[:tag][@digest]
    std::string str() const;
    // domain/path
    std::string repository() const;
    // The digest when there is one (it is what a registry is asked for), else the tag.
    std::string tagOrDigest() const;
    // The host the Distribution API is served on (registry-1.docker.io for docker.io).
    std::string apiHost() const;
    // 127.0.0.0/8, ::1 or localhost (with any port): plain HTTP is allowed there.
    bool isLoopback() const;

    bool operator==(const Reference&) const = default;
};

// True for a registry host (with optional port) on the loopback interface.
bool isLoopbackHost(std::string_view hostWithPort);
// "docker.io" -> "registry-1.docker.io"; other domains unchanged.
std::string apiHostFor(std::string_view domain);

} // namespace cachescope::registry

#pragma once
// The two ways a diff says "deleted here": overlayfs upper dirs (a 0/0 character device,
// an "opaque" xattr on a directory) and OCI layers (".wh.<name>", ".wh..wh..opq").
#include <filesystem>
#include <string_view>
#include <sys/stat.h>

namespace cachescope::exec {

enum class WhiteoutFormat {
    Overlay, // an overlayfs upper directory
    Oci,     // a directory holding OCI whiteout files (the copying fallback's diffs)
};

inline constexpr std::string_view OciWhiteoutPrefix = ".wh.";
inline constexpr std::string_view OciOpaqueMarker = ".wh..wh..opq";

// A 0/0 character device: how overlayfs marks a deleted name.
bool isOverlayWhiteout(const struct stat& st);
// trusted.overlay.opaque or user.overlay.opaque is "y" on this directory.
bool isOverlayOpaque(const std::filesystem::path& dir);
// xattrs that belong to overlayfs itself and never go into a layer.
bool isOverlayXattr(std::string_view name);

} // namespace cachescope::exec

#pragma once
// RUN's user ("name", "uid", "name:group", "uid:gid") resolved against the rootfs's
// /etc/passwd and /etc/group, as BuildKit does.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::exec {

struct ResolvedUser {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> groups; // supplementary groups from /etc/group
};

// Reads a file of the rootfs ("etc/passwd"); nullopt when absent.
using RootFileReader = std::function<std::optional<std::string>(const std::string& rel)>;

// "" means root. A name missing from /etc/passwd (or a group from /etc/group) throws Error;
// numeric ids need no entry (the gid then comes from passwd, or is 0).
ResolvedUser resolveUser(std::string_view spec, const RootFileReader& readRootFile);

} // namespace cachescope::exec

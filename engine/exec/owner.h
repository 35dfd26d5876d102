#pragma once
// File ownership as a layer records it, and how on-disk owners become layer owners.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace cachescope::exec {

struct Owner {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    bool operator==(const Owner&) const = default;
};

// Without root, a snapshot's files all belong to the engine's user: the owners a layer asked
// for are recorded instead (by path), and what the sandbox created as its single mapped user
// is translated back. Paths are relative to the tree root, without a leading "/".
struct OwnerMap {
    std::unordered_map<std::string, Owner> byPath;
    std::optional<Owner> hostOwner;  // this on-disk owner ...
    Owner hostOwnerBecomes;          // ... is written as this one

    Owner map(const std::string& path, Owner onDisk) const
    {
        if (auto it = byPath.find(path); it != byPath.end())
            return it->second;
        if (hostOwner && onDisk == *hostOwner)
            return hostOwnerBecomes;
        return onDisk;
    }
    bool empty() const { return byPath.empty() && !hostOwner; }
};

} // namespace cachescope::exec

#pragma once
// The ordered KEY=value environment BuildKit keeps per build state. Setting a key again removes it from
// its old place and appends it, so the list is ordered by when each key was *last* set (this order is
// what ends up in a RUN's meta.env and therefore in its cache key).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachescope::dockerfile {

class EnvList {
public:
    EnvList() = default;
    // From "KEY=value" strings (an image config's Env); a string without '=' has an empty value.
    static EnvList fromStrings(const std::vector<std::string>& entries);

    // Removes the key if present, then appends it (BuildKit's AddOrReplace on a state env).
    void set(std::string_view key, std::string_view value);
    void remove(std::string_view key);
    std::optional<std::string> get(std::string_view key) const;
    bool contains(std::string_view key) const { return get(key).has_value(); }

    const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
    std::vector<std::string> keys() const;
    // "KEY=value" in order, as in meta.env.
    std::vector<std::string> toStrings() const;
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }

    bool operator==(const EnvList&) const = default;

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

} // namespace cachescope::dockerfile

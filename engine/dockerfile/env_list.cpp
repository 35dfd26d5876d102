#include "dockerfile/env_list.h"

#include <algorithm>

namespace cachescope::dockerfile {

EnvList EnvList::fromStrings(const std::vector<std::string>& entries)
{
    EnvList env;
    for (const std::string& e : entries) {
        const auto eq = e.find('=');
        if (eq == std::string::npos)
            env.set(e, "");
        else
            env.set(std::string_view(e).substr(0, eq), std::string_view(e).substr(eq + 1));
    }
    return env;
}

void EnvList::set(std::string_view key, std::string_view value)
{
    remove(key);
    entries_.emplace_back(std::string(key), std::string(value));
}

void EnvList::remove(std::string_view key)
{
    std::erase_if(entries_, [&](const auto& kv) { return kv.first == key; });
}

std::optional<std::string> EnvList::get(std::string_view key) const
{
    for (const auto& [k, v] : entries_)
        if (k == key)
            return v;
    return std::nullopt;
}

std::vector<std::string> EnvList::keys() const
{
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& kv : entries_)
        out.push_back(kv.first);
    return out;
}

std::vector<std::string> EnvList::toStrings() const
{
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [k, v] : entries_)
        out.push_back(k + "=" + v);
    return out;
}

} // namespace cachescope::dockerfile

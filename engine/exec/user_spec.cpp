#include "exec/user_spec.h"

#include "base/error.h"

#include <charconv>
#include <sstream>

namespace cachescope::exec {

namespace {

std::optional<std::uint32_t> parseId(std::string_view s)
{
    std::uint32_t v = 0;
    if (s.empty())
        return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

std::vector<std::string> fields(const std::string& line)
{
    std::vector<std::string> out;
    std::size_t i = 0;
    for (;;) {
        auto j = line.find(':', i);
        out.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos)
            return out;
        i = j + 1;
    }
}

template <typename F>
void eachEntry(const std::optional<std::string>& file, F&& f)
{
    if (!file)
        return;
    std::istringstream in(*file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto parts = fields(line);
        if (parts.size() >= 3 && f(parts))
            return;
    }
}

} // namespace

ResolvedUser resolveUser(std::string_view spec, const RootFileReader& readRootFile)
{
    ResolvedUser user;
    if (spec.empty())
        return user;
    std::string userPart(spec.substr(0, spec.find(':')));
    std::optional<std::string> groupPart;
    if (auto colon = spec.find(':'); colon != std::string_view::npos)
        groupPart = std::string(spec.substr(colon + 1));

    auto passwd = readRootFile("etc/passwd");
    auto group = readRootFile("etc/group");
    std::string userName;
    bool found = false;
    const auto numericUid = parseId(userPart);
    eachEntry(passwd, [&](const std::vector<std::string>& p) {
        auto uid = parseId(p[2]);
        if (!uid || !(numericUid ? *uid == *numericUid : p[0] == userPart))
            return false;
        user.uid = *uid;
        user.gid = p.size() > 3 ? parseId(p[3]).value_or(0) : 0;
        userName = p[0];
        found = true;
        return true;
    });
    if (!found) {
        if (!numericUid)
            throw Error("user \"" + userPart + "\": no such user in the image's /etc/passwd");
        user.uid = *numericUid;
    }
    if (groupPart) {
        auto numericGid = parseId(*groupPart);
        bool groupFound = numericGid.has_value();
        if (numericGid)
            user.gid = *numericGid;
        else
            eachEntry(group, [&](const std::vector<std::string>& g) {
                if (g[0] != *groupPart)
                    return false;
                user.gid = parseId(g[2]).value_or(0);
                groupFound = true;
                return true;
            });
        if (!groupFound)
            throw Error("group \"" + *groupPart + "\": no such group in the image's /etc/group");
        return user; // an explicit group replaces the supplementary ones
    }
    if (!userName.empty())
        eachEntry(group, [&](const std::vector<std::string>& g) {
            if (g.size() < 4)
                return false;
            std::istringstream members(g[3]);
            std::string m;
            while (std::getline(members, m, ','))
                if (m == userName)
                    if (auto gid = parseId(g[2]); gid && *gid != user.gid)
                        user.groups.push_back(*gid);
            return false;
        });
    return user;
}

} // namespace cachescope::exec

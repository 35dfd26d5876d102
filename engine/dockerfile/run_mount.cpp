#include "dockerfile/run_mount.h"

#include "base/error.h"
#include "dockerfile/text_util.h"

#include <charconv>
#include <cmath>
#include <vector>

namespace cachescope::dockerfile {
namespace {

// CSV fields of one record, as Go's encoding/csv (and tonistiigi/go-csvvalue) read them:
// fields are comma separated; a field starting with '"' is quoted and "" inside it is a quote.
std::vector<std::string> csvFields(std::string_view s)
{
    std::vector<std::string> fields;
    std::size_t i = 0;
    for (;;) {
        std::string field;
        if (i < s.size() && s[i] == '"') {
            ++i;
            for (;;) {
                if (i >= s.size())
                    throw Error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
                if (s[i] == '"') {
                    if (i + 1 < s.size() && s[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += s[i++];
            }
            if (i < s.size() && s[i] != ',')
                throw Error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
        } else {
            while (i < s.size() && s[i] != ',') {
                if (s[i] == '"')
                    throw Error("failed to parse csv mounts: bare \" in non-quoted-field");
                field += s[i++];
            }
        }
        fields.push_back(std::move(field));
        if (i >= s.size())
            break;
        ++i; // ','
    }
    return fields;
}

std::optional<bool> parseGoBool(std::string_view v)
{
    if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True")
        return true;
    if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False")
        return false;
    return std::nullopt;
}

std::optional<std::uint32_t> parseUint(std::string_view v, int base)
{
    if (v.empty())
        return std::nullopt;
    std::uint64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
    if (ec != std::errc() || p != v.data() + v.size() || out > 0xFFFFFFFFull)
        return std::nullopt;
    return static_cast<std::uint32_t>(out);
}

} // namespace

std::string_view mountTypeName(MountType t)
{
    switch (t) {
    case MountType::Bind: return "bind";
    case MountType::Cache: return "cache";
    case MountType::Tmpfs: return "tmpfs";
    case MountType::Secret: return "secret";
    case MountType::Ssh: return "ssh";
    }
    return "bind";
}

std::string_view cacheSharingName(CacheSharing s)
{
    switch (s) {
    case CacheSharing::Shared: return "shared";
    case CacheSharing::Private: return "private";
    case CacheSharing::Locked: return "locked";
    }
    return "shared";
}

std::optional<std::int64_t> ramInBytes(std::string_view s)
{
    // ^([\d\.]+)\s*([kKmMgGtTpP])?[iI]?[bB]?$
    std::size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        ++i;
    if (i == 0)
        return std::nullopt;
    const std::string number(s.substr(0, i));
    double value = 0;
    try {
        std::size_t used = 0;
        value = std::stod(number, &used);
        if (used != number.size())
            return std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    double mult = 1;
    if (i < s.size()) {
        switch (s[i] | 0x20) {
        case 'k': mult = 1024.0; ++i; break;
        case 'm': mult = 1024.0 * 1024; ++i; break;
        case 'g': mult = 1024.0 * 1024 * 1024; ++i; break;
        case 't': mult = 1024.0 * 1024 * 1024 * 1024; ++i; break;
        case 'p': mult = 1024.0 * 1024 * 1024 * 1024 * 1024; ++i; break;
        default: break;
        }
    }
    if (i < s.size() && (s[i] | 0x20) == 'i')
        ++i;
    if (i < s.size() && (s[i] | 0x20) == 'b')
        ++i;
    if (i != s.size())
        return std::nullopt;
    return static_cast<std::int64_t>(value * mult);
}

RunMount parseRunMount(std::string_view spec, const WordExpander* expander)
{
    RunMount m;
    bool roAuto = true;
    for (const std::string& field : csvFields(spec)) {
        const auto eq = field.find('=');
        const std::string key = toLowerAscii(field.substr(0, eq));
        std::string value = eq == std::string::npos ? std::string() : field.substr(eq + 1);
        if (eq == std::string::npos) {
            if (!expander)
                continue; // checked when expanded
            if (key == "readonly" || key == "ro") {
                m.readOnly = true;
                roAuto = false;
                continue;
            }
            if (key == "readwrite" || key == "rw") {
                m.readOnly = false;
                roAuto = false;
                continue;
            }
            if (key == "required") {
                if (m.type == MountType::Secret || m.type == MountType::Ssh) {
                    m.required = true;
                    continue;
                }
                throw Error("unexpected key '" + key + "' for mount type '" + std::string(mountTypeName(m.type)) + "'");
            }
            throw Error("invalid field '" + field + "' must be a key=value pair");
        }
        if (expander) {
            value = (*expander)(value);
        } else if (key == "from") {
            const auto dollar = value.find('$');
            if (dollar != std::string::npos && dollar != value.size() - 1)
                throw Error("'from' doesn't support variable expansion, define alias stage instead");
        } else {
            continue;
        }

        auto badValue = [&] { return Error("invalid value for " + key + ": " + value); };
        if (key == "type") {
            const std::string v = toLowerAscii(value);
            if (v == "bind") m.type = MountType::Bind;
            else if (v == "cache") m.type = MountType::Cache;
            else if (v == "tmpfs") m.type = MountType::Tmpfs;
            else if (v == "secret") m.type = MountType::Secret;
            else if (v == "ssh") m.type = MountType::Ssh;
            else throw Error("unsupported mount type \"" + value + "\"");
        } else if (key == "from") {
            m.from = value;
        } else if (key == "source" || key == "src") {
            m.source = value;
        } else if (key == "target" || key == "dst" || key == "destination") {
            m.target = value;
        } else if (key == "readonly" || key == "ro") {
            const auto b = parseGoBool(value);
            if (!b)
                throw badValue();
            m.readOnly = *b;
            roAuto = false;
        } else if (key == "readwrite" || key == "rw") {
            const auto b = parseGoBool(value);
            if (!b)
                throw badValue();
            m.readOnly = !*b;
            roAuto = false;
        } else if (key == "required") {
            if (m.type != MountType::Secret && m.type != MountType::Ssh)
                throw Error("unexpected key '" + key + "' for mount type '" + std::string(mountTypeName(m.type)) + "'");
            const auto b = parseGoBool(value);
            if (!b)
                throw badValue();
            m.required = *b;
        } else if (key == "size") {
            if (m.type != MountType::Tmpfs)
                throw Error("unexpected key '" + key + "' for mount type '" + std::string(mountTypeName(m.type)) + "'");
            const auto n = ramInBytes(value);
            if (!n)
                throw badValue();
            m.sizeLimit = *n;
        } else if (key == "id") {
            m.id = value;
        } else if (key == "sharing") {
            const std::string v = toLowerAscii(value);
            if (v == "shared") m.sharing = CacheSharing::Shared;
            else if (v == "private") m.sharing = CacheSharing::Private;
            else if (v == "locked") m.sharing = CacheSharing::Locked;
            else throw Error("unsupported sharing value \"" + value + "\"");
        } else if (key == "mode") {
            m.mode = parseUint(value, 8);
            if (!m.mode)
                throw Error("invalid value " + value + " for mode");
        } else if (key == "uid") {
            m.uid = parseUint(value, 10);
            if (!m.uid)
                throw Error("invalid value " + value + " for uid");
        } else if (key == "gid") {
            m.gid = parseUint(value, 10);
            if (!m.gid)
                throw Error("invalid value " + value + " for gid");
        } else if (key == "env") {
            m.env = value;
        } else {
            throw Error("unexpected key '" + key + "' in '" + field + "'");
        }
    }
    if (!expander)
        return m;

    const bool fileInfoAllowed = m.type == MountType::Secret || m.type == MountType::Ssh || m.type == MountType::Cache;
    const std::string typeName(mountTypeName(m.type));
    if (!fileInfoAllowed) {
        if (m.mode)
            throw Error("mode not allowed for \"" + typeName + "\" type mounts");
        if (m.uid)
            throw Error("uid not allowed for \"" + typeName + "\" type mounts");
        if (m.gid)
            throw Error("gid not allowed for \"" + typeName + "\" type mounts");
    }
    if (roAuto)
        m.readOnly = !(m.type == MountType::Cache || m.type == MountType::Tmpfs);
    if (m.type == MountType::Secret) {
        if (!m.from.empty())
            throw Error("secret mount should not have a from");
        if (m.sharing)
            throw Error("secret mount should not define sharing");
        if (m.source.empty() && m.target.empty() && m.id.empty() && !m.env)
            throw Error("invalid secret mount. one of source, target required");
        if (!m.source.empty() && !m.id.empty())
            throw Error("both source and id can't be set");
    }
    if (m.sharing && m.type != MountType::Cache)
        throw Error("invalid cache sharing set for " + typeName + " mount");
    return m;
}

} // namespace cachescope::dockerfile

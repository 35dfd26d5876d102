#include "dockerfile/text_util.h"

namespace cachescope::dockerfile {

bool isGoSpace(char32_t c)
{
    switch (c) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

std::string_view trimLeftSpace(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const DecodedRune r = decodeRune(s, i);
        if (!isGoSpace(r.cp))
            break;
        i += r.len;
    }
    return s.substr(i);
}

std::string_view trimRightSpace(std::string_view s)
{
    // Walk forward so multi-byte spaces are recognised; remember where the last non-space ended.
    std::size_t end = 0;
    for (std::size_t i = 0; i < s.size();) {
        const DecodedRune r = decodeRune(s, i);
        i += r.len;
        if (!isGoSpace(r.cp))
            end = i;
    }
    return s.substr(0, end);
}

std::string_view trimSpace(std::string_view s)
{
    return trimRightSpace(trimLeftSpace(s));
}

std::string toLowerAscii(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string toUpperAscii(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return toLowerAscii(a) == toLowerAscii(b);
}

bool startsWith(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> splitWhitespace(std::string_view s, int limit)
{
    auto isWs = [](char c) { return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' '; };
    std::vector<std::string> parts;
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        if (limit > 0 && static_cast<int>(parts.size()) == limit - 1)
            break;
        if (isWs(s[i])) {
            std::size_t j = i;
            while (j < s.size() && isWs(s[j]))
                ++j;
            parts.emplace_back(s.substr(start, i - start));
            start = i = j;
        } else {
            ++i;
        }
    }
    parts.emplace_back(s.substr(start));
    return parts;
}

std::string cleanPath(const std::string& p)
{
    if (p.empty())
        return ".";
    const bool rooted = p[0] == '/';
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i <= p.size()) {
        const auto slash = p.find('/', i);
        const std::string part = p.substr(i, slash == std::string::npos ? std::string::npos : slash - i);
        if (part.empty() || part == ".") {
        } else if (part == "..") {
            if (!parts.empty() && parts.back() != "..")
                parts.pop_back();
            else if (!rooted)
                parts.push_back("..");
        } else {
            parts.push_back(part);
        }
        if (slash == std::string::npos)
            break;
        i = slash + 1;
    }
    std::string out = rooted ? "/" : "";
    for (std::size_t k = 0; k < parts.size(); ++k)
        out += (k ? "/" : "") + parts[k];
    return out.empty() ? "." : out;
}

} // namespace cachescope::dockerfile

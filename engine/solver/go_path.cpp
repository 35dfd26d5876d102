#include "solver/go_path.h"

#include <vector>

namespace cachescope::solver {

std::string goPathClean(std::string_view p)
{
    if (p.empty())
        return ".";
    const bool rooted = p.front() == '/';
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < p.size()) {
        std::size_t j = p.find('/', i);
        if (j == std::string_view::npos)
            j = p.size();
        std::string_view part = p.substr(i, j - i);
        if (part.empty() || part == ".") {
            // skip
        } else if (part == "..") {
            if (!parts.empty() && parts.back() != "..")
                parts.pop_back();
            else if (!rooted)
                parts.push_back(part);
        } else {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out = rooted ? "/" : "";
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k)
            out += '/';
        out += parts[k];
    }
    return out.empty() ? "." : out;
}

std::string goPathJoin(std::string_view a, std::string_view b)
{
    if (a.empty() && b.empty())
        return "";
    if (a.empty())
        return goPathClean(b);
    if (b.empty())
        return goPathClean(a);
    std::string joined(a);
    joined += '/';
    joined += b;
    return goPathClean(joined);
}

std::string goPathBase(std::string_view p)
{
    if (p.empty())
        return ".";
    while (p.size() > 1 && p.back() == '/')
        p.remove_suffix(1);
    if (p == "/")
        return "/";
    std::size_t slash = p.rfind('/');
    return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

std::string goPathDir(std::string_view p)
{
    std::size_t slash = p.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? std::string_view() : p.substr(0, slash + 1);
    return goPathClean(dir);
}

namespace {

// Matches one character class "[...]" at pattern[pi] against c; advances pi past it.
bool matchClass(std::string_view pattern, std::size_t& pi, unsigned char c, bool& ok)
{
    ++pi; // '['
    bool negate = false;
    if (pi < pattern.size() && pattern[pi] == '^') {
        negate = true;
        ++pi;
    }
    bool matched = false;
    bool first = true;
    while (pi < pattern.size() && (pattern[pi] != ']' || first)) {
        first = false;
        unsigned char lo = static_cast<unsigned char>(pattern[pi]);
        if (lo == '\\' && pi + 1 < pattern.size())
            lo = static_cast<unsigned char>(pattern[++pi]);
        ++pi;
        unsigned char hi = lo;
        if (pi + 1 < pattern.size() && pattern[pi] == '-' && pattern[pi + 1] != ']') {
            hi = static_cast<unsigned char>(pattern[pi + 1]);
            if (hi == '\\' && pi + 2 < pattern.size()) {
                hi = static_cast<unsigned char>(pattern[pi + 2]);
                ++pi;
            }
            pi += 2;
        }
        if (lo <= c && c <= hi)
            matched = true;
    }
    if (pi >= pattern.size()) {
        ok = false; // malformed: Go reports ErrBadPattern, we treat it as no match
        return false;
    }
    ++pi; // ']'
    return matched != negate;
}

bool matchFrom(std::string_view pattern, std::size_t pi, std::string_view name, std::size_t ni)
{
    while (pi < pattern.size()) {
        char pc = pattern[pi];
        if (pc == '*') {
            while (pi < pattern.size() && pattern[pi] == '*')
                ++pi;
            for (std::size_t k = ni;; ++k) {
                if (matchFrom(pattern, pi, name, k))
                    return true;
                if (k >= name.size() || name[k] == '/')
                    return false;
            }
        }
        if (ni >= name.size())
            return false;
        unsigned char c = static_cast<unsigned char>(name[ni]);
        if (pc == '?') {
            if (c == '/')
                return false;
            ++pi;
        } else if (pc == '[') {
            if (c == '/')
                return false;
            bool ok = true;
            if (!matchClass(pattern, pi, c, ok) || !ok)
                return false;
        } else {
            if (pc == '\\' && pi + 1 < pattern.size())
                pc = pattern[++pi];
            if (static_cast<unsigned char>(pc) != c)
                return false;
            ++pi;
        }
        ++ni;
    }
    return ni == name.size();
}

} // namespace

bool goPathMatch(std::string_view pattern, std::string_view name)
{
    return matchFrom(pattern, 0, name, 0);
}

bool containsWildcards(std::string_view p)
{
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\')
            ++i;
        else if (p[i] == '*' || p[i] == '?' || p[i] == '[')
            return true;
    }
    return false;
}

} // namespace cachescope::solver

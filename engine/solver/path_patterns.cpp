#include "solver/path_patterns.h"

#include "base/error.h"
#include "solver/go_path.h"

namespace cachescope::solver {

namespace {

std::string toRegex(const std::string& pattern)
{
    std::string re = "^";
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '*') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
                ++i;
                if (i + 1 < pattern.size() && pattern[i + 1] == '/')
                    ++i; // "**/" behaves as "**"
                if (i + 1 >= pattern.size())
                    re += ".*";
                else
                    re += "(.*/)?";
            } else {
                re += "[^/]*";
            }
        } else if (c == '?') {
            re += "[^/]";
        } else if (c == '\\') {
            if (i + 1 < pattern.size()) {
                re += '\\';
                re += pattern[++i];
            } else {
                re += "\\\\";
            }
        } else if (std::string_view(".+()|{}$^").find(c) != std::string_view::npos) {
            re += '\\';
            re += c;
        } else {
            re += c;
        }
    }
    return re + "$";
}

} // namespace

PathPatterns::PathPatterns(const std::vector<std::string>& patterns)
{
    for (const auto& raw : patterns) {
        std::string p = raw;
        while (!p.empty() && p.front() == ' ')
            p.erase(p.begin());
        if (p.empty())
            continue;
        Pattern pat;
        if (p.front() == '!') {
            pat.exclusion = true;
            p.erase(p.begin());
        }
        p = goPathClean(p);
        while (p.size() > 1 && p.front() == '/')
            p.erase(p.begin());
        pat.text = p;
        try {
            pat.regex = std::make_shared<std::regex>(toRegex(p), std::regex::ECMAScript);
        } catch (const std::regex_error&) {
            throw Error("invalid path pattern \"" + raw + "\"");
        }
        patterns_.push_back(std::move(pat));
    }
}

bool PathPatterns::matchOne(const Pattern& p, const std::string& path) const
{
    return std::regex_match(path, *p.regex);
}

bool PathPatterns::matches(const std::string& path) const
{
    const std::string file = goPathClean(path);
    const std::string parent = goPathDir(file);
    std::vector<std::string> parentDirs;
    if (parent != ".") {
        std::size_t i = 0;
        while (i <= parent.size()) {
            std::size_t j = parent.find('/', i);
            if (j == std::string::npos)
                j = parent.size();
            parentDirs.push_back(parent.substr(0, j));
            i = j + 1;
        }
    }
    bool matched = false;
    for (const auto& p : patterns_) {
        if (p.exclusion != matched)
            continue;
        bool m = matchOne(p, file);
        for (std::size_t k = 0; !m && k < parentDirs.size(); ++k)
            m = matchOne(p, parentDirs[k]);
        if (m)
            matched = !p.exclusion;
    }
    return matched;
}

} // namespace cachescope::solver

#pragma once
// What part of an input a content (slow) cache key covers: BuildKit's opsutils.Selector.
#include <string>
#include <utility>
#include <vector>

namespace cachescope::solver {

struct ContentSelector {
    std::string path; // absolute inside the input ("/src", "/*.md"); "" or "/" is the whole input
    bool wildcard = false;
    bool followLinks = false;
    std::vector<std::string> includePatterns;
    std::vector<std::string> excludePatterns;
    std::vector<std::string> requiredPaths;

    static ContentSelector of(std::string path, bool followLinks = false)
    {
        ContentSelector s;
        s.path = std::move(path);
        s.followLinks = followLinks;
        return s;
    }

    bool hasWildcardOrFilters() const
    {
        return wildcard || !includePatterns.empty() || !excludePatterns.empty() || !requiredPaths.empty();
    }
    bool operator==(const ContentSelector&) const = default;
};

} // namespace cachescope::solver

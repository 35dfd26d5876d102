#pragma once
// Include/exclude patterns with the semantics of moby/patternmatcher, which BuildKit uses for
// COPY --exclude/--parents and the build context's .dockerignore: `*`, `?`, `[...]`, `**` across
// directories, `!` exceptions (last matching pattern wins), and a path matches when it or one of
// its parent directories matches.
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace cachescope::solver {

class PathPatterns {
public:
    PathPatterns() = default;
    // Throws Error naming the pattern when one cannot be compiled.
    explicit PathPatterns(const std::vector<std::string>& patterns);

    bool empty() const { return patterns_.empty(); }
    // `path` is relative ("a/b.txt"), slash-separated.
    bool matches(const std::string& path) const;

private:
    struct Pattern {
        std::string text;
        bool exclusion = false;
        std::shared_ptr<std::regex> regex;
    };
    bool matchOne(const Pattern& p, const std::string& path) const;
    std::vector<Pattern> patterns_;
};

} // namespace cachescope::solver

#pragma once
// .dockerignore with Docker's semantics: the file is read like moby's dockerignore.ReadAll (comments
// only at column 0, blank lines skipped, paths cleaned, a leading '/' dropped, '!' exceptions) and
// matched like moby/patternmatcher (later patterns win; '*' and '?' stop at '/', '**' crosses
// directories, [...] classes, '\' escapes; a path is excluded when it or one of its parents matches).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::dockerfile {

class IgnorePattern;

class DockerIgnore {
public:
    DockerIgnore();
    ~DockerIgnore();
    DockerIgnore(const DockerIgnore&);
    DockerIgnore& operator=(const DockerIgnore&);
    DockerIgnore(DockerIgnore&&) noexcept;
    DockerIgnore& operator=(DockerIgnore&&) noexcept;

    // The lines of a .dockerignore file as BuildKit sends them (ExcludePatterns of the context source).
    static std::vector<std::string> readPatterns(std::string_view fileContent);
    // Throws Error for a malformed pattern ("illegal exclusion pattern: \"!\"", unclosed '[').
    static DockerIgnore fromPatterns(const std::vector<std::string>& patterns);
    static DockerIgnore parse(std::string_view fileContent) { return fromPatterns(readPatterns(fileContent)); }

    const std::vector<std::string>& patterns() const { return patterns_; }
    bool empty() const { return compiled_.empty(); }
    bool hasExclusions() const { return exclusions_; }

    // Is this context-relative, slash-separated path left out of the build context? (MatchesOrParentMatches)
    bool excluded(std::string_view path) const;

    // The incremental form used while walking a tree: pass the parent directory's info; the result
    // for `path` and the info to hand to its children. An empty parent info means "no information"
    // (then parents are checked as excluded() does).
    struct MatchInfo {
        std::vector<bool> parentMatched;
    };
    bool matchesUsingParentResults(std::string_view path, const MatchInfo& parent, MatchInfo& out) const;

    // For an excluded directory: must the walk still enter it because an exception ('!pattern') may
    // re-include something below it? (fsutil's rule: exceptions with wildcards always do; plain ones
    // only when they lie under the directory.)
    bool mayReincludeBelow(std::string_view dir) const;

private:
    std::vector<std::string> patterns_;
    std::vector<std::shared_ptr<const IgnorePattern>> compiled_;
    bool exclusions_ = false;
};

} // namespace cachescope::dockerfile

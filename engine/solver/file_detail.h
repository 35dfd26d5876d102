#pragma once
// File-level detail for a dry run: the current build's context manifest, the earlier manifests it is
// compared with (the local history of this context + Dockerfile, then manifests carried by imported
// CacheScope exports), and per step the files that changed in what its context input covers.
#include "cache/imported_cache.h"
#include "solver/cache_matcher.h"
#include "solver/context_history.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::solver {

// The context manifest of one build: every context input's selectors and the files they cover.
cache::ContextManifest contextManifestOf(const OpGraph& graph, const ContentKeys& keys, ContentTree& context);

// For a real build: stores its context manifest in the local history of (contextDir, dockerfile)
// under dataDir, so a later dry run can name changed files, and returns the manifest's JSON for the
// build's cache exports ("" when no step reads the context). A history that cannot be written costs
// only that later detail: it is not an error.
std::string recordBuildManifest(const std::filesystem::path& dataDir, const std::filesystem::path& contextDir,
                                const std::filesystem::path& dockerfile, const OpGraph& graph, const ContentKeys& keys,
                                ContentTree& context);

struct FileDetail {
    std::vector<ChangedFile> files;
    std::string comparedWith; // "local history <file>" or "cache <spec>"
};

class ContextFileDetail {
public:
    // `history` may be null (no history kept); `imported` and `sources` outlive this object.
    ContextFileDetail(std::optional<ContextHistory> history, const std::vector<cache::ImportedCache>& imported,
                      const std::vector<MatchSource>& sources);

    // The manifest of this build: every context input's selectors and the files they cover.
    void addCurrent(const OpGraph& graph, const ContentKeys& keys, ContentTree& context);
    const cache::ContextManifest& current() const { return current_; }

    // For a step that misses with a context input whose content key no source has: the files that
    // changed against the earlier manifest the cache was built from (its content key is in a source),
    // else against the newest earlier manifest that differs. Nullopt when nothing to compare with.
    std::optional<FileDetail> forNode(const OpGraph& graph, const ContentKeys& keys, const std::vector<NodeMatch>& matches,
                                      int node, ContentTree* context);

    // Stores the current manifest in the history (after the comparisons). Errors are returned, not thrown.
    std::string record();

private:
    struct Candidate {
        cache::ContextManifest manifest;
        std::string origin;
    };
    const std::vector<Candidate>& candidates();

    std::optional<ContextHistory> history_;
    const std::vector<cache::ImportedCache>& imported_;
    const std::vector<MatchSource>& sources_;
    cache::ContextManifest current_;
    std::optional<std::vector<Candidate>> candidates_;
};

} // namespace cachescope::solver

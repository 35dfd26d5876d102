#pragma once
// File-level miss detail: a context manifest (cache/context_manifest.h) per build, kept in the local
// history under <data dir>/history/<key>/ (key: the context directory and Dockerfile), and the diff of
// two manifests over the selectors of one COPY / bind mount: which files were added, removed, or
// changed in content or mode.
#include "cache/context_manifest.h"
#include "solver/content_hash.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::solver {

// A selector as a stable text: its path, then " wildcard", " follow", " include=…", " exclude=…",
// " required=…" for what is set (e.g. "/src", "/*.txt wildcard", "/ exclude=*.md").
std::string selectorText(const ContentSelector& selector);

// Adds the selectors of one content key and the entries they cover, with their checksums.
void addToManifest(cache::ContextManifest& manifest, ContentTree& tree, const ContentKey& key);

struct ChangedFile {
    std::string path;
    std::string change; // "added", "removed", "changed"
    std::string oldType, newType; // "file", "dir", "symlink", "other" ("" when absent)
    std::optional<std::int64_t> oldSize, newSize;   // regular files
    std::optional<std::uint32_t> oldMode, newMode;
    std::string oldLink, newLink;                   // symlinks
    bool contentChanged = false; // bytes, type or link target differ
    bool modeChanged = false;
};

// What differs between `before` and `now` in the files `selectors` cover, sorted by path. A selector
// `before` does not list is compared over the files `now` lists (additions then unknown). `tree` (the
// current context) tells a mode change from a content change when both checksum and mode moved.
std::vector<ChangedFile> diffManifests(const cache::ContextManifest& before, const cache::ContextManifest& now,
                                       const std::vector<std::string>& selectors, ContentTree* tree);

// One line per file: "c.txt: content changed (5 -> 9 bytes)", "b.txt: mode 0644 -> 0755", "d.txt: added".
std::string describeChange(const ChangedFile& f);

class ContextHistory {
public:
    // Builds of the context `contextDir` built with `dockerfile`, under <dataDir>/history.
    ContextHistory(const std::filesystem::path& dataDir, const std::filesystem::path& contextDir,
                   const std::filesystem::path& dockerfile);

    const std::filesystem::path& dir() const { return dir_; }
    // Manifest files, newest first.
    std::vector<std::filesystem::path> builds() const;
    // Throws Error naming the file when it is unreadable or malformed.
    static cache::ContextManifest load(const std::filesystem::path& file);
    // Stores the manifest of this build (atomically) unless the newest one is identical; keeps the
    // newest `keep` builds. Returns the file written or found.
    std::filesystem::path record(const cache::ContextManifest& manifest, std::size_t keep = 8);

private:
    std::filesystem::path dir_;
};

} // namespace cachescope::solver

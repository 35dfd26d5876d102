#pragma once
// `build --dry-run`: parse the Dockerfile, resolve images, plan the target, build the op graph, import
// every cache source, match every step, and say for each step whether BuildKit would serve it from
// cache, from which source, and why not.
#include "cache/cache_importer.h"
#include "cache/cache_spec.h"
#include "cache/imported_cache.h"
#include "registry/registry_client.h"
#include "solver/context_history.h"
#include "solver/local_cache_store.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace cachescope::solver {

struct DryRunOptions {
    std::filesystem::path contextDir;
    std::filesystem::path dockerfile;                 // default: <contextDir>/Dockerfile
    std::string target;
    std::map<std::string, std::string> buildArgs;
    std::optional<std::string> platform;              // "linux/arm64"; default: the daemon's
    std::map<std::string, std::string> buildContexts; // NAME -> docker-image://REF | oci-layout://DIR[:tag]
    std::vector<cache::CacheSpec> cacheFrom;
    cache::PreImported preImported;                   // cacheFrom sources already imported: not imported again
    registry::RegistryOptions registryOptions;
    // Where the context history (file manifests per build) and the stat cache live; empty:
    // defaultDataDir(). keepHistory=false neither reads nor writes either.
    std::filesystem::path dataDir;
    bool keepHistory = true;
    // Cooperative cancel: polled while the context is listed and hashed, during registry transfers of
    // the import, and between steps; dryRun then throws OperationCancelled and writes no history.
    std::stop_token cancel;
};

// One op input as it enters the step's cache key: what produces it, the link selector (the paths
// hashed into the edge) and, for content-based inputs, the selectors of the content checksum.
struct StepInput {
    std::string producer;                      // the producing step's name, "build context", "image <ref>", or the op kind
    std::vector<std::string> selectorPaths;    // paths hashed into the link selector (empty: no selector)
    std::string selector;                      // that selector's digest ("" when none)
    bool contentBased = false;                 // a content (slow) key is computed for this input
    std::vector<std::string> contentSelectors; // paths the content key covers ("/" = the whole input)
};

struct StepResult {
    std::string name;          // BuildKit's display name
    std::string stage;         // stage name as printed ("builder", "stage-3", "" for a one-stage build)
    bool isFrom = false;       // the FROM vertex (never CACHED; its keys are roots)
    bool cached = false;       // CACHED (loaded, or never evaluated because its consumer was cached)
    bool evaluated = true;     // false: shown CACHED because nothing needed it
    bool dependsOnStage = false; // outcome known only after a stage runs (then cached=false)
    std::string source;        // the spec of the serving source, or "local"
    std::vector<std::string> alsoIn;
    std::string recordDigest;  // sha256("<D>@<O>") of this step's op
    std::string cause;         // machine-readable cause of a miss (see README)
    std::string explanation;
    // What was hashed: the CacheMap plaintext of the op (FROM: the image's manifest key JSON), its
    // digest D, and the op's inputs with their selectors.
    std::string keyPlaintext;
    std::string keyDigest;
    std::vector<StepInput> inputs;
    // A miss whose context files differ from an earlier build: what changed, and with what it was
    // compared ("local history <file>", "cache <spec>"). Empty when unknown or not a context miss.
    std::vector<ChangedFile> changedFiles;
    std::string changedFilesComparedWith;
};

struct SourceResult {
    std::string spec;
    bool ok = false;
    std::string error;
    std::size_t records = 0;
};

struct DryRunReport {
    std::string dockerfile;
    std::string target;
    std::string platform;
    std::vector<StepResult> steps;
    std::vector<SourceResult> sources;
};

// Throws Error for bad input (unreadable Dockerfile, syntax error, unknown target, unresolvable
// image, a COPY source missing from the context), OperationCancelled when options.cancel stopped it.
// Cache sources that fail are reported, not thrown.
DryRunReport dryRun(const DryRunOptions& options, const LocalCacheStore* local = nullptr);

nlohmann::ordered_json dryRunJson(const DryRunReport& report);
// Lines like buildx --progress=plain: "#3 [2/6] WORKDIR /app" then "#3 CACHED (source …)" or the cause.
std::string dryRunText(const DryRunReport& report);

} // namespace cachescope::solver

#pragma once
// One real build: import every cache source, plan the target, match each step (local store first,
// then the sources in order), load hits lazily, run misses (RUN in bubblewrap over a snapshot,
// COPY/ADD/WORKDIR as file ops), write layers, record them in the local store, and write the image.
// Runs on the calling thread; every state change goes to the event sink (called on that thread).
#include "build/build_secrets.h"
#include "cache/cache_export_spec.h"
#include "cache/cache_importer.h"
#include "cache/cache_spec.h"
#include "registry/registry_client.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <variant>
#include <vector>

namespace cachescope::build {

struct OutputSpec {
    std::string type;              // "oci" or "registry"
    std::filesystem::path dest;    // type=oci: the OCI layout directory (created)
    std::string name;              // oci: the tag written in index.json (default "latest"); registry: the image ref
};

// Parses "type=oci,dest=DIR[,name=TAG]" or "type=registry,name=REF". Throws Error naming the spec.
OutputSpec parseOutputSpec(const std::string& text);

struct BuildOptions {
    std::filesystem::path contextDir;
    std::filesystem::path dockerfile;                 // default: <contextDir>/Dockerfile
    std::string target;
    std::map<std::string, std::string> buildArgs;
    std::optional<std::string> platform;
    std::map<std::string, std::string> buildContexts; // NAME -> docker-image://REF | oci-layout://DIR[:tag]
    std::vector<cache::CacheSpec> cacheFrom;
    cache::PreImported preImported;                   // cacheFrom sources already imported: not imported again
    std::vector<OutputSpec> outputs;
    std::vector<cache::CacheExportSpec> cacheTo;      // --cache-to (local, registry); written after the build
    bool noCache = false;                             // run every step (the local store is still written)
    std::vector<SecretSource> secrets;                // --secret: for RUN --mount=type=secret
    std::vector<SshSource> sshAgents;                 // --ssh: for RUN --mount=type=ssh
    std::filesystem::path dataDir;                    // default: defaultDataDir()
    registry::RegistryOptions registryOptions;
    std::stop_token cancel;
};

// ---- events (DESIGN.md "Flow of one build") ----
struct SourceImported {
    std::string spec;
    bool ok = false;
    std::string error;
    std::size_t records = 0;
};
struct StepPlanned {
    int vertex = 0;          // #N as printed, from 1
    std::string name;        // "[2/6] WORKDIR /app"
    std::string key;         // record digest of the step's op
};
struct StepCached {
    int vertex = 0;
    std::string source;      // "local", the serving source's spec, or "" when never evaluated
};
struct StepStarted {
    int vertex = 0;
};
struct StepLog {
    int vertex = 0;
    bool stderrStream = false;
    std::string line;
    double at = 0;           // seconds since the step started
};
struct StepFinished {
    int vertex = 0;
    std::chrono::milliseconds duration{0};
    std::uint64_t bytes = 0; // layer blob size written
};
struct StepMissed {
    int vertex = 0;
    std::string explanation;
};
struct BlobProgress {
    std::string digest;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
};
struct BuildFinished {
    bool ok = false;
    std::string error;
    std::chrono::milliseconds importTime{0};
    std::chrono::milliseconds planTime{0};
    std::chrono::milliseconds executeTime{0};
    std::chrono::milliseconds exportTime{0};
    std::chrono::milliseconds total{0};
};

using BuildEvent = std::variant<SourceImported, StepPlanned, StepCached, StepStarted, StepLog, StepFinished,
                                StepMissed, BlobProgress, BuildFinished>;
using EventSink = std::function<void(const BuildEvent&)>;

struct StepOutcome {
    int vertex = 0;
    std::string name;
    std::string stage;                 // the plan stage's printed name ("builder", "stage-2", "" for one stage)
    std::string key;
    std::string contentKey;            // the checksum of the files a COPY/ADD reads, when one was computed
    enum class State { Pending, Cached, NotEvaluated, Ran, Failed } state = State::Pending;
    std::string source;
    std::chrono::milliseconds duration{0};
    std::uint64_t bytes = 0;           // layer blob size written by a step that ran
};

struct BuildResult {
    bool ok = false;
    std::string error;
    int exitCode = 0;                  // a failed RUN's exit code
    std::vector<std::string> logTail;  // its last log lines
    std::vector<StepOutcome> steps;    // named steps, in plan order (FROM vertices included)
    std::uint64_t bytesPulled = 0;     // blobs fetched from cache sources and registries
    std::string imageManifest;         // digest of the image manifest written (outputs)
    std::vector<std::string> finalDiffIds;
    std::vector<std::string> cacheExports; // one line per --cache-to: "<target>: N records, M layers" or a warning
    BuildFinished timings;
    std::size_t stepsCached() const;
    std::size_t stepsRun() const;
};

class BuildSession {
public:
    BuildSession(BuildOptions options, EventSink sink = {});
    // Runs the build. Bad input (unreadable Dockerfile, unknown target, …) and failed steps come back
    // as ok=false with the error; the same message is in the BuildFinished event.
    BuildResult run();

private:
    BuildOptions options_;
    EventSink sink_;
};

} // namespace cachescope::build

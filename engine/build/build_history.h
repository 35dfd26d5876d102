#pragma once
// Build history: every BuildSession run, ok or failed, leaves one JSON record in
// <dataDir>/history/builds/ (temp file + rename: readers never see half a record; the newest
// kMaxBuildRecords are kept). The History
// view lists them and diffs two builds step by step. (<dataDir>/history/<hex>/ holds the dry runs'
// context manifests; the two never share a folder.)
#include "build/build_session.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::build {

inline constexpr std::size_t kMaxBuildRecords = 200;

struct HistoryStep {
    int vertex = 0;
    std::string name;          // "[builder 2/4] RUN make"
    std::string stage;
    std::string key;           // the step's cache record digest
    std::string contentKey;    // the checksum of the files it reads from the context (COPY/ADD), if any
    std::string state;         // "cached", "not-evaluated", "ran", "failed", "pending"
    std::string source;        // the serving source of a hit ("local" or a spec)
    std::int64_t durationMs = 0;
    std::uint64_t layerBytes = 0;
};

struct BuildRecord {
    std::string id;                   // the file name without .json
    std::string time;                 // UTC, "2026-11-27T20:41:07.123Z"
    std::string context;
    std::string dockerfile;
    std::string target;
    std::vector<std::string> sources; // --cache-from specs
    bool withImport = false;
    bool noCache = false;
    bool ok = false;
    std::string error;
    std::vector<HistoryStep> steps;
    struct Totals {
        std::int64_t totalMs = 0, importMs = 0, planMs = 0, executeMs = 0, exportMs = 0;
        std::uint64_t bytesPulled = 0;
        std::size_t stepsCached = 0, stepsRun = 0;
    } totals;
};

std::filesystem::path buildHistoryDir(const std::filesystem::path& dataDir);

BuildRecord makeBuildRecord(const BuildOptions& options, const BuildResult& result,
                            std::chrono::system_clock::time_point started);
nlohmann::ordered_json buildRecordJson(const BuildRecord& record);
// Throws Error naming `what` (the file) and the field that is wrong.
BuildRecord buildRecordFromJson(const nlohmann::json& j, const std::string& what);

// Writes the record (its id set from the time and a random suffix) and drops the oldest beyond
// kMaxBuildRecords. Returns the file written. Throws Error naming the file.
std::filesystem::path writeBuildRecord(const std::filesystem::path& dataDir, BuildRecord& record);
// What BuildSession calls: never throws; returns a warning when the record could not be written.
std::string recordBuildInHistory(const BuildOptions& options, const BuildResult& result,
                                 std::chrono::system_clock::time_point started);

struct BuildHistoryListing {
    std::vector<BuildRecord> builds;   // newest first
    std::vector<std::string> skipped;  // "<file>: <why>" for each unreadable or damaged record
};
BuildHistoryListing listBuildHistory(const std::filesystem::path& dataDir);
// Loads one record by id ("20261127T204107123Z-1a2b3c4d"). Throws Error naming the id or file.
BuildRecord loadBuildRecord(const std::filesystem::path& dataDir, const std::string& id);

// A step of two builds aligned: the same step (by stage and instruction, ignoring the [i/n]
// counter, in order), or a changed step at the same place (paired by order between aligned
// steps of its stage), or a step only one build has.
struct StepDiff {
    std::optional<HistoryStep> a;
    std::optional<HistoryStep> b;
    bool stateChanged = false;
    bool sourceChanged = false;
    bool keyChanged = false;
    bool contentChanged = false;       // the files a COPY/ADD reads changed
    bool nameChanged = false;
    std::int64_t durationDeltaMs = 0;  // b - a (0 when one side is missing)
    bool changed() const
    {
        return !a || !b || stateChanged || sourceChanged || keyChanged || contentChanged || nameChanged;
    }
    const std::string& name() const { return b ? b->name : a->name; }
};

struct BuildDiff {
    std::vector<StepDiff> steps;       // in build order
    std::int64_t totalDeltaMs = 0;     // b - a
    std::size_t changedSteps() const;
};
BuildDiff diffBuilds(const BuildRecord& a, const BuildRecord& b);

} // namespace cachescope::build

#pragma once
// Does a cache import make the build faster? Each run builds twice, each time with an empty local
// store (a fresh temporary data directory, removed afterwards): (a) without any import, (b) with the
// cache sources. The report holds every sample, the medians, the spread, the ratio b/a, per-step
// median times and a plain verdict. Shared by `cachescope-cli compare` and the app's Compare tab.
#include "base/error.h"
#include "build/build_session.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cachescope::build {

struct CompareOptions {
    BuildOptions build;  // with the --cache-from sources; dataDir, outputs and cacheTo are ignored;
                         // build.cancel stops the compare (between and inside builds)
    int runs = 3;
    bool warmUp = true;  // one uncounted build first: it pays what a process pays once (snapshot mode probe)
};

enum class CompareMode { WithoutImport, WithImport };

struct CompareStepTime {
    std::string name;
    StepOutcome::State state = StepOutcome::State::Pending;
    std::chrono::milliseconds duration{0};
};

// One build of a compare.
struct CompareSample {
    double seconds = 0;  // wall time of the whole build
    std::uint64_t bytesPulled = 0;
    std::size_t stepsCached = 0;
    std::size_t stepsRun = 0;
    std::vector<CompareStepTime> steps;
};

struct SampleStats {
    double median = 0;
    double min = 0;
    double max = 0;
    double spread() const { return max - min; }
};
SampleStats sampleStats(const std::vector<double>& values);

// A step's median time in both modes (0 where the step was cached or absent in that mode).
struct CompareStepMedian {
    std::string name;
    double withoutImportSeconds = 0;
    double withImportSeconds = 0;
};

struct CompareReport {
    std::vector<CompareSample> withoutImport;  // (a), one per run
    std::vector<CompareSample> withImport;     // (b)
    SampleStats without;
    SampleStats with;
    double ratio = 0;          // median b / median a
    // Helped only when every run with the import was faster than every run without it; Slower the
    // other way round; otherwise the times overlap and nothing can be claimed.
    enum class Outcome { Helped, Slower, Unclear } outcome = Outcome::Unclear;
    double savedSeconds = 0;   // median a - median b
    double savedPercent = 0;   // of median a
    std::string verdict;       // "import saved 1.2 s (43 %)…" or "import did not help…"
    std::vector<CompareStepMedian> steps;  // in build order
    bool helped() const { return outcome == Outcome::Helped; }
};

// The maths of a compare from its samples (both non-empty). Pure: no builds.
CompareReport summarizeCompare(std::vector<CompareSample> withoutImport, std::vector<CompareSample> withImport);

// After every finished build: run counts from 1 (0 is the warm-up), `sample` is that build's.
struct CompareProgress {
    int run = 0;
    int runs = 0;
    CompareMode mode = CompareMode::WithoutImport;
    const CompareSample* sample = nullptr;
};
using CompareProgressSink = std::function<void(const CompareProgress&)>;

// Thrown by runCompare when options.build.cancel was requested.
class CompareCancelled : public Error {
public:
    CompareCancelled() : Error("compare cancelled") {}
};

// Runs the compare on the calling thread. Throws Error naming the run and mode when a build fails,
// CompareCancelled when cancelled; every temporary data directory is removed in all cases.
CompareReport runCompare(const CompareOptions& options, const CompareProgressSink& progress = {});

// The --report JSON (README "compare"): context, cacheFrom, runs, withoutImport/withImport with
// samples (each with its steps), medianSeconds, spreadSeconds; ratio, helped, verdict, savedSeconds,
// savedPercent, and per-step medians.
nlohmann::ordered_json compareReportJson(const CompareOptions& options, const CompareReport& report);

} // namespace cachescope::build

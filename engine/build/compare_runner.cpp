#include "build/compare_runner.h"

#include "base/temporary_directory.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

namespace cachescope::build {

namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

std::string format(const char* fmt, double a, double b = 0)
{
    char buf[128];
    std::snprintf(buf, sizeof buf, fmt, a, b);
    return buf;
}


CompareSample buildOnce(BuildOptions options, const std::string& what)
{
    const TemporaryDirectory dir("cachescope-compare");
    options.dataDir = dir.path() / "cachescope"; // an empty local store, as XDG_DATA_HOME=<empty dir> gives
    options.outputs.clear();
    options.cacheTo.clear();
    const auto t0 = std::chrono::steady_clock::now();
    const BuildResult r = BuildSession(options).run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (options.cancel.stop_requested())
        throw CompareCancelled();
    if (!r.ok)
        throw Error(what + ": " + r.error);
    CompareSample s{seconds, r.bytesPulled, r.stepsCached(), r.stepsRun(), {}};
    for (const StepOutcome& o : r.steps)
        s.steps.push_back(CompareStepTime{o.name, o.state, o.duration});
    return s;
}

std::vector<double> secondsOf(const std::vector<CompareSample>& samples)
{
    std::vector<double> out;
    for (const auto& s : samples)
        out.push_back(s.seconds);
    return out;
}

// Per step name, the median of its durations over the samples (a sample without it counts 0).
std::map<std::string, double> stepMedians(const std::vector<CompareSample>& samples, std::vector<std::string>& order)
{
    std::map<std::string, std::vector<double>> times;
    for (const auto& s : samples)
        for (const auto& st : s.steps)
            if (times.emplace(st.name, std::vector<double>{}).second)
                order.push_back(st.name);
    for (const auto& s : samples)
        for (auto& [name, v] : times) {
            double d = 0;
            for (const auto& st : s.steps)
                if (st.name == name)
                    d = std::chrono::duration<double>(st.duration).count();
            v.push_back(d);
        }
    std::map<std::string, double> out;
    for (const auto& [name, v] : times)
        out[name] = median(v);
    return out;
}

nlohmann::ordered_json samplesJson(const std::vector<CompareSample>& v)
{
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& s : v) {
        nlohmann::ordered_json steps = nlohmann::ordered_json::array();
        for (const auto& st : s.steps)
            steps.push_back({{"name", st.name},
                             {"cached", st.state == StepOutcome::State::Cached ||
                                            st.state == StepOutcome::State::NotEvaluated},
                             {"durationMs", st.duration.count()}});
        a.push_back({{"seconds", s.seconds},
                     {"bytesPulled", s.bytesPulled},
                     {"stepsCached", s.stepsCached},
                     {"stepsRun", s.stepsRun},
                     {"steps", std::move(steps)}});
    }
    return a;
}

} // namespace

SampleStats sampleStats(const std::vector<double>& values)
{
    if (values.empty())
        return {};
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    return SampleStats{median(values), *lo, *hi};
}

CompareReport summarizeCompare(std::vector<CompareSample> withoutImport, std::vector<CompareSample> withImport)
{
    if (withoutImport.empty() || withImport.empty())
        throw Error("compare: no samples to summarize (at least one run of each mode is needed)");
    CompareReport r;
    r.without = sampleStats(secondsOf(withoutImport));
    r.with = sampleStats(secondsOf(withImport));
    r.ratio = r.without.median > 0 ? r.with.median / r.without.median : 0;
    r.savedSeconds = r.without.median - r.with.median;
    r.savedPercent = r.without.median > 0 ? 100 * r.savedSeconds / r.without.median : 0;
    // A claim only when the run times do not overlap.
    if (r.with.max < r.without.min) {
        r.outcome = CompareReport::Outcome::Helped;
        r.verdict = format("import saved %.2f s (%.0f %%): every run with it was faster than every run without",
                           r.savedSeconds, r.savedPercent);
    } else if (r.with.min > r.without.max) {
        r.outcome = CompareReport::Outcome::Slower;
        r.verdict = format("import did not help: builds with it took %.2f s (%.0f %%) longer; pulling its layers cost "
                           "more than running the steps",
                           -r.savedSeconds, -r.savedPercent);
    } else {
        r.outcome = CompareReport::Outcome::Unclear;
        r.verdict = format("import did not help measurably: the run times with and without it overlap (medians "
                           "%.2f s without, %.2f s with)",
                           r.without.median, r.with.median);
    }
    std::vector<std::string> order;
    const auto a = stepMedians(withoutImport, order);
    const auto b = stepMedians(withImport, order);
    for (const std::string& name : order) {
        if (std::any_of(r.steps.begin(), r.steps.end(), [&](const CompareStepMedian& m) { return m.name == name; }))
            continue; // named in both modes
        const auto ia = a.find(name), ib = b.find(name);
        r.steps.push_back(CompareStepMedian{name, ia == a.end() ? 0 : ia->second, ib == b.end() ? 0 : ib->second});
    }
    r.withoutImport = std::move(withoutImport);
    r.withImport = std::move(withImport);
    return r;
}

CompareReport runCompare(const CompareOptions& options, const CompareProgressSink& progress)
{
    if (options.runs < 1)
        throw Error("compare: --runs must be at least 1 (got " + std::to_string(options.runs) + ")");
    if (options.build.cacheFrom.empty())
        throw Error("compare: give at least one --cache-from source to compare against");
    const BuildOptions& withImport = options.build;
    BuildOptions without = withImport;
    without.cacheFrom.clear();
    auto report = [&](int run, CompareMode mode, const CompareSample& s) {
        if (progress)
            progress(CompareProgress{run, options.runs, mode, &s});
    };
    if (options.warmUp)
        report(0, CompareMode::WithoutImport, buildOnce(without, "warm-up build"));
    std::vector<CompareSample> a, b;
    for (int i = 1; i <= options.runs; ++i) {
        const std::string run = "run " + std::to_string(i);
        a.push_back(buildOnce(without, run + " (no import)"));
        report(i, CompareMode::WithoutImport, a.back());
        b.push_back(buildOnce(withImport, run + " (with import)"));
        report(i, CompareMode::WithImport, b.back());
    }
    return summarizeCompare(std::move(a), std::move(b));
}

nlohmann::ordered_json compareReportJson(const CompareOptions& options, const CompareReport& r)
{
    nlohmann::ordered_json j;
    j["context"] = options.build.contextDir.string();
    j["cacheFrom"] = nlohmann::ordered_json::array();
    for (const auto& s : options.build.cacheFrom)
        j["cacheFrom"].push_back(s.raw);
    j["runs"] = options.runs;
    j["withoutImport"] = {{"samples", samplesJson(r.withoutImport)},
                          {"medianSeconds", r.without.median},
                          {"spreadSeconds", r.without.spread()}};
    j["withImport"] = {
        {"samples", samplesJson(r.withImport)}, {"medianSeconds", r.with.median}, {"spreadSeconds", r.with.spread()}};
    j["ratio"] = r.ratio;
    j["helped"] = r.helped();
    j["verdict"] = r.verdict;
    j["savedSeconds"] = r.savedSeconds;
    j["savedPercent"] = r.savedPercent;
    j["steps"] = nlohmann::ordered_json::array();
    for (const auto& s : r.steps)
        j["steps"].push_back({{"name", s.name},
                              {"withoutImportMedianSeconds", s.withoutImportSeconds},
                              {"withImportMedianSeconds", s.withImportSeconds}});
    return j;
}

} // namespace cachescope::build

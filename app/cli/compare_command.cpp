// cachescope-cli compare: does the cache import make the build faster? Each run builds twice, each
// time with an empty local store (a fresh data directory): (a) without any import, (b) with the
// --cache-from sources. Prints every run, the medians, the spread and the ratio b/a.
#include "base/error.h"
#include "build/build_session.h"
#include "build_flags.h"
#include "commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Sample {
    double seconds = 0;
    std::uint64_t bytesPulled = 0;
    std::size_t stepsCached = 0;
    std::size_t stepsRun = 0;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

double spread(const std::vector<double>& v)
{
    if (v.empty())
        return 0;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return *hi - *lo;
}

Sample runOnce(cachescope::build::BuildOptions options, const char* label, int run)
{
    char tmpl[] = "/tmp/cachescope-compare-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (!dir)
        throw cachescope::Error("cannot create a temporary data directory under /tmp");
    options.dataDir = fs::path(dir) / "cachescope"; // an empty local store, as XDG_DATA_HOME=<empty dir> gives
    options.outputs.clear();
    options.cacheTo.clear();
    const auto t0 = std::chrono::steady_clock::now();
    cachescope::build::BuildSession session(options);
    const auto r = session.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!r.ok)
        throw cachescope::Error(std::string("run ") + std::to_string(run) + " (" + label + "): " + r.error);
    return Sample{seconds, r.bytesPulled, r.stepsCached(), r.stepsRun()};
}

nlohmann::ordered_json samplesJson(const std::vector<Sample>& v)
{
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& s : v)
        a.push_back({{"seconds", s.seconds}, {"bytesPulled", s.bytesPulled}, {"stepsCached", s.stepsCached},
                     {"stepsRun", s.stepsRun}});
    return a;
}

} // namespace

int compareCommand(const std::vector<std::string>& args)
{
    BuildCliFlags f;
    if (const int rc = parseBuildFlags(args, f, true); rc >= 0)
        return rc;
    if (f.plan.cacheFrom.empty()) {
        std::fputs("cachescope-cli compare: give at least one --cache-from source to compare against\n", stderr);
        return 2;
    }
    const cachescope::build::BuildOptions withImport = f.buildOptions();
    cachescope::build::BuildOptions without = withImport;
    without.cacheFrom.clear();
    std::vector<Sample> a, b;
    try {
        // One build first that is not counted: it pays what a process pays once (snapshot mode probe).
        runOnce(without, "warm-up", 0);
        for (int i = 1; i <= f.runs; ++i) {
            a.push_back(runOnce(without, "no import", i));
            b.push_back(runOnce(withImport, "with import", i));
            std::printf("run %d: no import %.3fs (%zu cached, %zu run, %llu B pulled) | with import %.3fs (%zu cached, "
                        "%zu run, %llu B pulled)\n",
                        i, a.back().seconds, a.back().stepsCached, a.back().stepsRun,
                        static_cast<unsigned long long>(a.back().bytesPulled), b.back().seconds, b.back().stepsCached,
                        b.back().stepsRun, static_cast<unsigned long long>(b.back().bytesPulled));
            std::fflush(stdout);
        }
    } catch (const cachescope::Error& e) {
        std::fprintf(stderr, "cachescope-cli compare: %s\n", e.what());
        return 1;
    }
    std::vector<double> ta, tb;
    for (const auto& s : a)
        ta.push_back(s.seconds);
    for (const auto& s : b)
        tb.push_back(s.seconds);
    const double ma = median(ta), mb = median(tb);
    const double ratio = ma > 0 ? mb / ma : 0;
    // A verdict only when the run times do not overlap: every run with the import faster than every
    // run without it (or the other way round).
    const double minA = *std::min_element(ta.begin(), ta.end()), maxA = *std::max_element(ta.begin(), ta.end());
    const double minB = *std::min_element(tb.begin(), tb.end()), maxB = *std::max_element(tb.begin(), tb.end());
    const bool helped = maxB < minA;
    std::string verdict;
    if (helped)
        verdict = "the import helped: builds with it took " + std::to_string(static_cast<int>((1 - ratio) * 100 + 0.5)) +
                  "% less time (every run with it was faster than every run without)";
    else if (minB > maxA)
        verdict = "the import made builds slower (" + std::to_string(static_cast<int>((ratio - 1) * 100 + 0.5)) +
                  "% more time): pulling its layers cost more than running the steps";
    else
        verdict = "no clear difference: the run times with and without the import overlap";
    std::printf("median: no import %.3fs (spread %.3fs), with import %.3fs (spread %.3fs); ratio b/a %.2f\n", ma,
                spread(ta), mb, spread(tb), ratio);
    std::printf("%s\n", verdict.c_str());
    if (!f.reportFile.empty()) {
        nlohmann::ordered_json j;
        j["context"] = f.context;
        j["cacheFrom"] = nlohmann::ordered_json::array();
        for (const auto& s : withImport.cacheFrom)
            j["cacheFrom"].push_back(s.raw);
        j["runs"] = f.runs;
        j["withoutImport"] = {{"samples", samplesJson(a)}, {"medianSeconds", ma}, {"spreadSeconds", spread(ta)}};
        j["withImport"] = {{"samples", samplesJson(b)}, {"medianSeconds", mb}, {"spreadSeconds", spread(tb)}};
        j["ratio"] = ratio;
        j["helped"] = helped;
        j["verdict"] = verdict;
        std::ofstream out(f.reportFile, std::ios::binary | std::ios::trunc);
        out << j.dump(2) << "\n";
        if (!out) {
            std::fprintf(stderr, "cachescope-cli compare: --report %s: cannot write\n", f.reportFile.c_str());
            return 1;
        }
    }
    return 0;
}

// cachescope-cli compare: does the cache import make the build faster? The work is the engine's
// compare runner; this prints each run as it finishes, the summary and the verdict.
#include "base/error.h"
#include "build/compare_runner.h"
#include "build_flags.h"
#include "commands.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using cachescope::build::CompareMode;
using cachescope::build::CompareProgress;
using cachescope::build::CompareSample;

int compareCommand(const std::vector<std::string>& args)
{
    BuildCliFlags f;
    if (const int rc = parseBuildFlags(args, f, true); rc >= 0)
        return rc;
    if (f.plan.cacheFrom.empty()) {
        std::fputs("cachescope-cli compare: give at least one --cache-from source to compare against\n", stderr);
        return 2;
    }
    cachescope::build::CompareOptions options;
    options.build = f.buildOptions();
    options.runs = f.runs;
    cachescope::build::CompareReport report;
    try {
        CompareSample lastWithout;
        report = cachescope::build::runCompare(options, [&](const CompareProgress& p) {
            if (p.run == 0)
                return; // the warm-up
            if (p.mode == CompareMode::WithoutImport) {
                lastWithout = *p.sample;
                return;
            }
            const CompareSample& a = lastWithout;
            const CompareSample& b = *p.sample;
            std::printf("run %d: no import %.3fs (%zu cached, %zu run, %llu B pulled) | with import %.3fs (%zu cached, "
                        "%zu run, %llu B pulled)\n",
                        p.run, a.seconds, a.stepsCached, a.stepsRun, static_cast<unsigned long long>(a.bytesPulled),
                        b.seconds, b.stepsCached, b.stepsRun, static_cast<unsigned long long>(b.bytesPulled));
            std::fflush(stdout);
        });
    } catch (const cachescope::Error& e) {
        std::fprintf(stderr, "cachescope-cli compare: %s\n", e.what());
        return 1;
    }
    std::printf("median: no import %.3fs (spread %.3fs), with import %.3fs (spread %.3fs); ratio b/a %.2f\n",
                report.without.median, report.without.spread(), report.with.median, report.with.spread(), report.ratio);
    std::printf("%s\n", report.verdict.c_str());
    if (!f.reportFile.empty()) {
        nlohmann::ordered_json j = cachescope::build::compareReportJson(options, report);
        j["context"] = f.context; // as given on the command line
        std::ofstream out(f.reportFile, std::ios::binary | std::ios::trunc);
        out << j.dump(2) << "\n";
        if (!out) {
            std::fprintf(stderr, "cachescope-cli compare: --report %s: cannot write\n", f.reportFile.c_str());
            return 1;
        }
    }
    return 0;
}

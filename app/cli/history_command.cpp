// cachescope-cli history: the builds kept in the data dir, and a step-aligned diff of two of them.
#include "base/error.h"
#include "base/files.h"
#include "build/build_history.h"
#include "commands.h"

#include <cstdio>
#include <iostream>

namespace {

using cachescope::build::BuildRecord;
using cachescope::build::HistoryStep;

// "3" is the third newest build; anything else is a build id.
BuildRecord findBuild(const std::string& which, const cachescope::build::BuildHistoryListing& listing)
{
    if (!which.empty() && which.size() < 6 && which.find_first_not_of("0123456789") == std::string::npos) {
        const std::size_t n = std::stoul(which);
        if (n < 1 || n > listing.builds.size())
            throw cachescope::Error("build " + which + ": there are " + std::to_string(listing.builds.size()) +
                                    " builds in the history (1 is the newest)");
        return listing.builds[n - 1];
    }
    return cachescope::build::loadBuildRecord(cachescope::defaultDataDir(), which);
}

std::string stepState(const std::optional<HistoryStep>& s)
{
    if (!s)
        return "-";
    std::string out = s->state;
    if (!s->source.empty())
        out += " (" + s->source + ")";
    if (s->state == "ran" || s->state == "failed")
        out += " " + std::to_string(s->durationMs) + "ms";
    return out;
}

nlohmann::ordered_json stepJson(const std::optional<HistoryStep>& s)
{
    if (!s)
        return nullptr;
    return {{"name", s->name}, {"state", s->state}, {"source", s->source}, {"key", s->key},
            {"contentKey", s->contentKey}, {"durationMs", s->durationMs}};
}

int diffCommand(const std::string& first, const std::string& second, bool json)
{
    const auto listing = cachescope::build::listBuildHistory(cachescope::defaultDataDir());
    const BuildRecord a = findBuild(first, listing), b = findBuild(second, listing);
    const auto diff = cachescope::build::diffBuilds(a, b);
    if (json) {
        nlohmann::ordered_json j;
        j["a"] = a.id;
        j["b"] = b.id;
        j["totalDeltaMs"] = diff.totalDeltaMs;
        j["steps"] = nlohmann::ordered_json::array();
        for (const auto& d : diff.steps)
            j["steps"].push_back({{"a", stepJson(d.a)},
                                  {"b", stepJson(d.b)},
                                  {"changed", d.changed()},
                                  {"stateChanged", d.stateChanged},
                                  {"sourceChanged", d.sourceChanged},
                                  {"keyChanged", d.keyChanged},
                                  {"contentChanged", d.contentChanged},
                                  {"durationDeltaMs", d.durationDeltaMs}});
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("a: %s  %s  %lldms\nb: %s  %s  %lldms\n", a.id.c_str(), a.context.c_str(),
                static_cast<long long>(a.totals.totalMs), b.id.c_str(), b.context.c_str(),
                static_cast<long long>(b.totals.totalMs));
    for (const auto& d : diff.steps) {
        const char mark = !d.a ? '+' : !d.b ? '-' : d.changed() ? '~' : '=';
        std::string notes;
        if (d.keyChanged)
            notes += " key changed";
        if (d.contentChanged)
            notes += " files changed";
        if (d.nameChanged)
            notes += " (was " + d.a->name + ")";
        std::printf("%c %s: %s -> %s%s\n", mark, d.name().c_str(), stepState(d.a).c_str(), stepState(d.b).c_str(),
                    notes.c_str());
    }
    std::printf("%zu of %zu steps changed; total %+lldms\n", diff.changedSteps(), diff.steps.size(),
                static_cast<long long>(diff.totalDeltaMs));
    return 0;
}

} // namespace

int historyCommand(const std::vector<std::string>& args)
{
    bool json = false;
    std::vector<std::string> rest;
    for (const std::string& a : args) {
        if (a == "--json")
            json = true;
        else if (a.rfind("--", 0) == 0) {
            std::fprintf(stderr, "cachescope-cli history: unknown option %s\n", a.c_str());
            return 2;
        } else
            rest.push_back(a);
    }
    try {
        if (!rest.empty()) {
            if (rest[0] != "diff" || rest.size() != 3) {
                std::fputs("cachescope-cli history: usage: history [--json] | history diff A B [--json]\n", stderr);
                return 2;
            }
            return diffCommand(rest[1], rest[2], json);
        }
        const auto listing = cachescope::build::listBuildHistory(cachescope::defaultDataDir());
        for (const std::string& why : listing.skipped)
            std::fprintf(stderr, "cachescope-cli history: skipped %s\n", why.c_str());
        if (json) {
            nlohmann::ordered_json j = nlohmann::ordered_json::array();
            for (const BuildRecord& r : listing.builds)
                j.push_back(cachescope::build::buildRecordJson(r));
            std::cout << j.dump(2) << "\n";
            return 0;
        }
        for (std::size_t i = 0; i < listing.builds.size(); ++i) {
            const BuildRecord& r = listing.builds[i];
            std::printf("%3zu  %s  %s  %-6s  %zu cached, %zu run  %lldms  %s%s\n", i + 1, r.id.c_str(), r.time.c_str(),
                        r.ok ? "ok" : "failed", r.totals.stepsCached, r.totals.stepsRun,
                        static_cast<long long>(r.totals.totalMs), r.context.c_str(),
                        r.withImport ? "  (with import)" : "");
        }
        if (listing.builds.empty())
            std::printf("no builds in %s\n", cachescope::build::buildHistoryDir(cachescope::defaultDataDir()).c_str());
        return 0;
    } catch (const cachescope::Error& e) {
        std::fprintf(stderr, "cachescope-cli history: %s\n", e.what());
        return 1;
    }
}

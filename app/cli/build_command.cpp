// cachescope-cli build: run a build (BuildSession), or with --dry-run predict every step's cache outcome.
#include "base/error.h"
#include "base/files.h"
#include "build/build_session.h"
#include "build/local_store.h"
#include "cache/cache_spec.h"
#include "build_flags.h"
#include "commands.h"
#include "interrupt_guard.h"
#include "solver/dry_run.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

namespace {

const char* g_command = "build";

int usageError(const std::string& what)
{
    std::fprintf(stderr, "cachescope-cli %s: %s\n", g_command, what.c_str());
    return 2;
}

bool splitKeyValue(const std::string& text, std::string& key, std::string& value)
{
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        return false;
    key = text.substr(0, eq);
    value = text.substr(eq + 1);
    return true;
}

std::string seconds(std::chrono::milliseconds d)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

// Progress like buildx --progress=plain.
class PlainPrinter {
public:
    void operator()(const cachescope::build::BuildEvent& e)
    {
        using namespace cachescope::build;
        if (const auto* s = std::get_if<SourceImported>(&e)) {
            if (s->ok)
                std::printf("#0 importing cache manifest from %s (%zu records)\n", s->spec.c_str(), s->records);
            else
                std::printf("#0 importing cache manifest from %s\n#0 ERROR: %s\n", s->spec.c_str(), s->error.c_str());
        } else if (const auto* p = std::get_if<StepPlanned>(&e)) {
            names_[p->vertex] = p->name;
        } else if (const auto* c = std::get_if<StepCached>(&e)) {
            std::printf("#%d %s\n#%d CACHED%s\n\n", c->vertex, names_[c->vertex].c_str(), c->vertex,
                        c->source.empty() || c->source == "local" ? "" : (" (from " + c->source + ")").c_str());
        } else if (const auto* m = std::get_if<StepMissed>(&e)) {
            missed_[m->vertex] = m->explanation;
        } else if (const auto* s = std::get_if<StepStarted>(&e)) {
            std::printf("#%d %s\n", s->vertex, names_[s->vertex].c_str());
            if (const auto it = missed_.find(s->vertex);
                it != missed_.end() && !it->second.empty() && !it->second.starts_with("no cache source given"))
                std::printf("#%d MISS %s\n", s->vertex, it->second.c_str());
        } else if (const auto* l = std::get_if<StepLog>(&e)) {
            if (l->vertex > 0)
                std::printf("#%d %.3f %s\n", l->vertex, l->at, l->line.c_str());
            else
                std::printf("#%d %s\n", l->vertex, l->line.c_str());
        } else if (const auto* f = std::get_if<StepFinished>(&e)) {
            std::printf("#%d DONE %s\n\n", f->vertex, seconds(f->duration).c_str());
        } else if (const auto* b = std::get_if<BuildFinished>(&e)) {
            if (!b->ok)
                std::printf("ERROR: %s\n", b->error.c_str());
        }
        std::fflush(stdout);
    }

private:
    std::map<int, std::string> names_;
    std::map<int, std::string> missed_;
};

nlohmann::ordered_json eventJson(const cachescope::build::BuildEvent& e)
{
    using namespace cachescope::build;
    nlohmann::ordered_json j;
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, SourceImported>) {
                j = {{"event", "SourceImported"}, {"spec", v.spec}, {"ok", v.ok}, {"error", v.error}, {"records", v.records}};
            } else if constexpr (std::is_same_v<T, StepPlanned>) {
                j = {{"event", "StepPlanned"}, {"vertex", v.vertex}, {"name", v.name}, {"key", v.key}};
            } else if constexpr (std::is_same_v<T, StepCached>) {
                j = {{"event", "StepCached"}, {"vertex", v.vertex}, {"source", v.source}};
            } else if constexpr (std::is_same_v<T, StepStarted>) {
                j = {{"event", "StepStarted"}, {"vertex", v.vertex}};
            } else if constexpr (std::is_same_v<T, StepLog>) {
                j = {{"event", "StepLog"}, {"vertex", v.vertex}, {"stream", v.stderrStream ? "stderr" : "stdout"},
                     {"line", v.line}, {"at", v.at}};
            } else if constexpr (std::is_same_v<T, StepFinished>) {
                j = {{"event", "StepFinished"}, {"vertex", v.vertex}, {"durationMs", v.duration.count()}, {"bytes", v.bytes}};
            } else if constexpr (std::is_same_v<T, StepMissed>) {
                j = {{"event", "StepMissed"}, {"vertex", v.vertex}, {"explanation", v.explanation}};
            } else if constexpr (std::is_same_v<T, BlobProgress>) {
                j = {{"event", "BlobProgress"}, {"digest", v.digest}, {"done", v.done}, {"total", v.total}};
            } else if constexpr (std::is_same_v<T, BuildFinished>) {
                j = {{"event", "BuildFinished"}, {"ok", v.ok}, {"error", v.error}, {"importMs", v.importTime.count()},
                     {"planMs", v.planTime.count()}, {"executeMs", v.executeTime.count()},
                     {"exportMs", v.exportTime.count()}, {"totalMs", v.total.count()}};
            }
        },
        e);
    return j;
}

const char* stateName(cachescope::build::StepOutcome::State s)
{
    using S = cachescope::build::StepOutcome::State;
    switch (s) {
    case S::Cached: return "cached";
    case S::NotEvaluated: return "cached-not-evaluated";
    case S::Ran: return "ran";
    case S::Failed: return "failed";
    case S::Pending: break;
    }
    return "pending";
}

} // namespace

nlohmann::ordered_json buildResultJson(const cachescope::build::BuildResult& r)
{
    nlohmann::ordered_json j;
    j["ok"] = r.ok;
    j["error"] = r.error;
    j["exitCode"] = r.exitCode;
    j["logTail"] = r.logTail;
    j["steps"] = nlohmann::ordered_json::array();
    for (const auto& s : r.steps)
        j["steps"].push_back({{"vertex", s.vertex}, {"name", s.name}, {"key", s.key}, {"status", stateName(s.state)},
                              {"source", s.source}, {"durationMs", s.duration.count()}});
    j["stepsCached"] = r.stepsCached();
    j["stepsRun"] = r.stepsRun();
    j["bytesPulled"] = r.bytesPulled;
    j["imageManifest"] = r.imageManifest;
    j["diffIds"] = r.finalDiffIds;
    j["cacheExports"] = r.cacheExports;
    j["timings"] = {{"importMs", r.timings.importTime.count()}, {"planMs", r.timings.planTime.count()},
                    {"executeMs", r.timings.executeTime.count()}, {"exportMs", r.timings.exportTime.count()},
                    {"totalMs", r.timings.total.count()}};
    return j;
}

int runBuild(const cachescope::build::BuildOptions& options, const std::string& progress, const std::string& reportFile)
{
    PlainPrinter plain;
    cachescope::build::EventSink sink;
    if (progress == "json")
        sink = [](const cachescope::build::BuildEvent& e) { std::cout << eventJson(e).dump() << "\n" << std::flush; };
    else
        sink = [&plain](const cachescope::build::BuildEvent& e) { plain(e); };
    // Ctrl-C / SIGTERM stop the build cleanly (a second one exits at once).
    std::stop_source stop;
    cachescope::build::BuildOptions withCancel = options;
    withCancel.cancel = stop.get_token();
    InterruptGuard guard(stop);
    cachescope::build::BuildSession session(withCancel, sink);
    const auto result = session.run();
    if (!reportFile.empty()) {
        std::ofstream out(reportFile, std::ios::binary | std::ios::trunc);
        out << buildResultJson(result).dump(2) << "\n";
        if (!out) {
            std::fprintf(stderr, "cachescope-cli build: --report %s: cannot write\n", reportFile.c_str());
            return 1;
        }
    }
    if (!result.ok) {
        std::fprintf(stderr, "cachescope-cli build: %s\n", result.error.c_str());
        if (guard.interrupted())
            return 130; // as a shell reports a command ended by SIGINT
        return result.exitCode > 0 ? result.exitCode : 1;
    }
    return 0;
}

int parseBuildFlags(const std::vector<std::string>& args, BuildCliFlags& f, bool compare)
{
    g_command = compare ? "compare" : "build";
    auto& o = f.plan;
    bool& dry = f.dryRun;
    std::string& progress = f.progress;
    std::string& reportFile = f.reportFile;
    std::string& context = f.context;
    bool& noCache = f.noCache;
    auto& outputs = f.outputs;
    auto& cacheTo = f.cacheTo;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            // Both "--flag value" and "--flag=value".
            const auto eq = a.find('=');
            if (a.starts_with("--") && eq != std::string::npos) {
                out = a.substr(eq + 1);
                return true;
            }
            if (i + 1 >= args.size())
                return false;
            out = args[++i];
            return true;
        };
        const std::string flag = a.starts_with("--") ? a.substr(0, a.find('=')) : a;
        std::string v, k, val;
        if (compare && flag == "--runs") {
            if (!value(v) || v.empty() || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
                std::stoi(v) > 100)
                return usageError("--runs needs a number from 1 to 100, got \"" + v + "\"");
            f.runs = std::stoi(v);
        } else if (!compare && flag == "--dry-run") {
            dry = true;
        } else if (flag == "--no-cache") {
            noCache = true;
        } else if (flag == "--output" || flag == "-o") {
            if (!value(v))
                return usageError("--output needs type=oci,dest=DIR");
            try {
                outputs.push_back(cachescope::build::parseOutputSpec(v));
            } catch (const cachescope::Error& e) {
                return usageError(e.what());
            }
        } else if (flag == "--cache-to") {
            if (!value(v))
                return usageError("--cache-to needs a cache target");
            try {
                cacheTo.push_back(cachescope::cache::parseCacheExportSpec(v));
            } catch (const cachescope::Error& e) {
                return usageError(e.what());
            }
        } else if (flag == "--secret") {
            if (!value(v))
                return usageError("--secret needs id=ID,src=PATH or id=ID,env=VAR");
            try {
                f.secrets.push_back(cachescope::build::parseSecretSpec(v));
            } catch (const cachescope::Error& e) {
                return usageError(e.what());
            }
        } else if (flag == "--ssh") {
            if (!value(v))
                return usageError("--ssh needs default[=SOCKET|KEYFILE[,KEYFILE...]] or ID=SOCKET|KEYFILE[,KEYFILE...]");
            try {
                f.ssh.push_back(cachescope::build::parseSshSpec(v));
            } catch (const cachescope::Error& e) {
                return usageError(e.what());
            }
        } else if (flag == "-f" || flag == "--file") {
            if (!value(v))
                return usageError(flag + " needs a file");
            o.dockerfile = v;
        } else if (flag == "--target") {
            if (!value(v))
                return usageError("--target needs a stage name");
            o.target = v;
        } else if (flag == "--build-arg") {
            if (!value(v) || !splitKeyValue(v, k, val))
                return usageError("--build-arg needs KEY=VALUE, got \"" + v + "\"");
            o.buildArgs[k] = val;
        } else if (flag == "--platform") {
            if (!value(v))
                return usageError("--platform needs a platform (linux/amd64)");
            o.platform = v;
        } else if (flag == "--build-context") {
            if (!value(v) || !splitKeyValue(v, k, val))
                return usageError("--build-context needs NAME=SOURCE, got \"" + v + "\"");
            o.buildContexts[k] = val;
        } else if (flag == "--cache-from") {
            if (!value(v))
                return usageError("--cache-from needs a cache source");
            try {
                for (auto& s : cachescope::cache::parseCacheSpecs(v))
                    o.cacheFrom.push_back(std::move(s));
            } catch (const cachescope::Error& e) {
                return usageError(e.what());
            }
        } else if (flag == "--progress") {
            if (!value(v) || (v != "plain" && v != "json"))
                return usageError("--progress is plain or json");
            progress = v;
        } else if (flag == "--report") {
            if (!value(v))
                return usageError("--report needs a file");
            reportFile = v;
        } else if (a.starts_with("-") && a != "-") {
            return usageError("unknown option " + a);
        } else if (context.empty()) {
            context = a;
        } else {
            return usageError("more than one context given (\"" + context + "\", \"" + a + "\")");
        }
    }
    if (context.empty())
        return usageError("give the build context directory");
    o.contextDir = context;
    return -1;
}

cachescope::build::BuildOptions BuildCliFlags::buildOptions() const
{
    cachescope::build::BuildOptions b;
    b.contextDir = plan.contextDir;
    b.dockerfile = plan.dockerfile;
    b.target = plan.target;
    b.buildArgs = plan.buildArgs;
    b.platform = plan.platform;
    b.buildContexts = plan.buildContexts;
    b.cacheFrom = plan.cacheFrom;
    b.outputs = outputs;
    b.noCache = noCache;
    b.cacheTo = cacheTo;
    b.secrets = secrets;
    b.sshAgents = ssh;
    return b;
}

int buildCommand(const std::vector<std::string>& args)
{
    BuildCliFlags f;
    if (const int rc = parseBuildFlags(args, f, false); rc >= 0)
        return rc;
    auto& o = f.plan;
    const bool dry = f.dryRun;
    const std::string& progress = f.progress;
    const std::string& reportFile = f.reportFile;
    if (!dry)
        return runBuild(f.buildOptions(), progress, reportFile);
    if (f.noCache || !f.outputs.empty() || !f.cacheTo.empty() || !f.secrets.empty() || !f.ssh.empty())
        return usageError("--no-cache, --output, --cache-to, --secret and --ssh do not apply to --dry-run");
    try {
        // Earlier real builds on this machine serve steps too (BuildKit's daemon-local state).
        const cachescope::build::LocalStore local(o.dataDir.empty() ? cachescope::defaultDataDir() : o.dataDir);
        const auto report = cachescope::solver::dryRun(o, &local);
        const auto json = cachescope::solver::dryRunJson(report);
        if (progress == "json")
            std::cout << json.dump(2) << "\n";
        else
            std::cout << cachescope::solver::dryRunText(report);
        if (!reportFile.empty()) {
            std::ofstream out(reportFile, std::ios::binary | std::ios::trunc);
            out << json.dump(2) << "\n";
            if (!out)
                throw cachescope::Error("--report " + reportFile + ": cannot write");
        }
        bool allOk = true;
        for (const auto& s : report.sources)
            allOk = allOk && s.ok;
        return allOk ? 0 : 1;
    } catch (const cachescope::Error& e) {
        std::fprintf(stderr, "cachescope-cli build: %s\n", e.what());
        return 1;
    }
}

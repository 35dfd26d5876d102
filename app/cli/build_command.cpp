// cachescope-cli build --dry-run: predict every step's cache outcome.
#include "base/error.h"
#include "cache/cache_spec.h"
#include "commands.h"
#include "solver/dry_run.h"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace {

int usageError(const std::string& what)
{
    std::fprintf(stderr, "cachescope-cli build: %s\n", what.c_str());
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

} // namespace

int buildCommand(const std::vector<std::string>& args)
{
    using cachescope::solver::DryRunOptions;
    DryRunOptions o;
    bool dry = false;
    std::string progress = "plain";
    std::string reportFile;
    std::string context;
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
        if (flag == "--dry-run") {
            dry = true;
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
    if (!dry) {
        std::fputs("cachescope-cli build: running builds is not available yet; use build --dry-run to plan one\n", stderr);
        return 2;
    }
    if (context.empty())
        return usageError("give the build context directory");
    o.contextDir = context;
    try {
        const auto report = cachescope::solver::dryRun(o);
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

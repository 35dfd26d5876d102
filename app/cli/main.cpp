// cachescope-cli: the headless shell over the engine.
#include "base/error.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "cache/import_report.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kUsage = R"(usage: cachescope-cli <command> [options]

commands:
  inspect SPEC... [--json] [--records]
      Import each cache source and report what it holds: form, manifest digest, config size,
      records, layers, roots, problems. SPEC is a buildx --cache-from value:
        type=registry,ref=REF[,registry.insecure=true]   a registry cache (or an image with inline cache)
        type=local,src=DIR[,tag=TAG|digest=sha256:...]   a directory written by --cache-to type=local
        REF                                              shorthand for type=registry,ref=REF
      --records  list every record with its inputs and result chain
      --json     print a JSON document instead (see README.md)
)";

int inspect(const std::vector<std::string>& args)
{
    bool json = false;
    bool records = false;
    std::vector<cachescope::cache::CacheSpec> specs;
    for (const std::string& a : args) {
        if (a == "--json") {
            json = true;
        } else if (a == "--records") {
            records = true;
        } else if (a.rfind("--", 0) == 0) {
            std::fprintf(stderr, "cachescope-cli inspect: unknown option %s\n", a.c_str());
            return 2;
        } else {
            try {
                for (auto& s : cachescope::cache::parseCacheSpecs(a))
                    specs.push_back(std::move(s));
            } catch (const cachescope::Error& e) {
                std::fprintf(stderr, "cachescope-cli inspect: %s\n", e.what());
                return 2;
            }
        }
    }
    if (specs.empty()) {
        std::fputs("cachescope-cli inspect: give at least one cache source (see --help)\n", stderr);
        return 2;
    }
    const auto imported = cachescope::cache::importSources(specs, cachescope::cache::defaultProviderFactory());
    bool allOk = true;
    for (const auto& c : imported)
        allOk = allOk && c.ok;
    if (json) {
        std::cout << cachescope::cache::importReportJson(imported).dump(2) << "\n";
    } else {
        for (std::size_t i = 0; i < imported.size(); ++i)
            std::cout << (i ? "\n" : "") << cachescope::cache::importReportText(imported[i], records);
    }
    return allOk ? 0 : 1;
}

} // namespace

int main(int argc, char* argv[])
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (command == "inspect")
        return inspect(args);
    if (command == "build") {
        std::fputs("cachescope-cli build: not available in this version; use inspect\n", stderr);
        return 2;
    }
    std::fprintf(stderr, "cachescope-cli: unknown command \"%s\" (see --help)\n", command.c_str());
    return 2;
}

// cachescope-cli inspect: import cache sources and report what they hold.
#include "base/error.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "cache/import_report.h"
#include "commands.h"

#include <cstdio>
#include <iostream>

int inspectCommand(const std::vector<std::string>& args)
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


#pragma once
// What BuildKit itself recorded for a fixture or catalogue build: every plaintext its debug DB hashed
// (digest -> bytes) and the records of the exported mode=max cache config. Tests compare CacheScope's
// keys with it byte for byte.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace cachescope::test {

struct BuildkitOracle {
    std::map<std::string, std::string> plain;    // digest -> hashed bytes (file contents left out)
    std::map<std::string, std::size_t> recordIx; // exported record digest -> index
    nlohmann::json config;                       // the exported cache config
};

// buildkit-v0.24/<fixture>/keys/after-cold (cache-all.json + exported-cache-config.json).
BuildkitOracle fixtureOracle(const std::string& fixture);
// A catalogue case folder (dumps/cache-all.json + export-local-max).
BuildkitOracle catalogueOracle(const std::filesystem::path& caseDir);
// Adds the plaintexts of one more debug DB dump (a cache-all.json) to `oracle`.
void addDebugDump(BuildkitOracle& oracle, const std::filesystem::path& cacheAllJson);

} // namespace cachescope::test

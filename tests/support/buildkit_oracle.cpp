#include "support/buildkit_oracle.h"

#include "base/base64.h"
#include "base/files.h"
#include "support/fixtures.h"

namespace cachescope::test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json readJson(const fs::path& p) { return json::parse(readFile(p)); }

void addEntries(BuildkitOracle& o, const json& entries)
{
    for (const auto& e : entries) {
        std::string bytes;
        for (const auto& f : e.at("data"))
            if (f.at("type").get<int>() == 2)
                bytes += base64Decode(f.at("data").get<std::string>(), "debug DB frame");
        o.plain.emplace(e.at("digest").get<std::string>(), std::move(bytes));
        if (e.contains("subRecords"))
            addEntries(o, e.at("subRecords"));
    }
}

void loadConfig(BuildkitOracle& o, json cfg)
{
    o.config = std::move(cfg);
    const auto& records = o.config.at("records");
    for (std::size_t i = 0; i < records.size(); ++i)
        o.recordIx[records[i].at("digest").get<std::string>()] = i;
}

} // namespace

BuildkitOracle fixtureOracle(const std::string& fixture)
{
    BuildkitOracle o;
    const fs::path keys = fixturesDir() / "buildkit-v0.24" / fixture / "keys" / "after-cold";
    addEntries(o, readJson(keys / "cache-all.json"));
    loadConfig(o, readJson(keys / "exported-cache-config.json"));
    return o;
}

void addDebugDump(BuildkitOracle& o, const fs::path& cacheAllJson)
{
    addEntries(o, readJson(cacheAllJson));
}

BuildkitOracle catalogueOracle(const fs::path& base)
{
    BuildkitOracle o;
    addEntries(o, readJson(base / "dumps" / "cache-all.json"));
    const fs::path layout = base / "export-local-max";
    const json index = readJson(layout / "index.json");
    const std::string manifest = index.at("manifests").at(0).at("digest").get<std::string>();
    const json m = readJson(layout / "blobs" / "sha256" / manifest.substr(7));
    const std::string config = m.at("config").at("digest").get<std::string>();
    loadConfig(o, readJson(layout / "blobs" / "sha256" / config.substr(7)));
    return o;
}

} // namespace cachescope::test

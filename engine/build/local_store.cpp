#include "build/local_store.h"

#include "base/error.h"
#include "base/files.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace cachescope::build {

namespace fs = std::filesystem;

namespace {

std::string recordKey(const oci::Digest& digest, const std::vector<std::vector<cache::Input>>& inputs)
{
    std::string k = digest.str();
    for (const auto& alts : inputs) {
        k += "|";
        for (const auto& in : alts)
            k += in.selector + "@" + std::to_string(in.link) + ",";
    }
    return k;
}

} // namespace

LocalStore::LocalStore(fs::path dataDir)
    : dataDir_(std::move(dataDir)), dir_(dataDir_ / "local-cache"), content_(dataDir_)
{
    const fs::path configFile = dir_ / "config.json";
    const fs::path layersFile = dir_ / "layers.json";
    if (!fs::exists(configFile))
        return;
    try {
        config_ = cache::parseCacheConfig(readFile(configFile), "local cache " + configFile.string());
        if (fs::exists(layersFile)) {
            const nlohmann::json j = nlohmann::json::parse(readFile(layersFile));
            for (const auto& d : j)
                descriptors_[oci::Digest::parse(d.at("digest").get<std::string>())] =
                    oci::Descriptor::fromJson(d, "local cache " + layersFile.string());
        }
        for (std::size_t i = 0; i < config_.records.size(); ++i)
            recordIndex_.emplace(recordKey(config_.records[i].digest, config_.records[i].inputs), static_cast<int>(i));
        for (std::size_t i = 0; i < config_.layers.size(); ++i)
            layerIndex_.emplace(std::make_pair(config_.layers[i].blob.str(), config_.layers[i].parent),
                                static_cast<int>(i));
        rebuildGraph();
    } catch (const std::exception& e) {
        warning_ = std::string("local cache ") + dir_.string() + " was unreadable and starts empty: " + e.what();
        std::error_code ec;
        fs::rename(configFile, configFile.string() + ".damaged", ec);
        config_ = {};
        descriptors_.clear();
        recordIndex_.clear();
        layerIndex_.clear();
        graph_.reset();
    }
}

void LocalStore::rebuildGraph()
{
    // Only blobs that are really in the content store make results usable.
    std::map<oci::Digest, oci::Descriptor> listed;
    for (const auto& [d, desc] : descriptors_)
        if (content_.has(d))
            listed.emplace(d, desc);
    std::vector<cache::SourceProblem> problems;
    graph_.emplace(cache::KeyGraph::build(config_, listed, "local cache " + dir_.string(), &problems));
}

int LocalStore::addRecord(const oci::Digest& digest, const std::vector<std::vector<Link>>& inputs)
{
    std::vector<std::vector<cache::Input>> in;
    for (const auto& alts : inputs) {
        std::vector<cache::Input> v;
        for (const auto& l : alts)
            v.push_back(cache::Input{l.selector, l.record});
        in.push_back(std::move(v));
    }
    const std::string key = recordKey(digest, in);
    if (const auto it = recordIndex_.find(key); it != recordIndex_.end())
        return it->second;
    cache::Record r;
    r.digest = digest;
    r.inputs = std::move(in);
    config_.records.push_back(std::move(r));
    const int index = static_cast<int>(config_.records.size()) - 1;
    recordIndex_.emplace(key, index);
    dirty_ = true;
    return index;
}

void LocalStore::addResult(int record, const std::vector<oci::Descriptor>& layers)
{
    if (layers.empty() || record < 0 || record >= static_cast<int>(config_.records.size()))
        return;
    int parent = -1;
    for (const auto& d : layers) {
        const auto key = std::make_pair(d.digest.str(), parent);
        auto it = layerIndex_.find(key);
        if (it == layerIndex_.end()) {
            cache::Layer l;
            l.blob = d.digest;
            l.parent = parent;
            config_.layers.push_back(l);
            it = layerIndex_.emplace(key, static_cast<int>(config_.layers.size()) - 1).first;
        }
        parent = it->second;
        descriptors_[d.digest] = d;
    }
    auto& results = config_.records[static_cast<std::size_t>(record)].results;
    for (const auto& r : results)
        if (r.layer == parent)
            return;
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    results.push_back(cache::Result{parent, cache::Timestamp::fromNanos(now)});
    dirty_ = true;
}

void LocalStore::save()
{
    if (!dirty_)
        return;
    fs::create_directories(dir_);
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const auto& [d, desc] : descriptors_)
        layers.push_back(desc.toJson());
    // Layers first: a config never names a layer whose descriptor is not on disk.
    writeFileAtomic(dir_ / "layers.json", layers.dump());
    writeFileAtomic(dir_ / "config.json", cache::serializeCacheConfig(config_));
    dirty_ = false;
}

} // namespace cachescope::build

#include "cache/cache_importer.h"

#include <atomic>
#include <thread>

namespace cachescope::cache {

namespace {

ImportedCache importOne(const CacheSpec& spec, const ProviderFactory& factory)
{
    try {
        auto provider = factory.create(spec);
        return importCache(*provider, spec);
    } catch (const std::exception& e) {
        ImportedCache failed;
        failed.spec = spec;
        failed.source = spec.displayName();
        failed.error = failed.source + ": " + e.what();
        return failed;
    } catch (...) {
        ImportedCache failed;
        failed.spec = spec;
        failed.source = spec.displayName();
        failed.error = failed.source + ": unknown error";
        return failed;
    }
}

} // namespace

std::vector<ImportedCache> importSources(const std::vector<CacheSpec>& specs, const ProviderFactory& factory,
                                         std::size_t maxParallel)
{
    std::vector<ImportedCache> results(specs.size());
    if (specs.empty())
        return results;
    // Sources mostly wait on the network: one thread each, unless capped.
    const std::size_t threads = maxParallel == 0 ? specs.size() : std::min(maxParallel, specs.size());
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t i = next++; i < specs.size(); i = next++)
            results[i] = importOne(specs[i], factory);
    };
    if (threads == 1) {
        worker();
        return results;
    }
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t)
        pool.emplace_back(worker);
    for (auto& t : pool)
        t.join();
    return results;
}

std::vector<ImportedCache> importSourcesReusing(const std::vector<CacheSpec>& specs, const PreImported& earlier,
                                                const ProviderFactory& factory)
{
    std::vector<CacheSpec> fresh;
    for (const CacheSpec& spec : specs)
        if (!earlier.contains(spec.raw))
            fresh.push_back(spec);
    std::vector<ImportedCache> imported = importSources(fresh, factory);
    std::vector<ImportedCache> results;
    results.reserve(specs.size());
    auto next = imported.begin();
    for (const CacheSpec& spec : specs) {
        const auto it = earlier.find(spec.raw);
        if (it != earlier.end() && it->second)
            results.push_back(*it->second);
        else
            results.push_back(std::move(*next++));
    }
    return results;
}

} // namespace cachescope::cache

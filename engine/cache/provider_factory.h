#pragma once
// Maps a cache spec to the BlobProvider that reads it. Creators are registered per spec type,
// so engine/registry can plug its provider in ("registry") without this layer knowing it:
//   ProviderFactory f = ProviderFactory::withLocal();
//   f.add("registry", [](const CacheSpec& s) { return std::make_unique<RegistryBlobProvider>(s); });
// `type=inline` uses the "inline" creator when one is registered, else the "registry" one
// (inline cache is read from an image in a registry).
#include "cache/blob_provider.h"
#include "cache/cache_spec.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace cachescope::cache {

class ProviderFactory {
public:
    using Creator = std::function<std::unique_ptr<BlobProvider>(const CacheSpec&)>;

    // A factory that knows type=local only.
    static ProviderFactory withLocal();

    void add(const std::string& type, Creator creator) { creators_[type] = std::move(creator); }
    bool supports(const std::string& type) const;
    // Throws Error when no creator handles the spec's type.
    std::unique_ptr<BlobProvider> create(const CacheSpec& spec) const;

private:
    const Creator* find(const std::string& type) const;
    std::map<std::string, Creator> creators_;
};

} // namespace cachescope::cache

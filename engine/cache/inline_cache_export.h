#pragma once
// `--cache-to type=inline` (spec §4): the value of the image config key moby.buildkit.cache.v0,
// for the image exporter to embed. Always mode=min; results survive only when every blob of
// theirs is one of the image's layers (matched by blob digest, else by diffID). Layer indexes
// refer to the image's layers: a result that is a prefix of them is {"layer": top}, any other
// a "chains" entry listing image layer indexes (createdAt zero), as BuildKit writes.
#include "cache/export_graph.h"
#include "oci/descriptor.h"

#include <optional>
#include <string>
#include <vector>

namespace cachescope::cache {

// The compact JSON array of records; nullopt when no result matched an image layer (BuildKit then
// embeds nothing).
std::optional<std::string> inlineCacheRecords(const ExportGraph& graph, const std::vector<oci::Descriptor>& imageLayers);
// The same, base64-encoded: the string value of moby.buildkit.cache.v0.
std::optional<std::string> inlineCacheValue(const ExportGraph& graph, const std::vector<oci::Descriptor>& imageLayers);

} // namespace cachescope::cache

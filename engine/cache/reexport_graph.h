#pragma once
// Re-export of an imported cache (spec §6): every imported key becomes an export record with the
// same links, and its results are offered as preexisting (their blobs exist already, so mode=min
// keeps them too); the exporter keeps a result only if its blobs are still obtainable.
#include "cache/export_graph.h"
#include "cache/imported_cache.h"
#include "registry/registry_client.h"

#include <memory>

namespace cachescope::cache {

// Appends the keys of `imported` to `graph` (every platform of an inline source). Results whose
// layers preflight found missing are not offered. Returns the export record of each item of each
// imported graph, in the order of imported.graphs.
std::vector<std::vector<int>> appendImportedCache(ExportGraph& graph, const ImportedCache& imported,
                                                  std::shared_ptr<LayerSource> source);

// Where the blobs of an imported source are: the layout directory of type=local, the repository
// of type=registry/inline. Throws Error naming the source for other types.
std::shared_ptr<LayerSource> layerSourceFor(const ImportedCache& imported, registry::RegistryOptions options = {});

// The export graph of one imported cache with its own blob source.
ExportGraph exportGraphFromImport(const ImportedCache& imported, registry::RegistryOptions options = {});

} // namespace cachescope::cache

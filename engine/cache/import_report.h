#pragma once
// What `cachescope-cli inspect` prints for each imported source: a terminal report and a stable
// JSON document (documented in README.md). The GUI shows the same facts in its cache browser.
#include "cache/imported_cache.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cachescope::cache {

nlohmann::ordered_json importReportJson(const ImportedCache& imported);
nlohmann::ordered_json importReportJson(const std::vector<ImportedCache>& imported);

// `verbose` lists every record with its inputs and result chain.
std::string importReportText(const ImportedCache& imported, bool verbose);

} // namespace cachescope::cache

#pragma once
// A comparable picture of an imported cache: for each item its digest, its parents (digest and
// selector per input, alternatives as a set) and the blobs of its best result. Two imports of
// the same cache have equal shapes whatever the record order.
#include "cache/imported_cache.h"

#include <set>
#include <string>

namespace cachescope::test {

std::multiset<std::string> graphShape(const cache::ImportedCache& imported);

} // namespace cachescope::test

#pragma once
// An LLB merge op: the layers of its inputs stacked in order (`COPY --link` onto a stage).
#include <cstdint>
#include <vector>

namespace cachescope::solver {

struct MergeOp {
    std::vector<std::int64_t> inputs; // op input indexes, bottom first
};

} // namespace cachescope::solver

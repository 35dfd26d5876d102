#include "solver/source_op.h"

namespace cachescope::solver {

std::vector<oci::Digest> chainIds(const std::vector<oci::Digest>& diffIds)
{
    std::vector<oci::Digest> chains;
    for (const auto& d : diffIds)
        chains.push_back(chains.empty() ? d : oci::Digest::of(chains.back().str() + " " + d.str()));
    return chains;
}

oci::Digest chainId(const std::vector<oci::Digest>& diffIds)
{
    std::vector<oci::Digest> chains = chainIds(diffIds);
    return chains.empty() ? oci::Digest() : chains.back();
}

} // namespace cachescope::solver

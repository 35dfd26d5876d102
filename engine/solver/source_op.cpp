#include "solver/source_op.h"

namespace cachescope::solver {

oci::Digest chainId(const std::vector<oci::Digest>& diffIds)
{
    oci::Digest chain;
    for (const auto& d : diffIds)
        chain = chain.empty() ? d : oci::Digest::of(chain.str() + " " + d.str());
    return chain;
}

} // namespace cachescope::solver

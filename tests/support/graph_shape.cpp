#include "support/graph_shape.h"

namespace cachescope::test {

std::multiset<std::string> graphShape(const cache::ImportedCache& c)
{
    std::multiset<std::string> shape;
    for (const auto& ig : c.graphs) {
        const cache::KeyGraph& g = ig.graph;
        for (std::size_t i = 0; i < g.itemCount(); ++i) {
            const auto id = static_cast<cache::ItemId>(i);
            std::string line = ig.platform + " " + g.digest(id).str() + " <-";
            for (const auto& alternatives : g.item(id).parents) {
                std::set<std::string> alts;
                for (const auto& link : alternatives)
                    alts.insert(g.digest(link.parent).str() + "/" + g.selector(link.selector));
                line += " [";
                for (const auto& a : alts)
                    line += a + " ";
                line += "]";
            }
            if (const auto* best = g.bestResult(id))
                for (const auto& layer : g.chainLayers(*best))
                    line += " " + layer.digest.str();
            shape.insert(line);
        }
    }
    return shape;
}

} // namespace cachescope::test

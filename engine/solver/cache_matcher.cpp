#include "solver/cache_matcher.h"

#include "base/error.h"

#include <algorithm>
#include <functional>
#include <set>

namespace cachescope::solver {

namespace {

using Items = std::vector<cache::ItemId>;

void addUnique(Items& to, const Items& more)
{
    for (cache::ItemId i : more)
        if (std::find(to.begin(), to.end(), i) == to.end())
            to.push_back(i);
}

Items intersect(const Items& a, const Items& b)
{
    Items out;
    for (cache::ItemId i : a)
        if (std::find(b.begin(), b.end(), i) != b.end())
            out.push_back(i);
    return out;
}

std::string selectorText(const CacheMapDep& dep)
{
    return dep.selector.empty() ? std::string() : dep.selector.str();
}

} // namespace

ContentKeys contextContentKeys(const OpGraph& graph, ContentTree* context)
{
    ContentKeys keys;
    keys.byNode.resize(graph.nodes.size());
    for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
        const OpNode& node = graph.nodes[n];
        keys.byNode[n].resize(node.inputs.size());
        for (std::size_t i = 0; i < node.inputs.size(); ++i) {
            if (node.inputs[i].origin != ContentOrigin::Context || !context)
                continue;
            try {
                keys.byNode[n][i] = context->contentKey(node.cacheMaps[0].deps[i].contentSelectors);
            } catch (const OperationCancelled&) {
                throw;
            } catch (const Error& e) {
                throw Error(node.displayName + ": build context: " + e.what());
            }
        }
    }
    return keys;
}

std::vector<MatchSource> matchSources(const std::vector<cache::ImportedCache>& imported, const LocalCacheStore* local)
{
    std::vector<MatchSource> out;
    if (local && local->graph())
        out.push_back(MatchSource{"local", local->graph(), true});
    for (const auto& c : imported) {
        if (!c.ok)
            continue;
        for (const auto& g : c.graphs)
            out.push_back(MatchSource{c.spec.raw, &g.graph, false});
    }
    return out;
}

std::vector<NodeMatch> matchGraph(const OpGraph& graph, const ContentKeys& content, const std::vector<MatchSource>& sources)
{
    const std::size_t count = graph.nodes.size();
    std::vector<NodeMatch> m(count);
    // candidates[source][node]
    std::vector<std::vector<Items>> cand(sources.size(), std::vector<Items>(count));

    for (std::size_t n = 0; n < count; ++n) {
        const OpNode& node = graph.nodes[n];
        NodeMatch& nm = m[n];
        nm.inputDefinitionMatched.assign(node.inputs.size(), false);
        nm.inputContentFound.assign(node.inputs.size(), false);
        const CacheMap& cm = node.cacheMaps[0];
        for (std::size_t s = 0; s < sources.size(); ++s) {
            const cache::KeyGraph& g = *sources[s].graph;
            Items& out = cand[s][n];
            if (node.kind == OpKind::Local)
                continue; // random key: never matched
            if (node.inputs.empty()) {
                for (std::size_t k = 0; k < node.cacheMaps.size(); ++k) {
                    const Items roots = g.roots(node.cacheMaps[k].record(node.output));
                    if (!roots.empty() && node.kind == OpKind::Image)
                        (k == 0 ? nm.manifestKeyFound : nm.chainKeyFound) = true;
                    addUnique(out, roots);
                }
                continue;
            }
            const oci::Digest rec = cm.record(node.output);
            Items acc;
            for (std::size_t i = 0; i < node.inputs.size(); ++i) {
                const std::string sel = selectorText(cm.deps[i]);
                Items mi;
                for (cache::ItemId parent : cand[s][static_cast<std::size_t>(node.inputs[i].node)])
                    addUnique(mi, g.children(parent, static_cast<int>(i), rec, sel));
                if (!mi.empty())
                    nm.inputDefinitionMatched[i] = true;
                if (const auto& ck = content.byNode[n][i]) {
                    for (cache::ItemId root : g.roots(ck->key.record)) {
                        nm.inputContentFound[i] = true;
                        addUnique(mi, g.children(root, static_cast<int>(i), rec, ""));
                    }
                }
                acc = i == 0 ? mi : intersect(acc, mi);
            }
            out = std::move(acc);
        }

        // Hits and attribution across sources.
        const cache::ResultChain* best = nullptr;
        std::size_t bestSource = 0;
        cache::ItemId bestItem = -1;
        std::set<std::string> usableIn;
        for (std::size_t s = 0; s < sources.size(); ++s) {
            const cache::KeyGraph& g = *sources[s].graph;
            for (cache::ItemId id : cand[s][n]) {
                nm.keyFound = true;
                if (!g.item(id).results.empty())
                    nm.hasResult = true;
                const cache::ResultChain* r = g.bestUsableResult(id);
                if (!r) {
                    if (const cache::ResultChain* any = g.bestResult(id); any && nm.missingBlob.empty())
                        for (cache::LayerSlot slot : g.chainSlots(*any))
                            if (g.layerFlags(slot) != 0) {
                                nm.missingBlob = g.layer(slot).digest.str();
                                break;
                            }
                    continue;
                }
                usableIn.insert(sources[s].spec);
                // Newest createdAt wins; on a tie an imported record beats a local one.
                const bool better = !best || r->createdAt.nanos > best->createdAt.nanos ||
                                    (r->createdAt.nanos == best->createdAt.nanos && sources[bestSource].local &&
                                     !sources[s].local);
                if (better) {
                    best = r;
                    bestSource = s;
                    bestItem = id;
                }
            }
        }
        if (node.kind != OpKind::Image && node.kind != OpKind::Local && best) {
            nm.usable = true;
            nm.served = SourceHit{sources[bestSource].spec, best->createdAt.text};
            nm.servedSource = static_cast<int>(bestSource);
            nm.servedItem = bestItem;
            for (const auto& spec : usableIn)
                if (spec != sources[bestSource].spec)
                    nm.alsoIn.push_back(spec);
        }
        // Without a candidate, a stage output not known yet may still give a content key.
        if (!nm.keyFound && !sources.empty() && node.kind != OpKind::Image && node.kind != OpKind::Local) {
            for (std::size_t i = 0; i < node.inputs.size(); ++i) {
                const OpInput& in = node.inputs[i];
                const NodeMatch& input = m[static_cast<std::size_t>(in.node)];
                if (input.unknown ||
                    (in.origin == ContentOrigin::Stage && !input.usable && !nm.inputDefinitionMatched[i]))
                    nm.pendingInputs.push_back(static_cast<int>(i));
            }
            nm.unknown = !nm.pendingInputs.empty();
        }
    }

    // BuildKit's evaluation: from the target down, a hit is loaded and its inputs are not needed; a
    // miss needs all inputs. Unknown nodes are evaluated twice: as hits (only the inputs that decide
    // them are needed) and as misses (all are); a step whose outcome differs between the two depends
    // on the stage output.
    auto evaluate = [&](bool unknownHits) {
        std::vector<bool> needed(count, false);
        std::function<void(int)> visit = [&](int n) {
            if (n < 0 || needed[static_cast<std::size_t>(n)])
                return;
            needed[static_cast<std::size_t>(n)] = true;
            const NodeMatch& nm = m[static_cast<std::size_t>(n)];
            const OpNode& node = graph.nodes[static_cast<std::size_t>(n)];
            if (nm.usable)
                return;
            if (nm.unknown && unknownHits) {
                // Only what decides its key: unknown inputs, and stage outputs its content key needs.
                for (int i : nm.pendingInputs)
                    visit(node.inputs[static_cast<std::size_t>(i)].node);
                return;
            }
            for (const OpInput& in : node.inputs)
                visit(in.node);
        };
        visit(graph.target);
        return needed;
    };
    const std::vector<bool> asHits = evaluate(true);
    const std::vector<bool> asMisses = evaluate(false);
    for (std::size_t n = 0; n < count; ++n) {
        NodeMatch& nm = m[n];
        auto outcome = [&](const std::vector<bool>& needed) {
            if (nm.unknown)
                return Evaluation::Depends;
            if (!needed[n])
                return Evaluation::NotEvaluated;
            return nm.usable ? Evaluation::Hit : Evaluation::Run;
        };
        const Evaluation a = outcome(asHits), b = outcome(asMisses);
        const bool cachedA = a == Evaluation::Hit || a == Evaluation::NotEvaluated;
        const bool cachedB = b == Evaluation::Hit || b == Evaluation::NotEvaluated;
        if (nm.unknown || cachedA != cachedB)
            nm.evaluation = Evaluation::Depends;
        else
            nm.evaluation = b == Evaluation::NotEvaluated && a != Evaluation::NotEvaluated ? a : b;
    }
    return m;
}

} // namespace cachescope::solver

#include "solver/file_detail.h"

#include "base/error.h"

namespace cachescope::solver {

ContextFileDetail::ContextFileDetail(std::optional<ContextHistory> history,
                                     const std::vector<cache::ImportedCache>& imported,
                                     const std::vector<MatchSource>& sources)
    : history_(std::move(history)), imported_(imported), sources_(sources)
{
}

cache::ContextManifest contextManifestOf(const OpGraph& graph, const ContentKeys& keys, ContentTree& context)
{
    cache::ContextManifest manifest;
    for (std::size_t n = 0; n < graph.nodes.size(); ++n)
        for (std::size_t i = 0; i < graph.nodes[n].inputs.size(); ++i)
            if (graph.nodes[n].inputs[i].origin == ContentOrigin::Context && keys.byNode[n][i])
                addToManifest(manifest, context, *keys.byNode[n][i]);
    return manifest;
}

std::string recordBuildManifest(const std::filesystem::path& dataDir, const std::filesystem::path& contextDir,
                                const std::filesystem::path& dockerfile, const OpGraph& graph, const ContentKeys& keys,
                                ContentTree& context)
{
    const cache::ContextManifest manifest = contextManifestOf(graph, keys, context);
    if (manifest.selectors.empty())
        return {};
    try {
        ContextHistory(dataDir, contextDir, dockerfile).record(manifest);
    } catch (const std::exception&) {
        // Only detail for later explanations; the build itself is unaffected.
    }
    return manifest.toJson();
}

void ContextFileDetail::addCurrent(const OpGraph& graph, const ContentKeys& keys, ContentTree& context)
{
    current_ = contextManifestOf(graph, keys, context);
}

const std::vector<ContextFileDetail::Candidate>& ContextFileDetail::candidates()
{
    if (candidates_)
        return *candidates_;
    candidates_.emplace();
    // Read only when a step needs them: loaded before this build is recorded, newest first.
    if (history_)
        for (const auto& file : history_->builds()) {
            try {
                candidates_->push_back({ContextHistory::load(file), "local history " + file.string()});
            } catch (const Error&) {
                // A damaged history entry is skipped; the next build replaces it.
            }
        }
    for (const auto& c : imported_)
        if (c.ok && c.contextManifest)
            candidates_->push_back({*c.contextManifest, "cache " + c.spec.raw});
    return *candidates_;
}

std::optional<FileDetail> ContextFileDetail::forNode(const OpGraph& graph, const ContentKeys& keys,
                                                     const std::vector<NodeMatch>& matches, int n, ContentTree* context)
{
    const OpNode& node = graph.nodes[static_cast<std::size_t>(n)];
    const NodeMatch& m = matches[static_cast<std::size_t>(n)];
    if (m.evaluation == Evaluation::Hit || m.evaluation == Evaluation::NotEvaluated)
        return std::nullopt;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        if (node.inputs[i].origin != ContentOrigin::Context || m.inputContentFound[i] || !keys.byNode[n][i])
            continue;
        const ContentKey& now = *keys.byNode[n][i];
        std::vector<std::string> texts;
        for (const auto& s : now.selectors)
            texts.push_back(selectorText(s));
        const Candidate* exact = nullptr;
        const Candidate* differs = nullptr;
        for (const Candidate& c : candidates()) {
            std::vector<oci::Digest> old;
            bool complete = true, different = false;
            for (std::size_t k = 0; k < texts.size(); ++k) {
                const cache::ManifestSelector* s = c.manifest.find(texts[k]);
                if (!s) {
                    complete = false;
                    different = true;
                    continue;
                }
                different = different || s->checksum != now.checksums[k].str();
                if (auto d = oci::Digest::tryParse(s->checksum))
                    old.push_back(*d);
                else
                    complete = false;
            }
            if (!different)
                continue;
            if (!differs)
                differs = &c;
            if (complete) {
                const oci::Digest record = contentKeyDigest(old).record;
                for (const MatchSource& src : sources_)
                    if (src.graph && !src.graph->roots(record).empty())
                        exact = &c;
            }
            if (exact)
                break;
        }
        const Candidate* use = exact ? exact : differs;
        if (!use)
            continue;
        FileDetail d;
        d.files = diffManifests(use->manifest, current_, texts, context);
        d.comparedWith = use->origin;
        return d;
    }
    return std::nullopt;
}

std::string ContextFileDetail::record()
{
    if (!history_ || current_.selectors.empty())
        return {};
    try {
        history_->record(current_);
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

} // namespace cachescope::solver

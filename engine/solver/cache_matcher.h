#pragma once
// Matching of an op graph against every cache source (spec §1.6) and BuildKit's evaluation order:
// definition keys per input (candidates of the input with the op's selector), content keys as extra
// root alternatives with an empty selector, intersection across inputs; a hit is a candidate with a
// usable result, served by the record with the newest createdAt (ties: imported over local). Then the
// lazy rule: only steps a running consumer needs are evaluated; the others show CACHED.
#include "cache/imported_cache.h"
#include "solver/content_hash.h"
#include "solver/local_cache_store.h"
#include "solver/op_graph.h"

#include <optional>
#include <string>
#include <vector>

namespace cachescope::solver {

// Content keys the matcher can use, per node and op input (nullopt: none or not computable now).
struct ContentKeys {
    std::vector<std::vector<std::optional<ContentKey>>> byNode;
};

// Computes the content keys of inputs read from the build context. Throws Error naming the step and
// the path when a COPY source is missing from the context.
ContentKeys contextContentKeys(const OpGraph& graph, ContentTree* context);

struct SourceHit {
    std::string source;      // the serving source's spec ("type=local,src=…"), or "local"
    std::string createdAt;
};

enum class Evaluation {
    Hit,          // loaded from a cache record (CACHED, or DONE after a layer pull)
    NotEvaluated, // never evaluated because its consumer was cached: shown CACHED
    Run,          // executes
    Depends,      // depends on a stage output known only after that stage runs
};

struct NodeMatch {
    bool keyFound = false;      // some source knows this key (definition or content)
    bool hasResult = false;     // some candidate has a result (usable or not)
    bool usable = false;        // some candidate has a usable result (= hit)
    bool unknown = false;       // candidates depend on a stage output not known yet
    std::vector<int> pendingInputs; // op inputs that make it unknown
    std::optional<SourceHit> served;
    int servedSource = -1;            // index into the match sources of the serving record
    cache::ItemId servedItem = -1;    // its item in that source's graph
    std::vector<std::string> alsoIn; // other sources with a usable result
    std::string missingBlob;     // a blob of an unusable result
    // Image sources: which of the two keys some source has.
    bool manifestKeyFound = false;
    bool chainKeyFound = false;
    // Per op input: did a definition-based or content-based parent exist.
    std::vector<bool> inputDefinitionMatched;
    std::vector<bool> inputContentFound; // content key root present in some source
    Evaluation evaluation = Evaluation::Run;
};

struct MatchSource {
    std::string spec; // raw spec text; "local" for the local store
    const cache::KeyGraph* graph = nullptr;
    bool local = false;
};

// The graphs of the usable sources, in order (each inline platform graph counts as its source).
std::vector<MatchSource> matchSources(const std::vector<cache::ImportedCache>& imported, const LocalCacheStore* local);

std::vector<NodeMatch> matchGraph(const OpGraph& graph, const ContentKeys& content, const std::vector<MatchSource>& sources);

} // namespace cachescope::solver

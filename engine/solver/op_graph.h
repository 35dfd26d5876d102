#pragma once
// The LLB op graph of a build target, as BuildKit's dockerfile2llb builds it from a BuildPlan: image
// and local sources, exec ops (RUN), file ops (COPY/ADD, WORKDIR, heredoc files, cache mount dirs) and
// merge ops (COPY --link), each with its CacheMaps. Only stages the target reaches are converted.
#include "dockerfile/stages.h"
#include "solver/cache_map.h"

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cachescope::solver {

enum class OpKind { Image, Local, Exec, File, Merge };

// Where an input's files come from when a content (slow) key is needed for it.
enum class ContentOrigin {
    None,     // no content key for this input
    Context,  // the build context: exact, computed from the context directory
    Stage,    // a stage's output (COPY --from, RUN --mount from=): needs that stage's files
    Inline,   // a file op on scratch (heredoc, cache dir): its content is in its own definition key
};

struct OpInput {
    int node = -1; // producing node
    ContentOrigin origin = ContentOrigin::None;
    int stage = -1; // plan stage for ContentOrigin::Stage
};

struct OpNode {
    OpKind kind = OpKind::Exec;
    std::variant<std::monostate, ImageSource, LocalSource, ExecOp, FileOp, MergeOp> op;
    std::vector<CacheMap> cacheMaps; // images have two (manifest key, chain-ID key), others one
    std::vector<OpInput> inputs;     // one per op input, in op input order
    int output = 0;                  // the edge's output index O
    // The vertex this op shows as (empty for ops BuildKit does not name as a step).
    std::string displayName;
    int stage = -1;                  // plan stage
    int instruction = -1;            // index in PlannedStage::instructions; -1 = FROM / internal
    bool isStep = false;             // a named step the dry run reports
    std::string imageName;           // Image: the reference as named in the Dockerfile
};

struct OpGraph {
    std::vector<OpNode> nodes;        // inputs always come before the nodes using them
    std::vector<int> stageOutput;     // per plan stage: node of its final state, -1 = scratch / not converted
    int target = -1;                  // node of the target's final state (-1: scratch with nothing on it)
    int context = -1;                 // the build context's LocalSource node (-1 when no step reads it)
};

// What the converter needs besides the plan: each image (by the name the Dockerfile uses) resolved to
// its manifest digest and diffIDs for the platform.
struct ImageSources {
    std::map<std::string, ImageSource> byName; // keys: names as in PlannedStage::baseName
};

// Converts the reachable stages of `plan`. Throws Error naming the instruction (file:line) for what
// CacheScope cannot key (ADD <url>, ADD <git>), and for an image missing from `images`.
OpGraph buildOpGraph(const dockerfile::BuildPlan& plan, const ImageSources& images,
                     const std::string& dockerfileName = "Dockerfile");

// BuildKit's llb.WithUser rule for "user[:group]": numbers (and "root") are IDs, anything else a name.
ChownOpt parseChown(const std::string& spec);

} // namespace cachescope::solver

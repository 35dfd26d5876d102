#pragma once
// The front half of every build and dry run: plan the target of a parsed Dockerfile with the
// caller's build args and platform (base images resolved through `resolver`), then convert the
// reachable stages into the op graph. One place, so a dry run and a real build key alike.
#include "dockerfile/instructions.h"
#include "dockerfile/stages.h"
#include "solver/image_resolver.h"
#include "solver/op_graph.h"

#include <map>
#include <optional>
#include <string>

namespace cachescope::solver {

struct TargetGraph {
    dockerfile::BuildPlan plan;
    OpGraph graph;
    dockerfile::Platform targetPlatform; // --platform, or the daemon's
};

// Throws Error for an unknown target, a bad platform, an image that cannot be resolved, or what
// the converter cannot key (naming the instruction).
TargetGraph planTargetGraph(const dockerfile::Dockerfile& dockerfile, const std::string& fileName,
                            const std::string& target, const std::map<std::string, std::string>& buildArgs,
                            const std::optional<std::string>& platform, ImageResolver& resolver);

} // namespace cachescope::solver

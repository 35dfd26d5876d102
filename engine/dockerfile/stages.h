#pragma once
// Stage resolution and dispatch, as BuildKit's dockerfile2llb does it before building LLB: global
// ARGs and FROM expansion, named/numbered stages, the target and the stages it reaches (FROM <stage>,
// COPY --from, RUN --mount from=), ONBUILD triggers, and for every instruction of every reached stage
// the state it runs in (env in BuildKit's order, cwd, user, shell), its fields expanded as BuildKit
// expands them, and the step display name "[stage i/n] INSTRUCTION …" BuildKit prints.
//
// The solver turns a BuildPlan into ops and cache keys; it supplies base image configs through
// BuildOptions::resolveImage (resolved reference with digest, env, workdir, user, ONBUILD triggers).
#include "dockerfile/env_list.h"
#include "dockerfile/instructions.h"
#include "dockerfile/platform.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachescope::dockerfile {

// The parts of an image config the frontend reads (from a base image) and writes (for the result).
struct ImageConfig {
    std::vector<std::string> env;   // "KEY=value", config order (a re-set key keeps its place)
    std::string workingDir;
    std::string user;
    std::vector<std::string> shell;
    std::vector<std::string> cmd;
    std::vector<std::string> entrypoint;
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<std::string> exposedPorts;
    std::vector<std::string> volumes;
    std::string stopSignal;
    std::vector<std::string> healthcheck; // Test
    std::vector<std::string> onBuild;
    std::string maintainer;
};

struct BaseImage {
    ImageConfig config;
    bool hasLayers = true;      // an image without layers is treated as scratch (its FROM is no step)
    std::string resolvedName;   // shown after FROM: BuildKit prints the normalised ref with its digest
                                // ("127.0.0.1:5055/library/busybox:latest@sha256:…"); empty = the name as expanded
};

using ImageResolver = std::function<BaseImage(const std::string& name, const Platform& platform)>;

struct BuildOptions {
    std::string target;                            // --target; empty = the last stage
    std::map<std::string, std::string> buildArgs;  // --build-arg
    std::optional<Platform> targetPlatform;        // --platform; default = the build platform
    std::optional<Platform> buildPlatform;         // the daemon's platform; default = target, else linux/amd64
    bool multiPlatform = false;                    // names get a "linux/arm64 " prefix (several platforms requested)
    bool allStages = false;                        // dispatch every stage, not only those the target reaches
    ImageResolver resolveImage;                    // optional: without it images have PATH only
};

// What an instruction sees when it runs (before it takes effect).
struct StepState {
    EnvList env;                       // image env, ENV and valued ARGs, ordered by when last set (RUN meta.env)
    std::string cwd = "/";             // RUN meta.cwd, base of relative COPY destinations
    std::optional<std::string> user;   // RUN meta.user; absent until a USER (or an image user)
    std::vector<std::string> shell;    // SHELL prefix for shell-form RUN
    bool operator==(const StepState&) const = default;
};

struct PlannedInstruction {
    Instruction instruction;       // fields expanded as BuildKit expands them for this instruction
    int sourceIndex = -1;          // index in Stage::instructions; -1 for an ONBUILD trigger
    bool onbuild = false;          // comes from a base's ONBUILD trigger
    StepState before;
    std::vector<RunMount> mounts;  // RUN: --mount values expanded and checked
    std::vector<std::string> runArgs;     // RUN: meta.args (SHELL + text as written, the exec array, heredocs inlined)
    std::optional<InlineFile> runScript;  // RUN <<EOF whose body starts with "#!": a file (mode 0755) mounted
                                          // read-only at /dev/pipes/, and runArgs runs /dev/pipes/<name>
    // Plan stage each source comes from: COPY --from (one entry), RUN mounts (one per mount, -1 when the
    // mount reads the build context or nothing).
    std::vector<int> sourceStages;
    bool isStep = false;           // a vertex BuildKit names (RUN, COPY, ADD, WORKDIR other than "/")
    int stepIndex = 0;             // i of "[stage i/n]"
    std::string displayName;       // "[builder 2/2] RUN make"
    std::string linkDisplayName;   // COPY/ADD --link (no --chmod): the merge vertex "… LINK COPY --link …"
};

enum class BaseKind { Image, Stage, Scratch };

struct PlannedStage {
    int index = 0;                 // position in BuildPlan::stages (BuildKit's dispatch-state order)
    int dockerfileStage = -1;      // index in Dockerfile::stages; -1 for an image/scratch named by --from
    std::string name;              // as printed: "builder", "stage-3", "" when the build has one state
    std::string declaredName;      // AS name (lower-case)
    BaseKind baseKind = BaseKind::Image;
    std::string baseName;          // FROM name after global-ARG expansion
    int baseStage = -1;            // BaseKind::Stage
    Platform platform;
    bool reachable = false;
    bool dispatched = false;
    BaseImage baseImage;           // BaseKind::Image, as resolved
    int totalSteps = 0;            // n of "[stage i/n]"
    std::string fromDisplayName;   // "[base 1/2] FROM …"; empty when the FROM is no step
    std::vector<PlannedInstruction> instructions;
    StepState finalState;
    ImageConfig image;             // the image config the stage produces
};

struct PlannedStep {
    int stage = 0;
    int instruction = -1;          // index in PlannedStage::instructions; -1 = the FROM
    std::string displayName;
};

struct BuildPlan {
    std::vector<PlannedStage> stages;
    int target = -1;
    EnvList globalArgs;            // predefined platform args + global ARGs, after build args
    std::vector<int> dispatchOrder;

    // Every named vertex of the dispatched stages, in dispatch order (FROM first in each stage).
    std::vector<PlannedStep> steps() const;
};

// Throws Error "<file>:<line>: <what>" (or a plain message for a bad --target).
BuildPlan planBuild(const Dockerfile& dockerfile, const BuildOptions& options = {});

// BuildKit's WORKDIR rule: a relative path is joined to the current one; the result is clean and absolute.
std::string normalizeWorkdir(const std::string& current, const std::string& path);
// Where a COPY/ADD destination lands: absolute as given, else under cwd; a trailing '/' (or "/.") is kept.
std::string pathRelativeToWorkingDir(const std::string& cwd, const std::string& path);

} // namespace cachescope::dockerfile

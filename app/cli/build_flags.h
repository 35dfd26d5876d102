#pragma once
// The flags `build` and `compare` share (the plan flags of --dry-run plus the build's own).
#include "build/build_session.h"
#include "solver/dry_run.h"

#include <string>
#include <vector>

struct BuildCliFlags {
    cachescope::solver::DryRunOptions plan; // context, Dockerfile, target, args, platform, contexts, --cache-from
    bool dryRun = false;
    std::string progress = "plain";
    std::string reportFile;
    std::string context;
    bool noCache = false;
    std::vector<cachescope::build::OutputSpec> outputs;
    std::vector<cachescope::cache::CacheExportSpec> cacheTo;
    std::vector<cachescope::build::SecretSource> secrets; // --secret
    std::vector<cachescope::build::SshSource> ssh;        // --ssh
    int runs = 3; // compare

    cachescope::build::BuildOptions buildOptions() const;
};

// Parses the flags; -1 when they are fine, else the exit code (a message went to stderr).
// `compare` accepts --runs N and refuses --dry-run.
int parseBuildFlags(const std::vector<std::string>& args, BuildCliFlags& flags, bool compare);

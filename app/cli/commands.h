#pragma once
// One function per cachescope-cli command; each returns the process exit code.
#include <string>
#include <vector>

int inspectCommand(const std::vector<std::string>& args);
int buildCommand(const std::vector<std::string>& args);
int compareCommand(const std::vector<std::string>& args);
int historyCommand(const std::vector<std::string>& args);

namespace cachescope::build {
struct BuildOptions;
struct BuildResult;
}
// Runs one build with progress on stdout (plain or json lines) and an optional JSON report.
// Returns the exit code: 0, a failed RUN's exit code, or 1.
int runBuild(const cachescope::build::BuildOptions& options, const std::string& progress, const std::string& reportFile);

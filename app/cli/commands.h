#pragma once
// One function per cachescope-cli command; each returns the process exit code.
#include <string>
#include <vector>

int inspectCommand(const std::vector<std::string>& args);
int buildCommand(const std::vector<std::string>& args);

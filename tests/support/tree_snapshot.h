#pragma once
// A comparable description of a directory tree: one line per entry with type, mode, owner,
// mtime (files), content digest or link target, and hardlink groups. For round-trip tests.
#include <filesystem>
#include <map>
#include <string>

namespace cachescope::test {

// path (relative) -> "reg 0644 0:0 mtime=… sha256:… link-group=…"; directories omit mtime.
std::map<std::string, std::string> describeTree(const std::filesystem::path& root, bool withOwners = true);

// Human-readable difference of two descriptions ("" when equal).
std::string treeDifference(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b);

} // namespace cachescope::test

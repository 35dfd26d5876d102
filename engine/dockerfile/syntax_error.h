#pragma once
// Errors about a Dockerfile name the file and the line: "Dockerfile:7: unknown flag --foo for COPY".
#include "base/error.h"

#include <string>

namespace cachescope::dockerfile {

// 1-based, inclusive physical line numbers of an instruction (continuations and heredoc bodies included).
struct SourceRange {
    int startLine = 0;
    int endLine = 0;
    bool operator==(const SourceRange&) const = default;
};

[[noreturn]] inline void throwAt(const std::string& fileName, int line, const std::string& what)
{
    throw Error(fileName + ":" + std::to_string(line) + ": " + what);
}

} // namespace cachescope::dockerfile

#pragma once
// The first stage of reading a Dockerfile, as BuildKit's frontend/dockerfile/parser does it: parser
// directives at the top, comments, line continuations with the escape character, heredoc bodies, and
// for every instruction its flags and arguments in the form that instruction takes. No meaning is
// given to instructions here; see instructions.h.
#include "dockerfile/heredoc.h"
#include "dockerfile/syntax_error.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::dockerfile {

// Parser directives: `# syntax=`, `# escape=`, `# check=` (case-insensitive names), only before any
// other line, each at most once.
struct Directives {
    std::string syntax;  // empty when absent
    std::string check;   // raw value, e.g. "skip=JSONArgsRecommended;error=true"
    char escapeToken = '\\';
    bool hasSyntax = false;
    bool hasEscape = false;
    bool hasCheck = false;
    bool operator==(const Directives&) const = default;
};

struct Node {
    std::string keyword;            // lower-case: "run", "copy", ... (unknown words kept, lower-cased)
    std::string keywordAsWritten;
    std::string original;           // the logical line: first line without its indentation, continuation
                                    // lines appended as written (escape + newline removed), no heredoc bodies
    std::vector<std::string> flags; // "--from=builder" (quotes removed)
    std::vector<std::string> args;  // instruction-specific (see parser.cpp: JSON array, words, k/v triples)
    bool json = false;              // the arguments were a JSON array (exec form)
    std::vector<Heredoc> heredocs;
    std::vector<std::string> comments; // comment lines directly above (for stage descriptions)
    std::shared_ptr<const Node> trigger; // ONBUILD's instruction
    SourceRange range;
};

struct ParsedDockerfile {
    std::string fileName;
    Directives directives;
    std::vector<Node> nodes;
    std::vector<std::string> warnings; // e.g. empty continuation lines
};

// Throws cachescope::Error "<fileName>:<line>: <what>" on malformed input.
ParsedDockerfile parseDockerfileText(std::string_view text, const std::string& fileName = "Dockerfile");

// Parses one instruction line (an ONBUILD trigger stored in an image config). Heredocs are not read.
Node parseInstructionLine(std::string_view line, char escapeToken, const std::string& fileName, int lineNumber);

} // namespace cachescope::dockerfile

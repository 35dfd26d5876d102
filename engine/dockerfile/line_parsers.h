#pragma once
// How BuildKit's parser splits one logical line: the instruction word, its `--flags`, and the
// arguments in the form each instruction takes (JSON array or shell text, words, key=value pairs).
// Failures throw a plain message; the parser adds the file and line.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::dockerfile {

struct SplitCommand {
    std::string keyword;            // as written
    std::vector<std::string> flags; // "--mount=type=cache,target=/x" (quotes and backslashes resolved)
    std::string rest;               // the arguments, trimmed
};
SplitCommand splitCommand(std::string_view line);

// The leading `--flag[=value]` words of `line` and what follows them. Flag words drop their quotes
// and backslash escapes; a lone `--` ends the flags.
std::pair<std::vector<std::string>, std::string> extractBuilderFlags(std::string_view line);

// Words separated by whitespace, quotes (and escapes) kept as written: they are removed later by
// variable expansion. Used by ENV, LABEL and ARG.
std::vector<std::string> parseWords(std::string_view rest, char escapeToken);

// A JSON array of strings. nullopt when `rest` is not valid JSON starting with '['; throws when it is
// a JSON array with a non-string element (BuildKit refuses those rather than falling back).
std::optional<std::vector<std::string>> parseJsonStringArray(std::string_view rest);

} // namespace cachescope::dockerfile

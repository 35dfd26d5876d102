#pragma once
// Heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`, several per line) as BuildKit's parser recognises them:
// only in RUN, COPY and ADD (also behind ONBUILD), never in the JSON form.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::dockerfile {

struct Heredoc {
    std::string name;             // the delimiter word, quotes removed
    unsigned fileDescriptor = 0;  // "3<<EOF" -> 3
    bool expand = true;           // false when any part of the delimiter was quoted
    bool chomp = false;           // "<<-": leading tabs are stripped from the body and the delimiter line
    std::string content;          // body lines as written, each with its own line ending
    bool operator==(const Heredoc&) const = default;
};

// A single word of the form [n]<<[-]WORD; nullopt when it is not a heredoc marker.
// Throws Error when the delimiter cannot be lexed (an unterminated quote).
std::optional<Heredoc> parseHeredocWord(std::string_view word);

// Every heredoc marker among the words of a whole instruction line, in order.
std::vector<Heredoc> heredocsFromLine(std::string_view line);

// The body with leading tabs removed from every line (what "<<-" does).
std::string chompHeredocContent(std::string_view content);

} // namespace cachescope::dockerfile

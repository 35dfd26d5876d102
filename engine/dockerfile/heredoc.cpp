#include "dockerfile/heredoc.h"

#include "base/error.h"
#include "dockerfile/shell_lex.h"

#include <algorithm>

namespace cachescope::dockerfile {

std::optional<Heredoc> parseHeredocWord(std::string_view word)
{
    // ^(\d*)<<(-?)([^<]*)$
    std::size_t i = 0;
    while (i < word.size() && word[i] >= '0' && word[i] <= '9')
        ++i;
    const std::string_view digits = word.substr(0, i);
    if (word.substr(i, 2) != "<<")
        return std::nullopt;
    i += 2;
    bool chomp = false;
    if (i < word.size() && word[i] == '-') {
        chomp = true;
        ++i;
    }
    const std::string_view rest = word.substr(i);
    if (rest.find('<') != std::string_view::npos || rest.empty())
        return std::nullopt;

    // Lex the delimiter with and without quotes: if the counts of quote characters differ, part of
    // it was quoted, and the body is taken literally.
    ShellLex lex('\\');
    lex.skipUnsetEnv = true;
    const EnvList none;
    const auto words = lex.processWords(rest, none);
    if (words.size() != 1)
        return std::nullopt;
    lex.rawQuotes = true;
    const auto rawWords = lex.processWords(rest, none);
    if (rawWords.size() != words.size())
        throw Error("internal lexing of heredoc produced inconsistent results: " + std::string(rest));
    auto quotes = [](const std::string& s) { return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"'); };

    Heredoc h;
    h.name = words[0];
    h.expand = quotes(words[0]) == quotes(rawWords[0]);
    h.chomp = chomp;
    unsigned long fd = 0;
    for (char c : digits) {
        fd = fd * 10 + static_cast<unsigned>(c - '0');
        if (fd > 0xFFFFFFFFul) { // Go's ParseUint fails and leaves 0
            fd = 0;
            break;
        }
    }
    h.fileDescriptor = static_cast<unsigned>(fd);
    return h;
}

std::vector<Heredoc> heredocsFromLine(std::string_view line)
{
    ShellLex lex('\\');
    lex.rawQuotes = true;
    lex.rawEscapes = true;
    lex.skipUnsetEnv = true;
    std::vector<std::string> words;
    try {
        words = lex.processWords(line, EnvList());
    } catch (const Error&) {
        return {}; // BuildKit ignores a line it cannot split: it then has no heredocs
    }
    std::vector<Heredoc> docs;
    for (const std::string& w : words)
        if (auto h = parseHeredocWord(w))
            docs.push_back(std::move(*h));
    return docs;
}

std::string chompHeredocContent(std::string_view content)
{
    std::string out;
    out.reserve(content.size());
    bool lineStart = true;
    for (char c : content) {
        if (lineStart && c == '\t')
            continue;
        lineStart = c == '\n';
        out += c;
    }
    return out;
}

} // namespace cachescope::dockerfile

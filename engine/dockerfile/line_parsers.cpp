#include "dockerfile/line_parsers.h"

#include "base/error.h"
#include "dockerfile/text_util.h"

#include <nlohmann/json.hpp>

namespace cachescope::dockerfile {

SplitCommand splitCommand(std::string_view line)
{
    SplitCommand out;
    const auto parts = splitWhitespace(trimSpace(line), 2);
    out.keyword = parts[0];
    if (parts.size() == 2) {
        auto [flags, rest] = extractBuilderFlags(parts[1]);
        out.flags = std::move(flags);
        out.rest = std::string(trimSpace(rest));
    }
    return out;
}

std::pair<std::vector<std::string>, std::string> extractBuilderFlags(std::string_view line)
{
    enum { InSpaces, InWord, InQuote } phase = InSpaces;
    std::vector<std::string> words;
    std::string word;
    char quote = 0;
    bool blankOk = false;
    // Byte-wise, with '\' as the escape whatever the escape directive says (as BuildKit does).
    for (std::size_t pos = 0; pos <= line.size(); ++pos) {
        const char ch = pos < line.size() ? line[pos] : '\0';
        if (phase == InSpaces) {
            if (pos == line.size())
                break;
            if (isGoSpace(static_cast<unsigned char>(ch)))
                continue;
            if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-')
                return {words, std::string(line.substr(pos))};
            phase = InWord;
        }
        if (pos == line.size()) {
            if (word != "--" && (blankOk || !word.empty()))
                words.push_back(word);
            break;
        }
        if (phase == InWord) {
            if (isGoSpace(static_cast<unsigned char>(ch))) {
                phase = InSpaces;
                if (word == "--")
                    return {words, std::string(line.substr(pos))};
                if (blankOk || !word.empty())
                    words.push_back(word);
                word.clear();
                blankOk = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blankOk = true;
                phase = InQuote;
                continue;
            }
            if (ch == '\\') {
                if (pos + 1 == line.size())
                    continue;
                ++pos;
            }
            word += line[pos];
            continue;
        }
        // InQuote
        if (ch == quote) {
            phase = InWord;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == line.size()) {
                phase = InWord;
                continue;
            }
            ++pos;
        }
        word += line[pos];
    }
    return {words, std::string()};
}

std::vector<std::string> parseWords(std::string_view rest, char escapeToken)
{
    enum { InSpaces, InWord, InQuote } phase = InSpaces;
    std::vector<std::string> words;
    std::string word;
    char32_t quote = 0;
    bool blankOk = false;
    const char32_t esc = static_cast<unsigned char>(escapeToken);
    std::size_t width = 0;
    for (std::size_t pos = 0; pos <= rest.size(); pos += width) {
        DecodedRune r{0, 1, true};
        if (pos != rest.size())
            r = decodeRune(rest, pos);
        width = r.len;
        char32_t ch = r.cp;
        std::string_view chBytes = pos < rest.size() ? rest.substr(pos, width) : std::string_view();

        if (phase == InSpaces) {
            if (pos == rest.size())
                break;
            if (isGoSpace(ch))
                continue;
            phase = InWord;
        }
        if (pos == rest.size()) {
            if (blankOk || !word.empty())
                words.push_back(word);
            break;
        }
        if (phase == InWord) {
            if (isGoSpace(ch)) {
                phase = InSpaces;
                if (blankOk || !word.empty())
                    words.push_back(word);
                word.clear();
                blankOk = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blankOk = true;
                phase = InQuote;
            }
            if (ch == esc) {
                if (pos + width == rest.size())
                    continue; // an escape at the very end is dropped
                // Outside quotes the escape and the next character are both kept, even a quote.
                word += chBytes;
                pos += width;
                r = decodeRune(rest, pos);
                width = r.len;
                chBytes = rest.substr(pos, width);
            }
            word += chBytes;
            continue;
        }
        // InQuote
        if (ch == quote)
            phase = InWord;
        if (ch == esc && quote != '\'') {
            if (pos + width == rest.size()) {
                phase = InWord;
                continue;
            }
            word += chBytes;
            pos += width;
            r = decodeRune(rest, pos);
            width = r.len;
            chBytes = rest.substr(pos, width);
        }
        word += chBytes;
    }
    return words;
}

std::optional<std::vector<std::string>> parseJsonStringArray(std::string_view rest)
{
    const std::string_view trimmed = trimLeftSpace(rest);
    if (trimmed.empty() || trimmed[0] != '[')
        return std::nullopt;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(trimmed);
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    if (!j.is_array())
        return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : j) {
        if (!e.is_string())
            throw Error("when using JSON array syntax, arrays must be comprised of strings only");
        out.push_back(e.get<std::string>());
    }
    return out;
}

} // namespace cachescope::dockerfile

#include "dockerfile/shell_lex.h"

#include "base/error.h"
#include "dockerfile/text_util.h"

#include <optional>

namespace cachescope::dockerfile {
namespace {

constexpr char32_t kEof = 0xFFFFFFFF;

class LexError : public std::exception {
public:
    explicit LexError(std::string m) : msg(std::move(m)) {}
    const char* what() const noexcept override { return msg.c_str(); }
    std::string msg;
};

// Go's unicode.IsLetter, approximated: exact for ASCII; other code points count as letters unless
// they are spaces or Latin-1/general punctuation. Only matters for non-ASCII variable names.
bool isLetter(char32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (isGoSpace(c))
        return false;
    if (c >= 0xA1 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA)
        return false;
    if (c == 0xD7 || c == 0xF7)
        return false;
    if (c >= 0x2000 && c <= 0x206F)
        return false;
    return c != 0xFFFD;
}

bool isDigit(char32_t c)
{
    return c >= '0' && c <= '9';
}

bool isSpecialParam(char32_t c)
{
    switch (c) {
    case '@': case '*': case '#': case '?': case '-': case '$': case '!': case '0':
        return true;
    default:
        return false;
    }
}

// The words of ProcessWords: characters from variable values split on whitespace, quoted text kept whole.
struct Words {
    std::string word;
    std::vector<std::string> words;
    bool inWord = false;

    void addChar(char32_t ch)
    {
        if (isGoSpace(ch)) {
            if (inWord && !word.empty()) {
                words.push_back(word);
                word.clear();
                inWord = false;
            }
        } else {
            addRawChar(ch);
        }
    }
    void addRawChar(char32_t ch)
    {
        appendUtf8(word, ch);
        inWord = true;
    }
    void addString(std::string_view s)
    {
        for (std::size_t i = 0; i < s.size();) {
            const DecodedRune r = decodeRune(s, i);
            addChar(r.cp);
            i += r.len;
        }
    }
    void addRawString(std::string_view s)
    {
        word += s;
        inWord = true;
    }
    std::vector<std::string> take()
    {
        if (!word.empty()) {
            words.push_back(word);
            word.clear();
            inWord = false;
        }
        return words;
    }
};

// ---- shell patterns for ${v#p}, ${v%p}, ${v/p/r}: '*' any run, '?' one character, '\' escapes ----

struct PatternToken {
    enum Kind { Literal, AnyOne, AnyRun } kind;
    char32_t ch = 0;
};

std::vector<PatternToken> compilePattern(std::string_view pattern)
{
    std::vector<PatternToken> out;
    for (std::size_t i = 0; i < pattern.size();) {
        DecodedRune r = decodeRune(pattern, i);
        i += r.len;
        if (r.cp == '*') {
            out.push_back({PatternToken::AnyRun});
        } else if (r.cp == '?') {
            out.push_back({PatternToken::AnyOne});
        } else if (r.cp == '\\') {
            // "\}" and "\/" only escape the ${} syntax; the backslash is not part of the pattern.
            if (i < pattern.size() && (pattern[i] == '}' || pattern[i] == '/'))
                continue;
            if (i >= pattern.size())
                throw LexError("invalid escape '\\'");
            r = decodeRune(pattern, i);
            i += r.len;
            if (r.cp != '*' && r.cp != '?' && r.cp != '\\') {
                std::string bad;
                appendUtf8(bad, r.cp);
                throw LexError("invalid escape '\\" + bad + "'");
            }
            out.push_back({PatternToken::Literal, r.cp});
        } else {
            out.push_back({PatternToken::Literal, r.cp});
        }
    }
    return out;
}

std::vector<char32_t> toRunes(std::string_view s)
{
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const DecodedRune r = decodeRune(s, i);
        out.push_back(r.cp);
        i += r.len;
    }
    return out;
}

std::string fromRunes(const std::vector<char32_t>& runes, std::size_t from, std::size_t to)
{
    std::string out;
    for (std::size_t i = from; i < to; ++i)
        appendUtf8(out, runes[i]);
    return out;
}

// Does the whole of text[from, to) match the pattern?
bool matchAll(const std::vector<PatternToken>& p, std::size_t pi, const std::vector<char32_t>& text,
              std::size_t ti, std::size_t to)
{
    while (pi < p.size()) {
        const PatternToken& t = p[pi];
        if (t.kind == PatternToken::AnyRun) {
            for (std::size_t k = ti; k <= to; ++k)
                if (matchAll(p, pi + 1, text, k, to))
                    return true;
            return false;
        }
        if (ti >= to)
            return false;
        if (t.kind == PatternToken::Literal && text[ti] != t.ch)
            return false;
        ++pi;
        ++ti;
    }
    return ti == to;
}

std::string trimPrefix(std::string_view pattern, const std::string& value, bool greedy)
{
    const auto p = compilePattern(pattern);
    const auto text = toRunes(value);
    std::optional<std::size_t> cut;
    for (std::size_t end = 0; end <= text.size(); ++end) {
        if (matchAll(p, 0, text, 0, end)) {
            cut = end;
            if (!greedy)
                break;
        }
    }
    return cut ? fromRunes(text, *cut, text.size()) : value;
}

std::string trimSuffix(std::string_view pattern, const std::string& value, bool greedy)
{
    const auto p = compilePattern(pattern);
    const auto text = toRunes(value);
    std::optional<std::size_t> cut;
    for (std::size_t start = text.size() + 1; start-- > 0;) {
        if (matchAll(p, 0, text, start, text.size())) {
            cut = start;
            if (!greedy)
                break;
        }
    }
    return cut ? fromRunes(text, 0, *cut) : value;
}

std::string replacePattern(std::string_view pattern, const std::string& value, const std::string& replacement,
                           bool all)
{
    const auto p = compilePattern(pattern);
    const auto text = toRunes(value);
    const std::size_t n = text.size();
    // Leftmost match at or after `from`, longest at that position (greedy '*').
    auto findFrom = [&](std::size_t from) -> std::optional<std::pair<std::size_t, std::size_t>> {
        for (std::size_t s = from; s <= n; ++s)
            for (std::size_t e = n + 1; e-- > s;)
                if (matchAll(p, 0, text, s, e))
                    return std::make_pair(s, e);
        return std::nullopt;
    };
    if (!all) {
        const auto m = findFrom(0);
        if (!m)
            return value;
        return fromRunes(text, 0, m->first) + replacement + fromRunes(text, m->second, n);
    }
    // Go's ReplaceAllString: successive non-overlapping matches; an empty match right after the
    // previous one is not replaced.
    std::string out;
    std::size_t search = 0;
    std::size_t lastEnd = 0;
    while (search <= n) {
        const auto m = findFrom(search);
        if (!m)
            break;
        out += fromRunes(text, lastEnd, m->first);
        if (m->second > lastEnd || m->first == 0)
            out += replacement;
        lastEnd = m->second;
        search = m->second > search ? m->second : search + 1;
    }
    out += fromRunes(text, lastEnd, n);
    return out;
}

// One pass over the input, as BuildKit's shellWord does.
class Processor {
public:
    Processor(const ShellLex& lex, std::string_view input, const EnvList& env)
        : lex_(lex), env_(env), rawEscapes_(lex.rawEscapes)
    {
        for (std::size_t i = 0; i < input.size();) {
            const DecodedRune r = decodeRune(input, i);
            runes_.push_back(r.cp);
            bytes_.push_back(input.substr(i, r.len));
            i += r.len;
        }
    }

    ShellLexResult run()
    {
        ShellLexResult res;
        auto [word, words] = processStopOn(kEof, rawEscapes_);
        res.word = std::move(word);
        res.words = std::move(words);
        res.matched = std::move(matched_);
        res.unmatched = std::move(unmatched_);
        return res;
    }

private:
    char32_t peek() const { return pos_ < runes_.size() ? runes_[pos_] : kEof; }
    char32_t next() { return pos_ < runes_.size() ? runes_[pos_++] : kEof; }
    // Writes the rune just consumed by next() with its original bytes (keeps invalid UTF-8 as is).
    void writeLast(std::string& out) const { out += bytes_[pos_ - 1]; }

    std::pair<std::string, std::vector<std::string>> processStopOn(char32_t stop, bool rawEscapes)
    {
        const bool saved = rawEscapes_;
        rawEscapes_ = rawEscapes;
        std::string result;
        Words words;
        const char32_t esc = static_cast<unsigned char>(lex_.escapeToken());
        while (peek() != kEof) {
            const char32_t ch = peek();
            if (stop != kEof && ch == stop) {
                next();
                rawEscapes_ = saved;
                return {result, words.take()};
            }
            if (ch == '$') {
                const std::string tmp = processDollar();
                result += tmp;
                words.addString(tmp);
            } else if (!lex_.skipProcessQuotes && (ch == '\'' || ch == '"')) {
                const std::string tmp = ch == '\'' ? processSingleQuote() : processDoubleQuote();
                result += tmp;
                words.addRawString(tmp);
            } else {
                char32_t c = next();
                if (c == esc) {
                    if (rawEscapes_) {
                        words.addRawChar(c);
                        writeLast(result);
                    }
                    // The escape character escapes the next one; at the very end it disappears.
                    c = next();
                    if (c == kEof)
                        break;
                    words.addRawChar(c);
                } else {
                    words.addChar(c);
                }
                writeLast(result);
            }
        }
        rawEscapes_ = saved;
        if (stop != kEof) {
            std::string s;
            appendUtf8(s, stop);
            throw LexError("unexpected end of statement while looking for matching " + s);
        }
        return {result, words.take()};
    }

    std::string processSingleQuote()
    {
        std::string result;
        next();
        if (lex_.rawQuotes)
            result += '\'';
        for (;;) {
            const char32_t ch = next();
            if (ch == kEof)
                throw LexError("unexpected end of statement while looking for matching single-quote");
            if (ch == '\'') {
                if (lex_.rawQuotes)
                    result += '\'';
                return result;
            }
            writeLast(result);
        }
    }

    std::string processDoubleQuote()
    {
        std::string result;
        next();
        if (lex_.rawQuotes)
            result += '"';
        const char32_t esc = static_cast<unsigned char>(lex_.escapeToken());
        for (;;) {
            const char32_t p = peek();
            if (p == kEof)
                throw LexError("unexpected end of statement while looking for matching double-quote");
            if (p == '"') {
                next();
                if (lex_.rawQuotes)
                    result += '"';
                return result;
            }
            if (p == '$') {
                result += processDollar();
                continue;
            }
            char32_t ch = next();
            if (ch == esc) {
                if (rawEscapes_)
                    writeLast(result);
                const char32_t n = peek();
                if (n == kEof)
                    continue; // a trailing escape inside the quotes is dropped
                if (n == '"' || n == '$' || n == esc)
                    ch = next();
            }
            writeLast(result);
        }
    }

    std::string processName()
    {
        std::string name;
        while (peek() != kEof) {
            const char32_t ch = peek();
            if (name.empty() && isDigit(ch)) {
                while (peek() != kEof && isDigit(peek())) {
                    next();
                    writeLast(name);
                }
                return name;
            }
            if (name.empty() && isSpecialParam(ch)) {
                next();
                writeLast(name);
                return name;
            }
            if (!isLetter(ch) && !isDigit(ch) && ch != '_')
                break;
            next();
            writeLast(name);
        }
        return name;
    }

    std::optional<std::string> getEnv(const std::string& name)
    {
        if (auto v = env_.get(name)) {
            matched_.insert(name);
            return v;
        }
        unmatched_.insert(name);
        return std::nullopt;
    }

    std::string processDollar()
    {
        next(); // '$'
        if (peek() != '{') {
            const std::string name = processName();
            if (name.empty())
                return "$";
            const auto value = getEnv(name);
            if (!value && lex_.skipUnsetEnv)
                return "$" + name;
            return value.value_or("");
        }
        next(); // '{'
        switch (peek()) {
        case kEof:
            throw LexError("syntax error: missing '}'");
        case '{': case '}': case ':':
            throw LexError("syntax error: bad substitution");
        default:
            break;
        }
        const std::string name = processName();
        char32_t ch = next();
        std::string chs;
        appendUtf8(chs, ch == kEof ? 0xFFFD : ch); // Go prints EOF as U+FFFD here
        bool nullIsUnset = false;
        if (ch == '}') {
            const auto value = getEnv(name);
            if (!value && lex_.skipUnsetEnv)
                return "${" + name + "}";
            return value.value_or("");
        }
        if (ch == ':') {
            nullIsUnset = true;
            ch = next();
            appendUtf8(chs, ch == kEof ? 0xFFFD : ch);
        }
        switch (ch) {
        case '+': case '-': case '?': case '#': case '%':
            break;
        case '/':
            if (!nullIsUnset)
                return processReplace(name);
            [[fallthrough]];
        default:
            if (!nullIsUnset)
                throw LexError("unsupported modifier (" + chs + ") in substitution");
            break; // "${v:x}" reads its word first, then fails below
        }
        {
            const bool rawEsc = ch == '#' || ch == '%';
            std::string word = readModifierWord(rawEsc);
            const auto value = getEnv(name);
            if (lex_.skipUnsetEnv && !value)
                return "${" + name + chs + word + "}";
            const bool set = value.has_value();
            const std::string v = value.value_or("");
            switch (ch) {
            case '-':
                return (!set || (nullIsUnset && v.empty())) ? word : v;
            case '+':
                return (!set || (nullIsUnset && v.empty())) ? std::string() : word;
            case '?':
                if (!set)
                    throw LexError(name + ": " + (word.empty() ? "is not allowed to be unset" : word));
                if (nullIsUnset && v.empty())
                    throw LexError(name + ": " + (word.empty() ? "is not allowed to be empty" : word));
                return v;
            case '#': case '%': {
                bool greedy = false;
                if (!word.empty() && static_cast<char32_t>(static_cast<unsigned char>(word[0])) == ch) {
                    greedy = true;
                    word.erase(0, 1);
                }
                return ch == '%' ? trimSuffix(word, v, greedy) : trimPrefix(word, v, greedy);
            }
            default:
                throw LexError("unsupported modifier (" + chs + ") in substitution");
            }
        }
    }

    std::string processReplace(const std::string& name)
    {
        {
            const bool all = peek() == '/';
            if (all)
                next();
            std::string pattern;
            try {
                pattern = processStopOn('/', true).first;
            } catch (const LexError&) {
                if (peek() == kEof)
                    throw LexError("syntax error: missing '/' in ${}");
                throw;
            }
            const std::string replacement = readModifierWord(true);
            const auto value = getEnv(name);
            if (lex_.skipUnsetEnv && !value)
                return "${" + name + "/" + pattern + "/" + replacement + "}";
            return replacePattern(pattern, value.value_or(""), replacement, all);
        }
    }

    std::string readModifierWord(bool rawEscapes)
    {
        try {
            return processStopOn('}', rawEscapes).first;
        } catch (const LexError&) {
            if (peek() == kEof)
                throw LexError("syntax error: missing '}'");
            throw;
        }
    }

    const ShellLex& lex_;
    const EnvList& env_;
    bool rawEscapes_;
    std::vector<char32_t> runes_;
    std::vector<std::string_view> bytes_;
    std::size_t pos_ = 0;
    std::set<std::string> matched_;
    std::set<std::string> unmatched_;
};

} // namespace

ShellLexResult ShellLex::process(std::string_view input, const EnvList& env) const
{
    try {
        Processor p(*this, input, env);
        return p.run();
    } catch (const LexError& e) {
        throw Error("failed to process \"" + std::string(input) + "\": " + e.msg);
    }
}

} // namespace cachescope::dockerfile

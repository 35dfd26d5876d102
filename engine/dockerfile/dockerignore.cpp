#include "dockerfile/dockerignore.h"

#include "base/error.h"
#include "dockerfile/text_util.h"

namespace cachescope::dockerfile {

// One compiled pattern. Like patternmatcher, plain patterns compare exactly, "x/**" is a prefix
// test, "**/x" a suffix test, anything else a glob over the whole path.
class IgnorePattern {
public:
    explicit IgnorePattern(std::string cleaned, bool exclusion) : cleaned_(std::move(cleaned)), exclusion_(exclusion)
    {
        compile();
    }
    bool exclusion() const { return exclusion_; }
    const std::string& text() const { return cleaned_; }

    bool match(std::string_view path) const
    {
        switch (type_) {
        case Type::Exact:
            return path == cleaned_;
        case Type::Prefix:
            return startsWith(path, std::string_view(cleaned_).substr(0, cleaned_.size() - 2));
        case Type::Suffix: {
            const std::string_view suffix = std::string_view(cleaned_).substr(2);
            if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix)
                return true;
            return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
        }
        case Type::Glob: {
            std::vector<char32_t> runes;
            for (std::size_t i = 0; i < path.size();) {
                const DecodedRune r = decodeRune(path, i);
                runes.push_back(r.cp);
                i += r.len;
            }
            return matchFrom(0, runes, 0);
        }
        }
        return false;
    }

private:
    enum class Type { Exact, Prefix, Suffix, Glob };
    struct Token {
        enum Kind { Literal, AnyChar, Star, AnyDirs, AnyTail, Class } kind;
        char32_t ch = 0;
        bool negated = false;
        std::vector<std::pair<char32_t, char32_t>> ranges = {};
    };
    static Token tok(Token::Kind k, char32_t ch = 0) { return Token{k, ch, false, {}}; }

    void compile()
    {
        std::vector<char32_t> p;
        for (std::size_t i = 0; i < cleaned_.size();) {
            const DecodedRune r = decodeRune(cleaned_, i);
            p.push_back(r.cp);
            i += r.len;
        }
        type_ = Type::Exact;
        for (std::size_t i = 0, n = 0; i < p.size(); ++n) {
            const char32_t ch = p[i++];
            if (ch == '*') {
                if (i < p.size() && p[i] == '*') {
                    ++i;
                    if (i < p.size() && p[i] == '/')
                        ++i; // "**/" is "**"
                    if (i >= p.size()) {
                        if (type_ == Type::Exact) {
                            type_ = Type::Prefix;
                        } else {
                            tokens_.push_back(tok(Token::AnyTail));
                            type_ = Type::Glob;
                        }
                    } else {
                        tokens_.push_back(tok(Token::AnyDirs));
                        type_ = Type::Glob;
                    }
                    if (n == 0)
                        type_ = Type::Suffix;
                } else {
                    tokens_.push_back(tok(Token::Star));
                    type_ = Type::Glob;
                }
            } else if (ch == '?') {
                tokens_.push_back(tok(Token::AnyChar));
                type_ = Type::Glob;
            } else if (ch == '\\') {
                if (i < p.size()) {
                    tokens_.push_back(tok(Token::Literal, p[i++]));
                    type_ = Type::Glob;
                } else {
                    tokens_.push_back(tok(Token::Literal, '\\'));
                }
            } else if (ch == '[') {
                Token t = tok(Token::Class);
                if (i < p.size() && p[i] == '^') {
                    t.negated = true;
                    ++i;
                }
                bool closed = false;
                bool first = true;
                while (i < p.size()) {
                    char32_t c = p[i++];
                    if (c == ']' && !first) {
                        closed = true;
                        break;
                    }
                    first = false;
                    if (c == '\\' && i < p.size())
                        c = p[i++];
                    char32_t hi = c;
                    if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
                        hi = p[i + 1];
                        if (hi == '\\' && i + 2 < p.size()) {
                            hi = p[i + 2];
                            ++i;
                        }
                        i += 2;
                        if (hi < c)
                            throw Error("syntax error in pattern");
                    }
                    t.ranges.emplace_back(c, hi);
                }
                if (!closed)
                    throw Error("syntax error in pattern");
                tokens_.push_back(std::move(t));
                type_ = Type::Glob;
            } else {
                tokens_.push_back(tok(Token::Literal, ch));
            }
        }
    }

    bool matchFrom(std::size_t ti, const std::vector<char32_t>& s, std::size_t si) const
    {
        while (ti < tokens_.size()) {
            const Token& t = tokens_[ti];
            switch (t.kind) {
            case Token::Literal:
                if (si >= s.size() || s[si] != t.ch)
                    return false;
                break;
            case Token::AnyChar:
                if (si >= s.size() || s[si] == '/')
                    return false;
                break;
            case Token::Class: {
                if (si >= s.size())
                    return false;
                bool in = false;
                for (const auto& [lo, hi] : t.ranges)
                    in |= s[si] >= lo && s[si] <= hi;
                if (in == t.negated)
                    return false;
                break;
            }
            case Token::Star:
                for (std::size_t k = si;; ++k) {
                    if (matchFrom(ti + 1, s, k))
                        return true;
                    if (k >= s.size() || s[k] == '/')
                        return false;
                }
            case Token::AnyDirs: // (.*/)? : nothing, or anything ending in '/'
                if (matchFrom(ti + 1, s, si))
                    return true;
                for (std::size_t k = si; k < s.size(); ++k)
                    if (s[k] == '/' && matchFrom(ti + 1, s, k + 1))
                        return true;
                return false;
            case Token::AnyTail:
                return true;
            }
            ++ti;
            ++si;
        }
        return si == s.size();
    }

    std::string cleaned_;
    bool exclusion_;
    Type type_ = Type::Exact;
    std::vector<Token> tokens_;
};

DockerIgnore::DockerIgnore() = default;
DockerIgnore::~DockerIgnore() = default;
DockerIgnore::DockerIgnore(const DockerIgnore&) = default;
DockerIgnore& DockerIgnore::operator=(const DockerIgnore&) = default;
DockerIgnore::DockerIgnore(DockerIgnore&&) noexcept = default;
DockerIgnore& DockerIgnore::operator=(DockerIgnore&&) noexcept = default;

std::vector<std::string> DockerIgnore::readPatterns(std::string_view content)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    bool firstLine = true;
    while (start < content.size()) {
        auto nl = content.find('\n', start);
        std::string_view line = content.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        start = nl == std::string_view::npos ? content.size() : nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1); // bufio.ScanLines drops a trailing CR
        if (firstLine && startsWith(line, "\xEF\xBB\xBF"))
            line.remove_prefix(3);
        firstLine = false;
        if (startsWith(line, "#"))
            continue; // a comment only when '#' is the very first character
        std::string_view pattern = trimSpace(line);
        if (pattern.empty())
            continue;
        const bool invert = pattern[0] == '!';
        if (invert)
            pattern = trimSpace(pattern.substr(1));
        std::string p(pattern);
        if (!p.empty()) {
            p = cleanPath(p);
            if (p.size() > 1 && p[0] == '/')
                p.erase(0, 1);
        }
        out.push_back(invert ? "!" + p : p);
    }
    return out;
}

DockerIgnore DockerIgnore::fromPatterns(const std::vector<std::string>& patterns)
{
    DockerIgnore d;
    d.patterns_ = patterns;
    for (const std::string& raw : patterns) {
        std::string p(trimSpace(raw));
        if (p.empty())
            continue;
        p = cleanPath(p);
        bool exclusion = false;
        if (p[0] == '!') {
            if (p.size() == 1)
                throw Error("illegal exclusion pattern: \"!\"");
            exclusion = true;
            p.erase(0, 1);
            d.exclusions_ = true;
        }
        d.compiled_.push_back(std::make_shared<IgnorePattern>(p, exclusion));
    }
    return d;
}

bool DockerIgnore::excluded(std::string_view rawPath) const
{
    const std::string file = cleanPath(std::string(rawPath));
    if (file == ".")
        return false; // the context root itself is never excluded
    const auto slash = file.rfind('/');
    const std::string parent = slash == std::string::npos ? "." : file.substr(0, slash);
    bool matched = false;
    for (const auto& pattern : compiled_) {
        // An inclusion that already matched, or an exception with nothing to undo, changes nothing.
        if (pattern->exclusion() != matched)
            continue;
        bool match = pattern->match(file);
        if (!match && parent != ".") {
            for (std::size_t pos = 0;;) {
                const auto next = parent.find('/', pos);
                const std::string_view prefix = std::string_view(parent).substr(0, next);
                if (pattern->match(prefix)) {
                    match = true;
                    break;
                }
                if (next == std::string::npos)
                    break;
                pos = next + 1;
            }
        }
        if (match)
            matched = !pattern->exclusion();
    }
    return matched;
}

bool DockerIgnore::matchesUsingParentResults(std::string_view rawPath, const MatchInfo& parentInfo, MatchInfo& out) const
{
    if (!parentInfo.parentMatched.empty() && parentInfo.parentMatched.size() != compiled_.size())
        throw Error("wrong number of values in parentMatched");
    const std::string file(rawPath);
    bool matched = false;
    MatchInfo info;
    info.parentMatched.assign(compiled_.size(), false);
    for (std::size_t i = 0; i < compiled_.size(); ++i) {
        const IgnorePattern& pattern = *compiled_[i];
        bool match = !parentInfo.parentMatched.empty() && parentInfo.parentMatched[i];
        if (!match) {
            if (pattern.exclusion() != matched)
                continue;
            match = pattern.match(file);
            if (!match && parentInfo.parentMatched.empty()) {
                const auto slash = file.rfind('/');
                if (slash != std::string::npos) {
                    const std::string parent = file.substr(0, slash);
                    for (std::size_t pos = 0;;) {
                        const auto next = parent.find('/', pos);
                        if (pattern.match(std::string_view(parent).substr(0, next))) {
                            match = true;
                            break;
                        }
                        if (next == std::string::npos)
                            break;
                        pos = next + 1;
                    }
                }
            }
        }
        info.parentMatched[i] = match;
        if (match)
            matched = !pattern.exclusion();
    }
    out = std::move(info);
    return matched;
}

bool DockerIgnore::mayReincludeBelow(std::string_view dir) const
{
    if (!exclusions_)
        return false;
    const std::string dirSlash = cleanPath(std::string(dir)) + "/";
    for (const auto& p : compiled_) {
        if (!p->exclusion())
            continue;
        std::string s = p->text();
        for (const char* glob : {"/**", "/*"})
            if (s.size() >= std::string_view(glob).size() && s.ends_with(glob))
                s.resize(s.size() - std::string_view(glob).size());
        if (s.find_first_of("*?[\\") != std::string::npos)
            return true; // a wildcard exception may match anywhere
        if (startsWith(s + "/", dirSlash))
            return true;
    }
    return false;
}

} // namespace cachescope::dockerfile

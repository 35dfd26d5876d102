#include "cache/json_cursor.h"

#include "base/utf8.h"

#include "base/error.h"

#include <charconv>
#include <limits>

namespace cachescope::cache {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

JsonCursor::JsonCursor(std::string_view text, std::string what) : text_(text), what_(std::move(what)) {}

bool JsonCursor::keyIs(std::string_view key, std::string_view name)
{
    if (key.size() != name.size())
        return false;
    for (std::size_t i = 0; i < key.size(); ++i) {
        char a = key[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = static_cast<char>(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

std::string JsonCursor::path() const
{
    std::string p;
    for (const auto& s : path_) {
        if (s.isIndex) {
            p += '[';
            p += std::to_string(s.index);
            p += ']';
        } else {
            if (!p.empty())
                p += '.';
            p += s.key;
        }
    }
    return p;
}

void JsonCursor::fail(std::string_view message) const
{
    std::string p = path();
    throw Error(what_ + ": " + (p.empty() ? std::string() : p + ": ") + std::string(message));
}

void JsonCursor::syntaxError(std::string_view message) const
{
    throw Error(what_ + ": invalid JSON at offset " + std::to_string(pos_) + ": " + std::string(message));
}

std::string_view JsonCursor::kindName(Kind k)
{
    switch (k) {
    case Kind::Object: return "an object";
    case Kind::Array: return "an array";
    case Kind::String: return "a string";
    case Kind::Number: return "a number";
    case Kind::Bool: return "a boolean";
    case Kind::Null: return "null";
    }
    return "a value";
}

void JsonCursor::typeError(std::string_view expected)
{
    fail("expected " + std::string(expected) + ", found " + std::string(kindName(peek())));
}

void JsonCursor::skipWhitespace()
{
    while (pos_ < text_.size() && isSpace(text_[pos_]))
        ++pos_;
}

bool JsonCursor::consumeIf(char c)
{
    if (pos_ < text_.size() && text_[pos_] == c) {
        ++pos_;
        return true;
    }
    return false;
}

void JsonCursor::expectChar(char c)
{
    if (pos_ >= text_.size())
        syntaxError(std::string("unexpected end of input, expected '") + c + "'");
    if (text_[pos_] != c)
        syntaxError(std::string("expected '") + c + "', found '" + text_[pos_] + "'");
    ++pos_;
}

JsonCursor::Kind JsonCursor::peek()
{
    skipWhitespace();
    if (pos_ >= text_.size())
        syntaxError("unexpected end of input");
    switch (text_[pos_]) {
    case '{': return Kind::Object;
    case '[': return Kind::Array;
    case '"': return Kind::String;
    case 't':
    case 'f': return Kind::Bool;
    case 'n': return Kind::Null;
    default:
        if (text_[pos_] == '-' || isDigit(text_[pos_]))
            return Kind::Number;
        syntaxError(std::string("unexpected character '") + text_[pos_] + "'");
    }
}

bool JsonCursor::tryNull()
{
    if (peek() != Kind::Null)
        return false;
    skipLiteral("null");
    return true;
}

void JsonCursor::skipLiteral(std::string_view word)
{
    if (text_.substr(pos_, word.size()) != word)
        syntaxError("invalid literal");
    pos_ += word.size();
}

void JsonCursor::readKey(std::string& out)
{
    if (pos_ >= text_.size() || text_[pos_] != '"')
        syntaxError("expected a string key");
    readString(out);
}

void JsonCursor::readString(std::string& out)
{
    if (peek() != Kind::String)
        typeError("a string");
    ++pos_;
    out.clear();
    // Fast path: copy runs without escapes in one go.
    while (true) {
        std::size_t start = pos_;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
                break;
            ++pos_;
        }
        out.append(text_.substr(start, pos_ - start));
        if (pos_ >= text_.size())
            syntaxError("unterminated string");
        char c = text_[pos_];
        if (c == '"') {
            ++pos_;
            return;
        }
        if (c != '\\')
            syntaxError("control character in string");
        ++pos_;
        if (pos_ >= text_.size())
            syntaxError("unterminated string");
        char e = text_[pos_++];
        switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
            const auto hex4 = [&]() -> std::uint32_t {
                if (pos_ + 4 > text_.size())
                    syntaxError("truncated \\u escape");
                std::uint32_t v = 0;
                for (int k = 0; k < 4; ++k) {
                    int h = hexValue(text_[pos_ + static_cast<std::size_t>(k)]);
                    if (h < 0)
                        syntaxError("invalid \\u escape");
                    v = v * 16 + static_cast<std::uint32_t>(h);
                }
                pos_ += 4;
                return v;
            };
            std::uint32_t cp = hex4();
            if (cp >= 0xD800 && cp < 0xDC00) {
                // A surrogate pair; a lone surrogate becomes U+FFFD as in Go.
                if (pos_ + 6 <= text_.size() && text_[pos_] == '\\' && text_[pos_ + 1] == 'u') {
                    std::size_t save = pos_;
                    pos_ += 2;
                    std::uint32_t low = hex4();
                    if (low >= 0xDC00 && low < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    } else {
                        pos_ = save;
                        cp = 0xFFFD;
                    }
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            appendUtf8(out, cp);
            break;
        }
        default:
            syntaxError(std::string("invalid escape '\\") + e + "'");
        }
    }
}

void JsonCursor::skipString()
{
    ++pos_; // opening quote
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == '"') {
            ++pos_;
            return;
        }
        if (static_cast<unsigned char>(c) < 0x20)
            syntaxError("control character in string");
        if (c == '\\') {
            ++pos_;
            if (pos_ >= text_.size())
                break;
            char e = text_[pos_];
            if (e == 'u') {
                for (int k = 1; k <= 4; ++k)
                    if (pos_ + static_cast<std::size_t>(k) >= text_.size() ||
                        hexValue(text_[pos_ + static_cast<std::size_t>(k)]) < 0)
                        syntaxError("invalid \\u escape");
                pos_ += 4;
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                syntaxError(std::string("invalid escape '\\") + e + "'");
            }
        }
        ++pos_;
    }
    syntaxError("unterminated string");
}

void JsonCursor::skipNumber()
{
    consumeIf('-');
    if (pos_ >= text_.size() || !isDigit(text_[pos_]))
        syntaxError("invalid number");
    if (text_[pos_] == '0')
        ++pos_;
    else
        while (pos_ < text_.size() && isDigit(text_[pos_]))
            ++pos_;
    if (consumeIf('.')) {
        if (pos_ >= text_.size() || !isDigit(text_[pos_]))
            syntaxError("invalid number");
        while (pos_ < text_.size() && isDigit(text_[pos_]))
            ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        ++pos_;
        if (!consumeIf('+'))
            consumeIf('-');
        if (pos_ >= text_.size() || !isDigit(text_[pos_]))
            syntaxError("invalid number");
        while (pos_ < text_.size() && isDigit(text_[pos_]))
            ++pos_;
    }
}

std::int64_t JsonCursor::readInteger()
{
    if (peek() != Kind::Number)
        typeError("an integer");
    const std::size_t start = pos_;
    skipNumber();
    const std::string_view token = text_.substr(start, pos_ - start);
    if (token.find_first_of(".eE") != std::string_view::npos)
        fail("expected an integer, found " + std::string(token));
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || ptr != token.data() + token.size())
        fail("integer " + std::string(token) + " is out of range");
    return value;
}

int JsonCursor::readInt()
{
    std::int64_t v = readInteger();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
        fail("integer " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
}

bool JsonCursor::readBool()
{
    if (peek() != Kind::Bool)
        typeError("a boolean");
    if (text_[pos_] == 't') {
        skipLiteral("true");
        return true;
    }
    skipLiteral("false");
    return false;
}

void JsonCursor::skipValue()
{
    // Iterative, so hostile nesting cannot exhaust the stack.
    std::vector<char> open;
    const std::size_t baseDepth = depth_;
    while (true) {
        switch (peek()) {
        case Kind::Object:
        case Kind::Array: {
            char c = text_[pos_++];
            if (baseDepth + open.size() + 1 > 10000)
                syntaxError("nesting too deep");
            skipWhitespace();
            char close = c == '{' ? '}' : ']';
            if (consumeIf(close))
                break;
            open.push_back(close);
            if (close == '}') {
                skipWhitespace();
                if (pos_ >= text_.size() || text_[pos_] != '"')
                    syntaxError("expected a string key");
                skipString();
                skipWhitespace();
                expectChar(':');
            }
            continue;
        }
        case Kind::String: skipString(); break;
        case Kind::Number: skipNumber(); break;
        case Kind::Bool: text_[pos_] == 't' ? skipLiteral("true") : skipLiteral("false"); break;
        case Kind::Null: skipLiteral("null"); break;
        }
        // A value ended: close containers or move to the next element.
        while (!open.empty()) {
            skipWhitespace();
            if (consumeIf(',')) {
                if (open.back() == '}') {
                    skipWhitespace();
                    if (pos_ >= text_.size() || text_[pos_] != '"')
                        syntaxError("expected a string key");
                    skipString();
                    skipWhitespace();
                    expectChar(':');
                }
                break;
            }
            expectChar(open.back());
            open.pop_back();
        }
        if (open.empty())
            return;
    }
}

void JsonCursor::expectEnd()
{
    skipWhitespace();
    if (pos_ != text_.size())
        syntaxError("unexpected data after the top-level value");
}

} // namespace cachescope::cache

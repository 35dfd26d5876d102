#include "base/go_json.h"

#include "base/utf8.h"

#include <cstdio>

namespace cachescope {

namespace {

void appendNumber(std::string& out, const nlohmann::ordered_json& v)
{
    // Integers are what BuildKit's structs carry; floats are formatted as nlohmann does.
    out += v.dump();
}

void append(std::string& out, const nlohmann::ordered_json& v)
{
    using T = nlohmann::ordered_json::value_t;
    switch (v.type()) {
    case T::null:
        out += "null";
        break;
    case T::boolean:
        out += v.get<bool>() ? "true" : "false";
        break;
    case T::string:
        appendGoJsonString(out, v.get_ref<const std::string&>());
        break;
    case T::array: {
        out += '[';
        bool first = true;
        for (const auto& item : v) {
            if (!first)
                out += ',';
            first = false;
            append(out, item);
        }
        out += ']';
        break;
    }
    case T::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, item] : v.items()) {
            if (!first)
                out += ',';
            first = false;
            appendGoJsonString(out, key);
            out += ':';
            append(out, item);
        }
        out += '}';
        break;
    }
    default:
        appendNumber(out, v);
        break;
    }
}

} // namespace

void appendGoJsonString(std::string& out, std::string_view s)
{
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '<':
            case '>':
            case '&':
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
            }
            ++i;
            continue;
        }
        const DecodedRune rune = decodeRune(s, i);
        const std::size_t n = rune.len;
        if (!rune.valid) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        // U+2028 and U+2029 are E2 80 A8 / E2 80 A9.
        if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
            out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    out += '"';
}

std::string goJson(const nlohmann::ordered_json& value)
{
    std::string out;
    append(out, value);
    return out;
}

} // namespace cachescope

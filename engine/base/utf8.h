#pragma once
// UTF-8 decoding and encoding with Go's rules (invalid bytes decode one at a time as U+FFFD),
// shared by the Go-compatible JSON reader and writer and the Dockerfile lexer.
#include <cstddef>
#include <string>
#include <string_view>

namespace cachescope {

struct DecodedRune {
    char32_t cp;     // U+FFFD for an invalid byte
    std::size_t len; // bytes consumed (1 for an invalid byte)
    bool valid;      // false when the byte at pos does not start a valid sequence
};

DecodedRune decodeRune(std::string_view s, std::size_t pos);
void appendUtf8(std::string& out, char32_t cp);

} // namespace cachescope

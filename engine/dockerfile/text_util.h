#pragma once
// Small string helpers shared by the Dockerfile lexer and parsers. They follow Go's definitions
// (unicode.IsSpace, strings.TrimSpace, UTF-8 decoding with invalid bytes taken one at a time)
// because BuildKit's frontend is written against those.
#include "base/utf8.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::dockerfile {

using cachescope::appendUtf8;
using cachescope::decodeRune;
using cachescope::DecodedRune;

bool isGoSpace(char32_t c);
std::string_view trimLeftSpace(std::string_view s);
std::string_view trimRightSpace(std::string_view s);
std::string_view trimSpace(std::string_view s);

std::string toLowerAscii(std::string_view s);
std::string toUpperAscii(std::string_view s);
bool equalsIgnoreCase(std::string_view a, std::string_view b);
bool startsWith(std::string_view s, std::string_view prefix);

// Splits on runs of [\t\v\f\r ] (BuildKit's reWhitespace); at most `limit` parts when limit > 0.
// Like Go's regexp.Split, a leading separator yields an empty first part.
std::vector<std::string> splitWhitespace(std::string_view s, int limit = -1);

// Go's path.Clean for slash-separated paths ("a/./b/../c/" -> "a/c", "" -> ".").
std::string cleanPath(const std::string& path);

} // namespace cachescope::dockerfile

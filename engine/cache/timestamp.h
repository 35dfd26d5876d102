#pragma once
// A Go time.Time as BuildKit writes it: the RFC 3339 text (kept verbatim so configs re-serialise
// byte for byte) and the instant as nanoseconds since the Unix epoch, for ordering results.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace cachescope::cache {

struct Timestamp {
    // Go's zero time ("0001-01-01T00:00:00Z") means "unknown"; it sorts before every real time.
    static constexpr std::int64_t kUnknown = std::numeric_limits<std::int64_t>::min();
    static constexpr std::string_view kZeroText = "0001-01-01T00:00:00Z";

    std::string text{kZeroText};
    std::int64_t nanos = kUnknown;

    bool known() const { return nanos != kUnknown; }

    // Parses any RFC 3339 time (fraction up to nanoseconds, "Z" or a numeric offset).
    // Throws Error("<what>: invalid time \"…\"") otherwise. Instants outside the int64
    // nanosecond range (years 1678..2262) are clamped.
    static Timestamp parse(std::string_view text, const std::string& what);
    // Formats like Go's RFC3339Nano in UTC (trailing zeros of the fraction trimmed).
    static Timestamp fromNanos(std::int64_t nanos);
};

} // namespace cachescope::cache

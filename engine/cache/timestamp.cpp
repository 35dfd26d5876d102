#include "cache/timestamp.h"

#include "base/error.h"

#include <cstdio>

namespace cachescope::cache {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d)
{
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool isLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned daysInMonth(std::int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeap(y) ? 29 : days[m - 1];
}

} // namespace

Timestamp Timestamp::parse(std::string_view s, const std::string& what)
{
    const auto bad = [&]() -> Error { return Error(what + ": invalid time \"" + std::string(s) + "\" (expected RFC 3339)"); };
    std::size_t i = 0;
    const auto digits = [&](std::size_t n) -> int {
        if (i + n > s.size())
            throw bad();
        int v = 0;
        for (std::size_t k = 0; k < n; ++k) {
            char c = s[i + k];
            if (c < '0' || c > '9')
                throw bad();
            v = v * 10 + (c - '0');
        }
        i += n;
        return v;
    };
    const auto expect = [&](char a, char b = 0) {
        if (i >= s.size() || (s[i] != a && (b == 0 || s[i] != b)))
            throw bad();
        ++i;
    };
    const int year = digits(4);
    expect('-');
    const int month = digits(2);
    expect('-');
    const int day = digits(2);
    expect('T', 't');
    const int hour = digits(2);
    expect(':');
    const int minute = digits(2);
    expect(':');
    const int second = digits(2);
    std::int64_t fraction = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t n = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (n < 9)
                fraction = fraction * 10 + (s[i] - '0');
            ++n;
            ++i;
        }
        if (n == 0)
            throw bad();
        for (std::size_t k = n; k < 9; ++k)
            fraction *= 10;
    }
    int offsetSeconds = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        const int sign = s[i] == '-' ? -1 : 1;
        ++i;
        const int oh = digits(2);
        expect(':');
        const int om = digits(2);
        if (oh > 23 || om > 59)
            throw bad();
        offsetSeconds = sign * (oh * 3600 + om * 60);
    } else {
        throw bad();
    }
    if (i != s.size() || month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > daysInMonth(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        throw bad();

    Timestamp t;
    t.text = std::string(s);
    if (year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 && fraction == 0 &&
        offsetSeconds == 0)
        return t; // Go's zero time: unknown
    const std::int64_t seconds = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                                 hour * 3600 + minute * 60 + second - offsetSeconds;
    constexpr std::int64_t maxSeconds = std::numeric_limits<std::int64_t>::max() / 1000000000 - 1;
    if (seconds > maxSeconds)
        t.nanos = std::numeric_limits<std::int64_t>::max();
    else if (seconds < -maxSeconds)
        t.nanos = kUnknown + 1;
    else
        t.nanos = seconds * 1000000000 + fraction;
    return t;
}

Timestamp Timestamp::fromNanos(std::int64_t nanos)
{
    Timestamp t;
    if (nanos == kUnknown)
        return t;
    t.nanos = nanos;
    std::int64_t seconds = nanos / 1000000000;
    std::int64_t fraction = nanos % 1000000000;
    if (fraction < 0) {
        fraction += 1000000000;
        --seconds;
    }
    std::int64_t days = seconds / 86400;
    std::int64_t rest = seconds % 86400;
    if (rest < 0) {
        rest += 86400;
        --days;
    }
    std::int64_t y;
    unsigned m, d;
    civilFromDays(days, y, m, d);
    char buffer[64];
    int n = std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m,
                          d, static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                          static_cast<long long>(rest % 60));
    std::string text(buffer, static_cast<std::size_t>(n));
    if (fraction != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(fraction));
        std::string f(frac);
        while (f.back() == '0')
            f.pop_back();
        text += f;
    }
    text += 'Z';
    t.text = std::move(text);
    return t;
}

} // namespace cachescope::cache

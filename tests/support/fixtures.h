#pragma once
// Where the copied BuildKit fixtures live, and scratch directories for tests.
#include <QString>
#include <filesystem>

namespace cachescope::test {

inline std::filesystem::path fixturesDir()
{
    return std::filesystem::path(CACHESCOPE_FIXTURES);
}

// buildkit-v0.24/<fixture>/cache/<variant>
inline std::filesystem::path cacheVariant(const std::string& fixture, const std::string& variant)
{
    return fixturesDir() / "buildkit-v0.24" / fixture / "cache" / variant;
}

} // namespace cachescope::test

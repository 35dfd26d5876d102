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

// An empty directory `name` under `scratch`, emptied first when an earlier step of the test used it.
inline std::filesystem::path freshDir(const QString& scratch, const std::string& name)
{
    const std::filesystem::path p = std::filesystem::path(scratch.toStdString()) / name;
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p;
}

} // namespace cachescope::test

#pragma once
// Where the copied BuildKit fixtures live, and scratch directories for tests.
#include <QString>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// The rows of a fixture table (step-status.tsv, timings.tsv), header included, cells split at tabs.
inline std::vector<std::vector<std::string>> readTsv(const std::filesystem::path& file)
{
    std::ifstream in(file);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, '\t'))
            cells.push_back(cell);
        rows.push_back(std::move(cells));
    }
    return rows;
}

} // namespace cachescope::test

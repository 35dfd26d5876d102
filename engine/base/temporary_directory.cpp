#include "base/temporary_directory.h"

#include "base/error.h"

#include <cstdlib>

namespace cachescope {

namespace fs = std::filesystem;

TemporaryDirectory::TemporaryDirectory(const std::string& prefix)
{
    std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data()))
        throw Error("cannot create a temporary directory in " + fs::temp_directory_path().string());
    path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory()
{
    std::error_code ec;
    fs::remove_all(path_, ec);
}

} // namespace cachescope

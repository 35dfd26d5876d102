#pragma once
// A fresh directory under the system temp dir ($TMPDIR), removed with everything in it when the
// object goes, however the scope is left (return, error, cancel).
#include <filesystem>
#include <string>

namespace cachescope {

class TemporaryDirectory {
public:
    // `prefix` names the directory ("cachescope-export" -> /tmp/cachescope-export-Ab12Cd). Throws
    // Error naming the temp dir when it cannot be created.
    explicit TemporaryDirectory(const std::string& prefix);
    ~TemporaryDirectory();
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace cachescope

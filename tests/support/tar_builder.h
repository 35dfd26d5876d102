#pragma once
// Writes layer tars with libarchive, entry by entry, including hostile ones (path escapes,
// symlinks and hardlinks pointing out, whiteouts) for the layer apply tests.
#include "oci/media_types.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

struct archive;

namespace cachescope::test {

// Header fields of one entry.
struct TarMeta {
    unsigned mode = 0644;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime = 1700000000;
    std::map<std::string, std::string> xattrs;
};

inline TarMeta tarMode(unsigned mode)
{
    TarMeta m;
    m.mode = mode;
    return m;
}

class TarBuilder {
public:
    // Starts a tar at `path`, compressed as asked.
    explicit TarBuilder(std::filesystem::path path,
                        oci::media::Compression compression = oci::media::Compression::Uncompressed);
    ~TarBuilder();
    TarBuilder(const TarBuilder&) = delete;
    TarBuilder& operator=(const TarBuilder&) = delete;

    using Meta = TarMeta;

    TarBuilder& file(const std::string& name, const std::string& content, Meta meta = {});
    TarBuilder& dir(const std::string& name, Meta meta = tarMode(0755));
    TarBuilder& symlink(const std::string& name, const std::string& target, Meta meta = tarMode(0777));
    TarBuilder& hardlink(const std::string& name, const std::string& target);
    TarBuilder& charDevice(const std::string& name, unsigned major, unsigned minor, Meta meta = tarMode(0666));
    // Finishes the archive; the destructor does it too.
    std::filesystem::path close();

private:
    void entry(const std::string& name, unsigned type, const Meta& meta, const std::string* content,
               const std::string* link, bool hard, unsigned long rdev = 0);
    std::filesystem::path path_;
    archive* a_ = nullptr;
};

} // namespace cachescope::test

#include "exec/layer_blob.h"

#include "base/error.h"
#include "exec/archive_handle.h"
#include "exec/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace cachescope::exec {

namespace fs = std::filesystem;
using oci::media::Compression;

Compression detectCompression(const fs::path& blob)
{
    UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        throw Error(errnoMessage(blob.string()));
    unsigned char magic[4] = {};
    ssize_t n = ::read(fd.get(), magic, sizeof magic);
    if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        return Compression::Gzip;
    if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        return Compression::Zstd;
    return Compression::Uncompressed;
}

Compression layerReadCompression(const fs::path& blob, std::string_view mediaType)
{
    if (!mediaType.empty() && !oci::media::isLayer(mediaType))
        throw Error(blob.string() + ": media type \"" + std::string(mediaType) + "\" is not a layer");
    return detectCompression(blob);
}

void readUncompressed(const fs::path& blob, const std::function<void(const char*, std::size_t)>& sink)
{
    std::vector<char> buf(1 << 20);
    if (detectCompression(blob) == Compression::Uncompressed) {
        UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid())
            throw Error(errnoMessage(blob.string()));
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
        for (;;) {
            ssize_t n = ::read(fd.get(), buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                throw Error(errnoMessage(blob.string() + ": read"));
            }
            if (n == 0)
                return;
            sink(buf.data(), static_cast<std::size_t>(n));
        }
    }
    // libarchive's gzip reader follows concatenated members (the parallel gzip form) to the end.
    detail::ArchiveReader a(archive_read_new());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_raw(a.get());
    if (archive_read_open_filename(a.get(), blob.c_str(), 1 << 20) != ARCHIVE_OK)
        throw Error(blob.string() + ": " + detail::archiveMessage(a.get()));
    archive_entry* entry = nullptr;
    if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
        throw Error(blob.string() + ": " + detail::archiveMessage(a.get()));
    for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0)
            throw Error(blob.string() + ": " + detail::archiveMessage(a.get()));
        if (n == 0)
            return;
        sink(buf.data(), static_cast<std::size_t>(n));
    }
}

oci::Digest computeDiffId(const fs::path& blob)
{
    oci::Sha256 hasher;
    readUncompressed(blob, [&](const char* data, std::size_t size) { hasher.update(data, size); });
    return hasher.finish();
}

} // namespace cachescope::exec

#include "oci/content_store.h"

#include "base/error.h"
#include "base/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace cachescope::oci {

namespace fs = std::filesystem;

ContentStore::ContentStore(fs::path root) : root_(std::move(root)) {}

fs::path ContentStore::blobPath(const Digest& d) const
{
    return root_ / "blobs" / std::string(d.algorithm()) / std::string(d.hex());
}

bool ContentStore::has(const Digest& d) const
{
    std::error_code ec;
    return fs::is_regular_file(blobPath(d), ec);
}

std::optional<std::int64_t> ContentStore::size(const Digest& d) const
{
    std::error_code ec;
    auto s = fs::file_size(blobPath(d), ec);
    if (ec)
        return std::nullopt;
    return static_cast<std::int64_t>(s);
}

std::string ContentStore::read(const Digest& d, std::uintmax_t maxBytes) const
{
    const fs::path p = blobPath(d);
    std::error_code ec;
    if (!fs::exists(p, ec))
        throw Error("blob " + d.str() + " is missing from " + root_.string());
    auto s = fs::file_size(p, ec);
    if (!ec && s > maxBytes)
        throw Error("blob " + d.str() + " is too large (" + std::to_string(s) + " > " + std::to_string(maxBytes) + ")");
    return readFile(p, maxBytes);
}

bool ContentStore::verify(const Digest& d) const
{
    const fs::path p = blobPath(d);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Sha256 h;
    char buffer[256 * 1024];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        h.update(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return n == 0 && h.finish() == d;
}

Descriptor ContentStore::put(std::string_view bytes, std::string mediaType)
{
    Descriptor desc;
    desc.mediaType = std::move(mediaType);
    desc.digest = Digest::of(bytes);
    desc.size = static_cast<std::int64_t>(bytes.size());
    if (!has(desc.digest))
        writeFileAtomic(blobPath(desc.digest), bytes);
    return desc;
}

void ContentStore::putExpected(const Digest& expected, std::string_view bytes)
{
    auto writer = openWriter(expected, static_cast<std::int64_t>(bytes.size()));
    writer->write(bytes);
    writer->commit();
}

std::unique_ptr<BlobWriter> ContentStore::openWriter(const Digest& expected, std::int64_t expectedSize)
{
    fs::create_directories(root_ / "ingest");
    fs::path ingest = temporarySibling(root_ / "ingest" / std::string(expected.hex()));
    return std::make_unique<BlobWriter>(ingest, blobPath(expected), expected, expectedSize);
}

void ContentStore::remove(const Digest& d)
{
    std::error_code ec;
    fs::remove(blobPath(d), ec);
}

BlobWriter::BlobWriter(fs::path ingestPath, fs::path finalPath, Digest expected, std::int64_t expectedSize)
    : ingestPath_(std::move(ingestPath)), finalPath_(std::move(finalPath)), expected_(std::move(expected)),
      expectedSize_(expectedSize)
{
    fd_ = ::open(ingestPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error(ingestPath_.string() + ": cannot create: " + std::strerror(errno));
}

BlobWriter::~BlobWriter()
{
    if (fd_ >= 0)
        ::close(fd_);
    if (!committed_) {
        std::error_code ec;
        fs::remove(ingestPath_, ec);
    }
}

void BlobWriter::write(const void* data, std::size_t size)
{
    if (expectedSize_ >= 0 && written_ + static_cast<std::int64_t>(size) > expectedSize_)
        throw Error("blob " + expected_.str() + ": received more than the expected " + std::to_string(expectedSize_) +
                    " bytes");
    const char* p = static_cast<const char*>(data);
    std::size_t left = size;
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error(ingestPath_.string() + ": cannot write: " + std::strerror(errno));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    hasher_.update(data, size);
    written_ += static_cast<std::int64_t>(size);
}

void BlobWriter::reset()
{
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0)
        throw Error(ingestPath_.string() + ": cannot truncate: " + std::strerror(errno));
    hasher_ = Sha256();
    written_ = 0;
}

void BlobWriter::commit()
{
    if (committed_)
        return;
    if (expectedSize_ >= 0 && written_ != expectedSize_)
        throw Error("blob " + expected_.str() + " is truncated: got " + std::to_string(written_) + " of " +
                    std::to_string(expectedSize_) + " bytes");
    Digest actual = hasher_.finish();
    if (actual != expected_)
        throw Error("blob " + expected_.str() + " does not match its digest (its bytes hash to " + actual.str() + ")");
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
        fd_ = -1;
        throw Error(ingestPath_.string() + ": cannot flush: " + std::strerror(errno));
    }
    fd_ = -1;
    fs::create_directories(finalPath_.parent_path());
    if (::rename(ingestPath_.c_str(), finalPath_.c_str()) != 0)
        throw Error(finalPath_.string() + ": cannot store blob: " + std::strerror(errno));
    committed_ = true;
}

} // namespace cachescope::oci

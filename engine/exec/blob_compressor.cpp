#include "exec/blob_compressor.h"

#include "base/error.h"
#include "exec/parallel_gzip.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;
using oci::media::Compression;

IngestBlobFile::IngestBlobFile(const fs::path& storeRoot)
{
    static std::atomic<unsigned> counter{0};
    fs::create_directories(storeRoot / "ingest");
    path_ = storeRoot / "ingest" / ("layer-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd_.valid())
        throw Error(errnoMessage(path_.string()));
}

IngestBlobFile::~IngestBlobFile()
{
    if (!path_.empty())
        ::unlink(path_.c_str());
}

void IngestBlobFile::write(const void* data, std::size_t size)
{
    hasher_.update(data, size);
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd_.get(), p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error(errnoMessage(path_.string() + ": write"));
        }
        p += n;
        size -= static_cast<std::size_t>(n);
        size_ += static_cast<std::uint64_t>(n);
    }
}

oci::Digest IngestBlobFile::commit(oci::ContentStore& store)
{
    if (::fsync(fd_.get()) != 0)
        throw Error(errnoMessage(path_.string() + ": fsync"));
    fd_.reset();
    oci::Digest d = hasher_.finish();
    fs::path final = store.blobPath(d);
    fs::create_directories(final.parent_path());
    if (store.has(d)) {
        ::unlink(path_.c_str());
    } else if (::rename(path_.c_str(), final.c_str()) != 0) {
        throw Error(errnoMessage(final.string() + ": rename"));
    }
    path_.clear();
    return d;
}

StreamCompressor::StreamCompressor(Compression compression, int level, int threads, IngestBlobFile& out) : out_(out)
{
    if (compression == Compression::Gzip) {
        gzip_ = std::make_unique<ParallelGzip>(level, static_cast<unsigned>(std::max(threads, 0)),
                                               [this](const void* data, std::size_t size) { out_.write(data, size); });
        return;
    }
    if (compression != Compression::Zstd)
        throw Error("compressor: no compressor for an uncompressed stream");
    a_.reset(archive_write_new());
    archive* a = a_.get();
    if (archive_write_add_filter_zstd(a) != ARCHIVE_OK)
        throw Error(std::string("zstd: ") + detail::archiveMessage(a));
    if (level >= 0)
        setOption("zstd", "compression-level", std::to_string(level));
    int workers = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // Older libarchive builds lack the option; the stream is the same format either way.
    if (workers > 1)
        archive_write_set_filter_option(a, "zstd", "threads", std::to_string(workers).c_str());
    archive_write_set_format_raw(a);
    archive_write_set_bytes_per_block(a, 1 << 20);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open(a, this, nullptr, &StreamCompressor::onWrite, nullptr) != ARCHIVE_OK)
        throw Error(std::string("compressor: ") + detail::archiveMessage(a));
    detail::ArchiveEntry e(archive_entry_new());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_pathname(e.get(), "layer.tar");
    if (archive_write_header(a, e.get()) != ARCHIVE_OK)
        throw Error(std::string("compressor: ") + detail::archiveMessage(a));
}

StreamCompressor::~StreamCompressor()
{
    gzip_.reset();   // drops what was not closed
    discard_ = true; // freeing an unclosed archive flushes it: nothing may reach the blob then
    a_.reset();
}

void StreamCompressor::write(const void* data, std::size_t size)
{
    if (gzip_)
        return gzip_->write(data, size);
    if (archive_write_data(a_.get(), data, size) < 0)
        fail();
}

void StreamCompressor::close()
{
    if (gzip_)
        return gzip_->close();
    if (archive_write_close(a_.get()) != ARCHIVE_OK)
        fail();
}

void StreamCompressor::setOption(const char* module, const char* key, const std::string& value)
{
    if (archive_write_set_filter_option(a_.get(), module, key, value.c_str()) < ARCHIVE_WARN)
        throw Error(std::string(module) + " " + key + "=" + value + ": " + detail::archiveMessage(a_.get()));
}

void StreamCompressor::fail()
{
    if (pending_)
        std::rethrow_exception(pending_);
    throw Error(std::string("compressor: ") + detail::archiveMessage(a_.get()));
}

la_ssize_t StreamCompressor::onWrite(archive*, void* self, const void* data, size_t size)
{
    auto* c = static_cast<StreamCompressor*>(self);
    if (c->discard_)
        return static_cast<la_ssize_t>(size);
    try {
        c->out_.write(data, size);
    } catch (...) {
        c->pending_ = std::current_exception();
        return -1;
    }
    return static_cast<la_ssize_t>(size);
}

std::string layerMediaType(Compression c, bool oci)
{
    std::string_view t = c == Compression::Gzip ? oci::media::OciLayerGzip
                         : c == Compression::Zstd ? oci::media::OciLayerZstd
                                                  : oci::media::OciLayer;
    return oci ? std::string(t) : oci::media::toDockerLayerType(t);
}

} // namespace cachescope::exec

#pragma once
// The compressing end of a layer pipeline, shared by the layer writer (a diff directory becomes a
// blob) and the layer recompressor (a blob becomes a blob of another compression): bytes go through
// gzip | zstd | nothing into a file under <store>/ingest, hashed as they are written, and the
// verified blob is moved to blobs/sha256/<hex> on commit.
#include "exec/archive_handle.h"
#include "exec/unique_fd.h"
#include "oci/content_store.h"
#include "oci/digest.h"
#include "oci/media_types.h"

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>

namespace cachescope::exec {

// A blob being written into <store>/ingest; removed unless committed.
class IngestBlobFile {
public:
    explicit IngestBlobFile(const std::filesystem::path& storeRoot);
    ~IngestBlobFile();
    IngestBlobFile(const IngestBlobFile&) = delete;
    IngestBlobFile& operator=(const IngestBlobFile&) = delete;

    void write(const void* data, std::size_t size);
    // Moves the bytes to blobs/sha256/<hex> (kept as they are when the store has them already).
    oci::Digest commit(oci::ContentStore& store);
    std::uint64_t size() const { return size_; }

private:
    std::filesystem::path path_;
    UniqueFd fd_;
    oci::Sha256 hasher_;
    std::uint64_t size_ = 0;
};

class ParallelGzip;

// gzip as parallel members (exec/parallel_gzip.h; libarchive's gzip filter uses one core) or zstd with
// libarchive's filter ("raw" format: one unnamed stream, zstd's own workers) into an IngestBlobFile.
class StreamCompressor {
public:
    // level < 0: the compressor's default (gzip 6, zstd 3); threads: workers, 0 = one per core.
    StreamCompressor(oci::media::Compression compression, int level, int threads, IngestBlobFile& out);
    ~StreamCompressor();
    StreamCompressor(const StreamCompressor&) = delete;
    StreamCompressor& operator=(const StreamCompressor&) = delete;

    void write(const void* data, std::size_t size);
    void close();

private:
    void setOption(const char* module, const char* key, const std::string& value);
    [[noreturn]] void fail();
    static la_ssize_t onWrite(archive*, void* self, const void* data, size_t size);

    IngestBlobFile& out_;
    std::unique_ptr<ParallelGzip> gzip_;
    std::exception_ptr pending_;
    bool discard_ = false;
    detail::ArchiveWriter a_;
};

// The layer media type of a compression, OCI or Docker.
std::string layerMediaType(oci::media::Compression compression, bool ociMediaTypes);

} // namespace cachescope::exec

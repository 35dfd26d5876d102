#pragma once
// Content-addressed blobs on disk in the OCI layout shape: <root>/blobs/sha256/<hex>.
// A blob only appears under blobs/ once its bytes were verified against its digest;
// bytes in flight live in <root>/ingest/ and are removed when a write does not complete.
#include "oci/descriptor.h"
#include "oci/digest.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cachescope::oci {

class BlobWriter;

class ContentStore {
public:
    explicit ContentStore(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path blobPath(const Digest& d) const;
    bool has(const Digest& d) const;
    std::optional<std::int64_t> size(const Digest& d) const;

    // Reads a blob whole. Throws Error naming the digest when it is missing or larger than maxBytes.
    std::string read(const Digest& d, std::uintmax_t maxBytes = UINTMAX_MAX) const;
    // Re-hashes a stored blob; false when its bytes no longer match its name.
    bool verify(const Digest& d) const;

    // Stores bytes under their own digest (no-op when present).
    Descriptor put(std::string_view bytes, std::string mediaType);
    // Stores bytes that must hash to `expected`; throws Error and stores nothing when they do not.
    void putExpected(const Digest& expected, std::string_view bytes);

    // Starts a streamed write of a blob whose digest (and size, when >= 0) is known in advance.
    std::unique_ptr<BlobWriter> openWriter(const Digest& expected, std::int64_t expectedSize = -1);

    void remove(const Digest& d);

private:
    std::filesystem::path root_;
};

class BlobWriter {
public:
    BlobWriter(std::filesystem::path ingestPath, std::filesystem::path finalPath, Digest expected,
               std::int64_t expectedSize);
    ~BlobWriter(); // removes the partial file unless committed
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;

    void write(const void* data, std::size_t size);
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
    // Bytes accepted so far: where a resumed transfer continues (HTTP Range).
    std::int64_t offset() const { return written_; }
    // Drops what was written (a server ignored a Range request and resent from the start).
    void reset();
    const Digest& expected() const { return expected_; }
    // Verifies size and digest, then moves the blob into place. Throws Error (and discards
    // the bytes) on mismatch.
    void commit();

private:
    std::filesystem::path ingestPath_;
    std::filesystem::path finalPath_;
    Digest expected_;
    std::int64_t expectedSize_;
    std::int64_t written_ = 0;
    int fd_ = -1;
    bool committed_ = false;
    Sha256 hasher_;
};

} // namespace cachescope::oci

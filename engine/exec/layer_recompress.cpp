#include "exec/layer_recompress.h"

#include "base/error.h"
#include "exec/blob_compressor.h"
#include "exec/layer_blob.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cachescope::exec {

namespace {

// Decompression and compression run on two threads, as `gzip -d | zstd` would: a few 1 MiB chunks
// in flight between them bound the memory.
class ChunkPipe {
public:
    // Producer side; false when the consumer gave up (the producer then stops).
    bool push(const char* data, std::size_t size)
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return chunks_.size() < MaxChunks || abandoned_; });
        if (abandoned_)
            return false;
        chunks_.emplace_back(data, data + size);
        changed_.notify_all();
        return true;
    }
    void finish(std::exception_ptr error)
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
        error_ = error;
        changed_.notify_all();
    }
    // Consumer side; false at the end of the stream (rethrows the producer's error).
    bool pop(std::vector<char>& chunk)
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !chunks_.empty() || finished_; });
        if (chunks_.empty()) {
            if (error_)
                std::rethrow_exception(error_);
            return false;
        }
        chunk = std::move(chunks_.front());
        chunks_.pop_front();
        changed_.notify_all();
        return true;
    }
    void abandon()
    {
        std::lock_guard lock(mutex_);
        abandoned_ = true;
        changed_.notify_all();
    }

private:
    static constexpr std::size_t MaxChunks = 4;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::vector<char>> chunks_;
    bool finished_ = false;
    bool abandoned_ = false;
    std::exception_ptr error_;
};

struct Abandoned {};

} // namespace

RecompressResult recompressLayer(const std::filesystem::path& blob, const oci::Digest& expectedDiffId,
                                 oci::ContentStore& into, const RecompressOptions& options)
{
    using oci::media::Compression;
    if (options.compression == Compression::Unknown)
        throw Error("recompress " + blob.string() + ": unknown target compression");
    IngestBlobFile file(into.root());
    std::unique_ptr<StreamCompressor> compressor;
    if (options.compression != Compression::Uncompressed)
        compressor = std::make_unique<StreamCompressor>(options.compression, options.level, options.threads, file);

    ChunkPipe pipe;
    oci::Sha256 tarHash; // on the reading thread, which decompresses faster than the other compresses
    RecompressResult result;
    std::jthread reader([&] {
        try {
            readUncompressed(blob, [&](const char* data, std::size_t size) {
                tarHash.update(data, size);
                result.tarSize += size;
                if (!pipe.push(data, size))
                    throw Abandoned{};
            });
            pipe.finish(nullptr);
        } catch (const Abandoned&) {
            pipe.finish(nullptr);
        } catch (...) {
            pipe.finish(std::current_exception());
        }
    });
    try {
        std::vector<char> chunk;
        while (pipe.pop(chunk)) {
            if (options.cancel.stop_requested())
                throw Error("recompress " + blob.string() + ": cancelled");
            if (compressor)
                compressor->write(chunk.data(), chunk.size());
            else
                file.write(chunk.data(), chunk.size());
        }
    } catch (...) {
        pipe.abandon(); // the reader stops at its next chunk; the jthread joins it
        throw;
    }
    reader.join();
    if (compressor)
        compressor->close();
    result.diffId = tarHash.finish();
    if (!expectedDiffId.empty() && result.diffId != expectedDiffId)
        throw Error("recompress " + blob.string() + ": its tar hashes to " + result.diffId.str() +
                    ", the layer's diffID is " + expectedDiffId.str());
    result.descriptor.mediaType = layerMediaType(options.compression, options.ociMediaTypes);
    result.descriptor.size = static_cast<std::int64_t>(file.size());
    result.descriptor.digest = file.commit(into);
    return result;
}

} // namespace cachescope::exec

#pragma once
// gzip on every core: the stream is cut into fixed-size chunks and each chunk becomes one complete
// gzip member, compressed on a worker thread; the members are written in order. A series of members
// is one valid gzip file (RFC 1952 §2.2): Go's compress/gzip reads it as one stream by default
// (Reader.Multistream), and so do containerd, libarchive and gzip -d. Each chunk restarts the deflate
// window, which costs well under 1% of size at 1 MiB chunks.
//
// The output depends only on the bytes, the level and the chunk size, never on the thread count or
// timing, so a layer keeps its blob digest from build to build. Memory stays bounded: at most two
// chunks per worker are in flight.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cachescope::exec {

class ParallelGzip {
public:
    using Sink = std::function<void(const void* data, std::size_t size)>;
    static constexpr std::size_t kDefaultChunk = 1 << 20;

    // level: 0-9, or < 0 for zlib's default (6); threads: 0 = one per core. `sink` is called on the
    // writing thread only (write/close), in stream order.
    ParallelGzip(int level, unsigned threads, Sink sink, std::size_t chunkSize = kDefaultChunk);
    ~ParallelGzip(); // stops the workers; what was not closed is dropped
    ParallelGzip(const ParallelGzip&) = delete;
    ParallelGzip& operator=(const ParallelGzip&) = delete;

    // Throws Error when a worker failed, and what the sink throws.
    void write(const void* data, std::size_t size);
    // Compresses the rest and writes every member. Call once.
    void close();

private:
    struct Job {
        std::string input;
        std::string output;
        bool done = false;
        std::string error;
    };
    void submit();
    void drain(bool all);
    void work();

    int level_;
    std::size_t chunk_;
    Sink sink_;
    std::size_t maxInFlight_;
    std::string current_;
    bool any_ = false;

    std::mutex mutex_;
    std::condition_variable jobReady_;
    std::condition_variable jobDone_;
    std::deque<std::shared_ptr<Job>> order_;   // in stream order, until written
    std::deque<std::shared_ptr<Job>> pending_; // not yet taken by a worker
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

// One chunk as a complete gzip member (no name, mtime 0, so equal bytes give equal members).
std::string gzipMember(const void* data, std::size_t size, int level);

} // namespace cachescope::exec

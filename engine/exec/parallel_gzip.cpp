#include "exec/parallel_gzip.h"

#include "base/error.h"

#include <algorithm>
#include <cstring>
#include <libdeflate.h>

namespace cachescope::exec {

namespace {

// libdeflate compresses a whole buffer at once, which is exactly one member, about twice as fast as
// zlib at the same level. A compressor holds large tables: one per thread and level, reused.
libdeflate_compressor* compressorFor(int level)
{
    struct Compressor {
        int level = -2;
        libdeflate_compressor* c = nullptr;
        ~Compressor() { libdeflate_free_compressor(c); }
    };
    thread_local Compressor cached;
    if (cached.level != level || !cached.c) {
        libdeflate_free_compressor(cached.c);
        cached.c = libdeflate_alloc_compressor(level);
        cached.level = level;
    }
    return cached.c;
}

} // namespace

std::string gzipMember(const void* data, std::size_t size, int level)
{
    // zlib's default level, which gzip and Go's compress/gzip share.
    const int effective = level < 0 ? 6 : level;
    libdeflate_compressor* c = effective <= 9 ? compressorFor(effective) : nullptr;
    if (!c)
        throw Error("gzip: cannot initialise level " + std::to_string(level));
    // The header has mtime 0 and no name: the same bytes give the same member.
    std::string out(libdeflate_gzip_compress_bound(c, size), '\0');
    const std::size_t written = libdeflate_gzip_compress(c, data, size, out.data(), out.size());
    if (written == 0)
        throw Error("gzip: compression failed");
    out.resize(written);
    return out;
}

ParallelGzip::ParallelGzip(int level, unsigned threads, Sink sink, std::size_t chunkSize)
    : level_(level), chunk_(std::max<std::size_t>(chunkSize, 4096)), sink_(std::move(sink))
{
    const unsigned n = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    maxInFlight_ = 2 * static_cast<std::size_t>(n);
    current_.reserve(chunk_);
    for (unsigned i = 0; i < n; ++i)
        workers_.emplace_back([this] { work(); });
}

ParallelGzip::~ParallelGzip()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    jobReady_.notify_all();
    for (auto& t : workers_)
        t.join();
}

void ParallelGzip::work()
{
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock lock(mutex_);
            jobReady_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (pending_.empty())
                return;
            job = std::move(pending_.front());
            pending_.pop_front();
        }
        std::string output, error;
        try {
            output = gzipMember(job->input.data(), job->input.size(), level_);
        } catch (const std::exception& e) {
            error = e.what();
        }
        {
            std::lock_guard lock(mutex_);
            job->output = std::move(output);
            job->error = std::move(error);
            job->input = std::string();
            job->done = true;
        }
        jobDone_.notify_all();
    }
}

void ParallelGzip::write(const void* data, std::size_t size)
{
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const std::size_t n = std::min(size, chunk_ - current_.size());
        current_.append(p, n);
        p += n;
        size -= n;
        if (current_.size() == chunk_)
            submit();
    }
}

void ParallelGzip::submit()
{
    auto job = std::make_shared<Job>();
    job->input = std::move(current_);
    current_ = std::string();
    current_.reserve(chunk_);
    any_ = true;
    {
        std::lock_guard lock(mutex_);
        order_.push_back(job);
        pending_.push_back(std::move(job));
    }
    jobReady_.notify_one();
    drain(false);
}

// Writes finished members from the head of the stream: all of them (all=true), or as many as needed
// to bring the jobs in flight under the limit.
void ParallelGzip::drain(bool all)
{
    for (;;) {
        std::shared_ptr<Job> head;
        {
            std::unique_lock lock(mutex_);
            if (order_.empty() || (!all && order_.size() < maxInFlight_))
                return;
            jobDone_.wait(lock, [&] { return order_.front()->done; });
            head = std::move(order_.front());
            order_.pop_front();
        }
        if (!head->error.empty())
            throw Error(head->error);
        sink_(head->output.data(), head->output.size());
    }
}

void ParallelGzip::close()
{
    if (!current_.empty() || !any_)
        submit(); // an empty stream is still one (empty) member
    drain(true);
}

} // namespace cachescope::exec

#include "base/files.h"

#include "base/error.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace cachescope {

namespace fs = std::filesystem;

namespace {
std::string systemError(const fs::path& path, const char* what)
{
    return path.string() + ": " + what + ": " + std::strerror(errno);
}
} // namespace

std::string readFile(const fs::path& path, std::uintmax_t maxBytes)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(errno == ENOENT ? path.string() + ": file not found" : systemError(path, "cannot open"));
    std::string data;
    char buffer[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            std::string message = systemError(path, "cannot read");
            ::close(fd);
            throw Error(message);
        }
        if (n == 0)
            break;
        if (data.size() + static_cast<std::size_t>(n) > maxBytes) {
            ::close(fd);
            throw Error(path.string() + ": larger than " + std::to_string(maxBytes) + " bytes");
        }
        data.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return data;
}

fs::path temporarySibling(const fs::path& path)
{
    static std::atomic<unsigned> counter{0};
    return path.parent_path() /
           (path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

void writeFileAtomic(const fs::path& path, std::string_view bytes)
{
    if (path.has_parent_path())
        fs::create_directories(path.parent_path());
    const fs::path tmp = temporarySibling(path);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(systemError(tmp, "cannot create"));
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            std::string message = systemError(tmp, "cannot write");
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error(message);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        std::string message = systemError(tmp, "cannot flush");
        ::unlink(tmp.c_str());
        throw Error(message);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string message = systemError(path, "cannot replace");
        ::unlink(tmp.c_str());
        throw Error(message);
    }
}

FileLock::FileLock(const fs::path& lockFile)
{
    if (lockFile.has_parent_path())
        fs::create_directories(lockFile.parent_path());
    fd_ = ::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error(systemError(lockFile, "cannot open lock file"));
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            std::string message = systemError(lockFile, "cannot lock");
            ::close(fd_);
            throw Error(message);
        }
    }
}

FileLock::~FileLock()
{
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

fs::path defaultDataDir()
{
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return fs::path(xdg) / "cachescope";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/tmp") / ".local" / "share" / "cachescope";
}

} // namespace cachescope

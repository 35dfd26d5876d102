#include "exec/unique_fd.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace cachescope::exec {

void UniqueFd::reset(int fd)
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

std::string errnoMessage(const std::string& what, int err)
{
    return what + ": " + std::strerror(err);
}

std::string errnoMessage(const std::string& what)
{
    return errnoMessage(what, errno);
}

} // namespace cachescope::exec

#include "exec/tree_copy.h"

#include "base/error.h"
#include "exec/unique_fd.h"
#include "exec/whiteout.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace cachescope::exec {

namespace fs = std::filesystem;

void copyXattrs(const fs::path& src, const fs::path& dst)
{
    ssize_t len = ::llistxattr(src.c_str(), nullptr, 0);
    if (len <= 0)
        return;
    std::string names(static_cast<std::size_t>(len), '\0');
    len = ::llistxattr(src.c_str(), names.data(), names.size());
    for (ssize_t i = 0; i < len;) {
        std::string n = names.c_str() + i;
        i += static_cast<ssize_t>(n.size()) + 1;
        if (n.empty() || isOverlayXattr(n))
            continue;
        ssize_t vlen = ::lgetxattr(src.c_str(), n.c_str(), nullptr, 0);
        if (vlen < 0)
            continue;
        std::string value(static_cast<std::size_t>(vlen), '\0');
        vlen = ::lgetxattr(src.c_str(), n.c_str(), value.data(), value.size());
        if (vlen >= 0)
            ::lsetxattr(dst.c_str(), n.c_str(), value.data(), static_cast<std::size_t>(vlen), 0); // best effort
    }
}

namespace {

void copyContent(const fs::path& src, const fs::path& dst, off_t size)
{
    UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in.valid())
        throw Error(errnoMessage(src.string()));
    UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out.valid())
        throw Error(errnoMessage(dst.string()));
    off_t left = size;
    while (left > 0) {
        // copy_file_range lets the filesystem share extents (reflinks) where it can.
        ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, static_cast<size_t>(left), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
            n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error(errnoMessage(dst.string() + ": copy"));
        }
        if (n == 0)
            break;
        left -= n;
    }
}

} // namespace

void copyMetadata(const fs::path& src, const struct stat& st, const fs::path& dst)
{
    ::lchown(dst.c_str(), st.st_uid, st.st_gid); // only works with privilege; owners are recorded elsewhere
    copyXattrs(src, dst);
    if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
        ::chmod(dst.c_str(), st.st_mode & 07777);
    if (!S_ISDIR(st.st_mode)) {
        struct timespec times[2] = {st.st_mtim, st.st_mtim};
        ::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
}

void TreeCopier::copyNode(const fs::path& src, const struct stat& st, const fs::path& dst)
{
    if (S_ISDIR(st.st_mode)) {
        if (::mkdir(dst.c_str(), 0700) != 0 && errno != EEXIST)
            throw Error(errnoMessage(dst.string() + ": mkdir"));
        copyMetadata(src, st, dst);
        ::chmod(dst.c_str(), (st.st_mode & 07777) | S_IRWXU);
        dirs_.push_back({dst, static_cast<mode_t>(st.st_mode & 07777), st.st_mtim});
        return;
    }
    // A link costs no inode and no data; across filesystems or where protected_hardlinks refuses
    // (a file the caller does not own), the entry is copied instead.
    if (mode_ == CopyMode::Link && ::link(src.c_str(), dst.c_str()) == 0)
        return;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
        auto key = std::make_pair(st.st_dev, st.st_ino);
        if (auto it = links_.find(key); it != links_.end()) {
            if (::link(it->second.c_str(), dst.c_str()) == 0)
                return;
        }
        links_[key] = dst;
    }
    if (S_ISREG(st.st_mode)) {
        copyContent(src, dst, st.st_size);
    } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<std::size_t>(st.st_size) + 256, '\0');
        ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
        if (n < 0)
            throw Error(errnoMessage(src.string() + ": readlink"));
        target.resize(static_cast<std::size_t>(n));
        if (::symlink(target.c_str(), dst.c_str()) != 0)
            throw Error(errnoMessage(dst.string() + ": symlink"));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
        if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0)
            return; // devices need privilege; the layer apply already noted them
    } else {
        return; // sockets
    }
    copyMetadata(src, st, dst);
}

void TreeCopier::copyTree(const fs::path& src, const fs::path& dst)
{
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0)
        throw Error(errnoMessage(src.string()));
    copyNode(src, st, dst);
    if (!S_ISDIR(st.st_mode))
        return;
    std::vector<std::string> names;
    if (DIR* d = ::opendir(src.c_str())) {
        while (dirent* de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n != "." && n != "..")
                names.push_back(n);
        }
        ::closedir(d);
    }
    for (const auto& n : names)
        copyTree(src / n, dst / n);
}

void TreeCopier::finish()
{
    std::sort(dirs_.begin(), dirs_.end(), [](const auto& a, const auto& b) { return a.path > b.path; });
    for (const auto& d : dirs_) {
        ::chmod(d.path.c_str(), d.mode);
        struct timespec times[2] = {d.mtime, d.mtime};
        ::utimensat(AT_FDCWD, d.path.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    dirs_.clear();
}

} // namespace cachescope::exec

#include "exec/layer_apply.h"

#include "base/error.h"
#include "exec/archive_handle.h"
#include "exec/layer_blob.h"
#include "exec/rooted_path.h"
#include "exec/unique_fd.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <unordered_set>

namespace cachescope::exec {

namespace fs = std::filesystem;
using oci::media::Compression;

namespace {

constexpr std::string_view WhiteoutPrefix = ".wh.";
constexpr std::string_view OpaqueMarker = ".wh..wh..opq";

// Streams the blob into libarchive and hashes it on the way.
struct BlobSource {
    int fd = -1;
    oci::Sha256 hasher;
    std::vector<char> buffer = std::vector<char>(1 << 20);
    int lastErrno = 0;

    static la_ssize_t read(archive* a, void* self, const void** out)
    {
        auto* s = static_cast<BlobSource*>(self);
        for (;;) {
            ssize_t n = ::read(s->fd, s->buffer.data(), s->buffer.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                s->lastErrno = errno;
                archive_set_error(a, errno, "read failed");
                return -1;
            }
            s->hasher.update(s->buffer.data(), static_cast<std::size_t>(n));
            *out = s->buffer.data();
            return n;
        }
    }
    void drain()
    {
        for (;;) {
            ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;
            hasher.update(buffer.data(), static_cast<std::size_t>(n));
        }
    }
};

std::string parentOf(const std::string& clean)
{
    auto slash = clean.rfind('/');
    return slash == std::string::npos ? std::string() : clean.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name)
{
    return dir.empty() ? name : dir + "/" + name;
}

void removeAll(const fs::path& p)
{
    std::error_code ec;
    fs::remove_all(p, ec); // does not follow symlinks
    if (ec)
        throw Error(p.string() + ": cannot remove: " + ec.message());
}

class Applier {
public:
    Applier(fs::path target, std::string layerName, const LayerApplyOptions& options, LayerApplyResult& result)
        : rooted_(std::move(target)), layer_(std::move(layerName)), options_(options), result_(result)
    {
    }

    void entry(archive* a, archive_entry* e)
    {
        const char* rawName = archive_entry_pathname(e);
        std::string name = rawName ? rawName : "";
        try {
            apply(a, e, name);
        } catch (const PathEscape& esc) {
            throw Error("layer " + layer_ + ": entry \"" + name + "\" " + esc.what());
        } catch (const Error& err) {
            throw Error("layer " + layer_ + ": entry \"" + name + "\": " + err.what());
        }
    }

    void finishDirectories()
    {
        // Deepest first, so setting a parent's mtime comes after its children changed it.
        std::sort(dirs_.begin(), dirs_.end(), [](const auto& x, const auto& y) { return x.path > y.path; });
        for (const auto& d : dirs_) {
            ::chmod(d.path.c_str(), d.mode);
            struct timespec times[2] = {d.mtime, d.mtime};
            ::utimensat(AT_FDCWD, d.path.c_str(), times, AT_SYMLINK_NOFOLLOW);
        }
    }

private:
    struct PendingDir {
        fs::path path;
        mode_t mode;
        struct timespec mtime;
    };

    void note(std::string text)
    {
        ++noteCount_;
        if (result_.notes.size() + 1 < options_.maxNotes)
            result_.notes.push_back(std::move(text));
        else if (result_.notes.size() + 1 == options_.maxNotes)
            result_.notes.push_back("… further notes omitted");
    }

    void touch(const std::string& clean)
    {
        touched_.insert(clean);
        for (std::string p = parentOf(clean); !p.empty(); p = parentOf(p))
            if (!ancestors_.insert(p).second)
                break;
    }
    bool touchedHere(const std::string& clean) const { return touched_.count(clean) || ancestors_.count(clean); }

    // Removes what lower layers left in `dir`, keeping what this layer wrote.
    void clearOpaque(const fs::path& dir, const std::string& clean)
    {
        std::vector<std::string> children;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (dirent* de = ::readdir(d)) {
                std::string n = de->d_name;
                if (n != "." && n != "..")
                    children.push_back(n);
            }
            ::closedir(d);
        }
        for (const auto& n : children) {
            std::string child = join(clean, n);
            if (touched_.count(child)) {
                if (fs::is_directory(fs::symlink_status(dir / n)) && ancestors_.count(child))
                    clearOpaque(dir / n, child);
                continue;
            }
            if (ancestors_.count(child)) {
                clearOpaque(dir / n, child);
                continue;
            }
            removeAll(dir / n);
        }
    }

    void apply(archive* a, archive_entry* e, const std::string& name)
    {
        std::string clean = cleanEntryName(name);
        ++result_.entries;
        if (clean.empty())
            return; // "./": the target itself keeps its own metadata
        std::string base = clean.substr(clean.rfind('/') == std::string::npos ? 0 : clean.rfind('/') + 1);

        if (base.starts_with(WhiteoutPrefix)) {
            fs::path parent = rooted_.resolveParent(clean, base == OpaqueMarker);
            if (parent.empty())
                return; // nothing below to hide
            std::string dirClean = parentOf(clean);
            if (base == OpaqueMarker) {
                clearOpaque(parent, dirClean);
                return;
            }
            std::string victim = join(dirClean, base.substr(WhiteoutPrefix.size()));
            if (victim.ends_with("/") || base.size() == WhiteoutPrefix.size())
                throw PathEscape("is a whiteout without a name");
            if (!touchedHere(victim))
                removeAll(parent / base.substr(WhiteoutPrefix.size()));
            return;
        }

        if (options_.keep && !options_.keep(clean))
            return;

        const char* hardlink = archive_entry_hardlink(e);
        const mode_t type = archive_entry_filetype(e);
        std::string linkClean;
        fs::path linkSource;
        if (hardlink) {
            // Resolve the link target before touching anything: refusal writes nothing.
            try {
                linkClean = cleanEntryName(hardlink);
            } catch (const PathEscape& esc) {
                throw PathEscape(std::string("is a hardlink whose target \"") + hardlink + "\" " + esc.what());
            }
            try {
                linkSource = rooted_.resolveEntry(linkClean, false);
            } catch (const PathEscape& esc) {
                throw PathEscape(std::string("is a hardlink whose target \"") + hardlink + "\" " + esc.what());
            }
            struct stat ls {};
            if (linkSource.empty() || ::lstat(linkSource.c_str(), &ls) != 0)
                throw Error(std::string("hardlink target \"") + hardlink + "\" does not exist in the layer or below");
            if (S_ISDIR(ls.st_mode))
                throw Error(std::string("hardlink target \"") + hardlink + "\" is a directory");
        }

        fs::path path = rooted_.resolveEntry(clean, true);
        struct stat existing {};
        bool exists = ::lstat(path.c_str(), &existing) == 0;
        bool keepDir = exists && S_ISDIR(existing.st_mode) && type == AE_IFDIR && !hardlink;
        if (exists && !keepDir)
            removeAll(path);
        touch(clean);

        if (hardlink) {
            if (::link(linkSource.c_str(), path.c_str()) != 0)
                throw Error(errnoMessage("link"));
            return;
        }

        switch (type) {
        case AE_IFDIR:
            if (!keepDir && ::mkdir(path.c_str(), 0700) != 0)
                throw Error(errnoMessage("mkdir"));
            break;
        case AE_IFREG:
            writeFile(a, e, path);
            break;
        case AE_IFLNK: {
            const char* target = archive_entry_symlink(e);
            if (::symlink(target ? target : "", path.c_str()) != 0)
                throw Error(errnoMessage("symlink"));
            break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
            if (::mknod(path.c_str(), (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600, archive_entry_rdev(e)) != 0) {
                if (errno == EPERM || errno == EACCES) {
                    note("device " + clean + " skipped (creating device nodes is not permitted)");
                    return;
                }
                throw Error(errnoMessage("mknod"));
            }
            break;
        case AE_IFIFO:
            if (::mkfifo(path.c_str(), 0600) != 0)
                throw Error(errnoMessage("mkfifo"));
            break;
        default:
            note("entry " + clean + " skipped (sockets and unknown types are not unpacked)");
            return;
        }
        metadata(e, path, clean, type);
    }

    void writeFile(archive* a, archive_entry* e, const fs::path& path)
    {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd.valid())
            throw Error(errnoMessage("create"));
        const void* buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        for (;;) {
            int r = archive_read_data_block(a, &buf, &size, &offset);
            if (r == ARCHIVE_EOF)
                break;
            if (r < ARCHIVE_WARN)
                throw Error(std::string("read: ") + detail::archiveMessage(a));
            const char* p = static_cast<const char*>(buf);
            while (size > 0) {
                ssize_t n = ::pwrite(fd.get(), p, size, offset);
                if (n < 0) {
                    if (errno == EINTR)
                        continue;
                    throw Error(errnoMessage("write"));
                }
                p += n;
                size -= static_cast<size_t>(n);
                offset += n;
                result_.bytes += static_cast<std::uint64_t>(n);
            }
        }
        // Sparse files end in a hole that pwrite never reached.
        if (::ftruncate(fd.get(), archive_entry_size(e)) != 0)
            throw Error(errnoMessage("truncate"));
    }

    void metadata(archive_entry* e, const fs::path& path, const std::string& clean, mode_t type)
    {
        const Owner wanted{static_cast<std::uint32_t>(archive_entry_uid(e)),
                           static_cast<std::uint32_t>(archive_entry_gid(e))};
        if (::lchown(path.c_str(), wanted.uid, wanted.gid) != 0) {
            if (errno != EPERM && errno != EINVAL)
                throw Error(errnoMessage("chown"));
            struct stat st {};
            ::lstat(path.c_str(), &st);
            if (st.st_uid != wanted.uid || st.st_gid != wanted.gid)
                result_.unappliedOwners[clean] = wanted;
        }

        archive_entry_xattr_reset(e);
        const char* xname = nullptr;
        const void* xvalue = nullptr;
        size_t xsize = 0;
        while (archive_entry_xattr_next(e, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
            if (::lsetxattr(path.c_str(), xname, xvalue, xsize, 0) != 0) {
                if (errno == EPERM || errno == ENOTSUP || errno == EACCES || errno == EINVAL)
                    note(std::string("xattr ") + xname + " on " + clean + " skipped (" + std::strerror(errno) + ")");
                else
                    throw Error(errnoMessage(std::string("setxattr ") + xname));
            }
        }

        struct timespec mtime {
            static_cast<time_t>(archive_entry_mtime(e)), static_cast<long>(archive_entry_mtime_nsec(e))
        };
        const mode_t mode = archive_entry_perm(e) & 07777;
        if (type == AE_IFDIR) {
            pendingDir(path, mode, mtime);
            return;
        }
        if (type != AE_IFLNK && ::chmod(path.c_str(), mode) != 0)
            throw Error(errnoMessage("chmod"));
        struct timespec times[2] = {mtime, mtime};
        ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }

    void pendingDir(const fs::path& path, mode_t mode, struct timespec mtime)
    {
        // Writable until the end so later entries can land inside, even unprivileged.
        ::chmod(path.c_str(), mode | S_IRWXU);
        dirs_.push_back({path, mode, mtime});
    }

    RootedPath rooted_;
    std::string layer_;
    const LayerApplyOptions& options_;
    LayerApplyResult& result_;
    std::unordered_set<std::string> touched_;
    std::unordered_set<std::string> ancestors_;
    std::vector<PendingDir> dirs_;
    std::size_t noteCount_ = 0;
};

} // namespace

LayerApplyResult applyLayer(const fs::path& blob, std::string_view mediaType, const oci::Digest& digest,
                            const fs::path& target, const LayerApplyOptions& options)
{
    const std::string layerName = digest.empty() ? blob.string() : digest.str();
    Compression compression;
    try {
        compression = layerReadCompression(blob, mediaType);
    } catch (const Error& e) {
        throw Error("layer " + layerName + ": " + e.what());
    }
    std::error_code ec;
    fs::create_directories(target, ec);
    if (ec)
        throw Error("layer " + layerName + ": " + target.string() + ": " + ec.message());

    LayerApplyResult result;
    const Compression declared = oci::media::layerCompression(mediaType);
    if (!mediaType.empty() && declared != compression && declared != Compression::Unknown)
        result.notes.push_back("media type " + std::string(mediaType) + " does not match the blob's compression");

    UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        throw Error("layer " + layerName + ": " + errnoMessage(blob.string()));
    BlobSource source;
    source.fd = fd.get();

    detail::ArchiveReader a(archive_read_new());
    if (compression == Compression::Gzip)
        archive_read_support_filter_gzip(a.get());
    else if (compression == Compression::Zstd)
        archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_empty(a.get());
    if (archive_read_open(a.get(), &source, nullptr, &BlobSource::read, nullptr) != ARCHIVE_OK)
        throw Error("layer " + layerName + ": " + detail::archiveMessage(a.get()));

    Applier applier(target, layerName, options, result);
    for (;;) {
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            throw Error("layer " + layerName + ": " + detail::archiveMessage(a.get()));
        applier.entry(a.get(), e);
    }
    applier.finishDirectories();
    source.drain();
    result.blobDigest = source.hasher.finish();
    if (options.verifyDigest && !digest.empty() && result.blobDigest != digest)
        throw Error("layer " + layerName + ": content has digest " + result.blobDigest.str() +
                    " (the blob is damaged or not this layer)");
    return result;
}

} // namespace cachescope::exec

#include "exec/layer_writer.h"

#include "base/error.h"
#include "exec/archive_handle.h"
#include "exec/blob_compressor.h"
#include "exec/unique_fd.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cachescope::exec {

namespace fs = std::filesystem;
using oci::media::Compression;

namespace {

// The tar writer: libarchive formats PAX headers; bytes come out through onWrite,
// get hashed for the diffID and passed on.
class TarStream {
public:
    TarStream(IngestBlobFile& file, StreamCompressor* compressor) : file_(file), compressor_(compressor)
    {
        a_.reset(archive_write_new());
        archive* a = a_.get();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_per_block(a, 64 * 1024);
        archive_write_set_bytes_in_last_block(a, 1);
        if (archive_write_open(a, this, nullptr, &TarStream::onWrite, nullptr) != ARCHIVE_OK)
            throw Error(std::string("tar: ") + detail::archiveMessage(a));
    }
    ~TarStream()
    {
        discard_ = true;
        a_.reset();
    }
    archive* get() { return a_.get(); }
    void check(int r, const std::string& what)
    {
        if (r >= ARCHIVE_WARN)
            return;
        if (pending_)
            std::rethrow_exception(pending_);
        throw Error(what + ": " + detail::archiveMessage(a_.get()));
    }
    void close()
    {
        check(archive_write_close(a_.get()), "tar");
        if (compressor_)
            compressor_->close();
    }
    oci::Digest diffId() { return hasher_.finish(); }
    std::uint64_t size() const { return size_; }

private:
    static la_ssize_t onWrite(archive*, void* self, const void* data, size_t size)
    {
        auto* t = static_cast<TarStream*>(self);
        if (t->discard_)
            return static_cast<la_ssize_t>(size);
        try {
            t->hasher_.update(data, size);
            t->size_ += size;
            if (t->compressor_)
                t->compressor_->write(data, size);
            else
                t->file_.write(data, size);
        } catch (...) {
            t->pending_ = std::current_exception();
            return -1;
        }
        return static_cast<la_ssize_t>(size);
    }

    IngestBlobFile& file_;
    StreamCompressor* compressor_;
    oci::Sha256 hasher_;
    std::uint64_t size_ = 0;
    std::exception_ptr pending_;
    bool discard_ = false;
    detail::ArchiveWriter a_;
};

std::vector<std::string> sortedChildren(const fs::path& dir)
{
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        throw Error(errnoMessage(dir.string() + ": opendir"));
    while (dirent* de = ::readdir(d)) {
        std::string n = de->d_name;
        if (n != "." && n != "..")
            names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end()); // byte order, as Go's sort.Strings
    return names;
}

class TreeWriter {
public:
    TreeWriter(fs::path root, TarStream& tar, const LayerWriterOptions& options)
        : root_(std::move(root)), tar_(tar), options_(options), buffer_(1 << 20)
    {
    }

    void writeChildren(const fs::path& dir, const std::string& rel)
    {
        for (const auto& name : sortedChildren(dir)) {
            if (options_.cancel.stop_requested())
                throw Error("layer of " + root_.string() + ": cancelled");
            std::string childRel = rel.empty() ? name : rel + "/" + name;
            writeEntry(dir / name, childRel, name);
        }
    }

    std::uint64_t entries() const { return entries_; }

private:
    void writeEntry(const fs::path& path, const std::string& rel, const std::string& name)
    {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0)
            throw Error(errnoMessage(path.string()));
        if (S_ISSOCK(st.st_mode))
            return; // sockets never go into layers

        detail::ArchiveEntry e(archive_entry_new());
        archive_entry* entry = e.get();
        if (options_.whiteouts == WhiteoutFormat::Overlay && isOverlayWhiteout(st)) {
            std::string parent = rel.substr(0, rel.size() - name.size());
            archive_entry_set_pathname(entry, (parent + std::string(OciWhiteoutPrefix) + name).c_str());
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, 0);
            archive_entry_set_size(entry, 0);
            archive_entry_set_mtime(entry, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
            header(entry, rel);
            return;
        }

        archive_entry_set_pathname(entry, rel.c_str());
        const Owner owner = options_.owners.map(rel, Owner{st.st_uid, st.st_gid});
        archive_entry_set_uid(entry, owner.uid);
        archive_entry_set_gid(entry, owner.gid);
        archive_entry_set_perm(entry, st.st_mode & 07777);
        archive_entry_set_mtime(entry, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        addXattrs(entry, path);

        if (S_ISDIR(st.st_mode)) {
            archive_entry_set_filetype(entry, AE_IFDIR);
            header(entry, rel);
            if (options_.whiteouts == WhiteoutFormat::Overlay && isOverlayOpaque(path)) {
                detail::ArchiveEntry opq(archive_entry_new());
                archive_entry_set_pathname(opq.get(), (rel + "/" + std::string(OciOpaqueMarker)).c_str());
                archive_entry_set_filetype(opq.get(), AE_IFREG);
                archive_entry_set_perm(opq.get(), 0);
                archive_entry_set_size(opq.get(), 0);
                archive_entry_set_mtime(opq.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
                header(opq.get(), rel);
            }
            writeChildren(path, rel);
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            archive_entry_set_filetype(entry, AE_IFLNK);
            archive_entry_set_symlink(entry, readLink(path, st).c_str());
            header(entry, rel);
            return;
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
            archive_entry_set_filetype(entry, S_ISCHR(st.st_mode) ? AE_IFCHR : S_ISBLK(st.st_mode) ? AE_IFBLK : AE_IFIFO);
            archive_entry_set_rdev(entry, st.st_rdev);
            header(entry, rel);
            return;
        }
        archive_entry_set_filetype(entry, AE_IFREG);
        if (st.st_nlink > 1) {
            auto key = std::make_pair(st.st_dev, st.st_ino);
            auto it = links_.find(key);
            if (it != links_.end()) {
                archive_entry_set_hardlink(entry, it->second.c_str());
                archive_entry_set_size(entry, 0);
                header(entry, rel);
                return;
            }
            links_.emplace(key, rel);
        }
        archive_entry_set_size(entry, st.st_size);
        header(entry, rel);
        if (st.st_size > 0) // empty files (OCI whiteouts among them, mode 0) are never opened
            copyData(path, st.st_size);
    }

    void header(archive_entry* entry, const std::string& rel)
    {
        ++entries_;
        tar_.check(archive_write_header(tar_.get(), entry), root_.string() + ": " + rel);
    }

    void copyData(const fs::path& path, off_t size)
    {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd.valid())
            throw Error(errnoMessage(path.string()));
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
        off_t left = size;
        while (left > 0) {
            if (options_.cancel.stop_requested())
                throw Error("layer of " + root_.string() + ": cancelled");
            ssize_t n = ::read(fd.get(), buffer_.data(), std::min<off_t>(left, static_cast<off_t>(buffer_.size())));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                throw Error(errnoMessage(path.string() + ": read"));
            }
            if (n == 0)
                throw Error(path.string() + ": file shrank while it was archived");
            if (archive_write_data(tar_.get(), buffer_.data(), static_cast<size_t>(n)) < 0)
                tar_.check(ARCHIVE_FATAL, path.string());
            left -= n;
        }
    }

    static std::string readLink(const fs::path& path, const struct stat& st)
    {
        std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
        ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
        if (n < 0)
            throw Error(errnoMessage(path.string() + ": readlink"));
        target.resize(static_cast<std::size_t>(n));
        return target;
    }

    static void addXattrs(archive_entry* entry, const fs::path& path)
    {
        ssize_t len = ::llistxattr(path.c_str(), nullptr, 0);
        if (len <= 0)
            return;
        std::string names(static_cast<std::size_t>(len), '\0');
        len = ::llistxattr(path.c_str(), names.data(), names.size());
        if (len <= 0)
            return;
        names.resize(static_cast<std::size_t>(len));
        std::vector<std::string> sorted;
        for (std::size_t i = 0; i < names.size();) {
            std::string n = names.c_str() + i;
            i += n.size() + 1;
            if (!n.empty() && !isOverlayXattr(n) && n != "security.selinux")
                sorted.push_back(n);
        }
        std::sort(sorted.begin(), sorted.end());
        for (const auto& n : sorted) {
            ssize_t vlen = ::lgetxattr(path.c_str(), n.c_str(), nullptr, 0);
            if (vlen < 0)
                continue;
            std::string value(static_cast<std::size_t>(vlen), '\0');
            vlen = ::lgetxattr(path.c_str(), n.c_str(), value.data(), value.size());
            if (vlen < 0)
                continue;
            value.resize(static_cast<std::size_t>(vlen));
            archive_entry_xattr_add_entry(entry, n.c_str(), value.data(), value.size());
        }
    }

    fs::path root_;
    TarStream& tar_;
    const LayerWriterOptions& options_;
    std::vector<char> buffer_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
    std::uint64_t entries_ = 0;
};

} // namespace

LayerWriteResult writeLayer(const fs::path& diffDir, oci::ContentStore& store, const LayerWriterOptions& options)
{
    if (options.compression == Compression::Unknown)
        throw Error("layer of " + diffDir.string() + ": unknown compression");
    struct stat st {};
    if (::stat(diffDir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error("layer of " + diffDir.string() + ": not a directory");

    IngestBlobFile file(store.root());
    std::unique_ptr<StreamCompressor> compressor;
    if (options.compression != Compression::Uncompressed)
        compressor = std::make_unique<StreamCompressor>(options.compression, options.level, options.threads, file);
    TarStream tar(file, compressor.get());
    TreeWriter tree(diffDir, tar, options);
    tree.writeChildren(diffDir, "");
    tar.close();

    LayerWriteResult result;
    result.diffId = tar.diffId();
    result.tarSize = tar.size();
    result.entries = tree.entries();
    result.descriptor.mediaType = layerMediaType(options.compression, options.ociMediaTypes);
    result.descriptor.size = static_cast<std::int64_t>(file.size());
    result.descriptor.digest = file.commit(store);
    result.descriptor.annotations[std::string(oci::media::AnnotationUncompressed)] = result.diffId.str();
    return result;
}

} // namespace cachescope::exec

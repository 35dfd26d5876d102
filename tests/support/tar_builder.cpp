#include "support/tar_builder.h"

#include "base/error.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

namespace cachescope::test {

TarBuilder::TarBuilder(std::filesystem::path path, oci::media::Compression compression) : path_(std::move(path))
{
    a_ = archive_write_new();
    if (compression == oci::media::Compression::Gzip)
        archive_write_add_filter_gzip(a_);
    else if (compression == oci::media::Compression::Zstd)
        archive_write_add_filter_zstd(a_);
    archive_write_set_format_pax_restricted(a_);
    if (archive_write_open_filename(a_, path_.c_str()) != ARCHIVE_OK)
        throw Error("tar builder: " + path_.string() + ": " + archive_error_string(a_));
}

TarBuilder::~TarBuilder()
{
    close();
}

std::filesystem::path TarBuilder::close()
{
    if (a_) {
        archive_write_close(a_);
        archive_write_free(a_);
        a_ = nullptr;
    }
    return path_;
}

void TarBuilder::entry(const std::string& name, unsigned type, const Meta& meta, const std::string* content,
                       const std::string* link, bool hard, unsigned long rdev)
{
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    if (hard) {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, link->c_str());
        archive_entry_set_size(e, 0);
    } else {
        archive_entry_set_filetype(e, type);
        if (link)
            archive_entry_set_symlink(e, link->c_str());
        archive_entry_set_size(e, content ? static_cast<la_int64_t>(content->size()) : 0);
    }
    archive_entry_set_perm(e, meta.mode);
    archive_entry_set_uid(e, meta.uid);
    archive_entry_set_gid(e, meta.gid);
    archive_entry_set_mtime(e, meta.mtime, 0);
    if (rdev)
        archive_entry_set_rdev(e, rdev);
    for (const auto& [k, v] : meta.xattrs)
        archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    if (archive_write_header(a_, e) != ARCHIVE_OK)
        throw Error("tar builder: " + name + ": " + archive_error_string(a_));
    if (content && !content->empty())
        archive_write_data(a_, content->data(), content->size());
    archive_entry_free(e);
}

TarBuilder& TarBuilder::file(const std::string& name, const std::string& content, Meta meta)
{
    entry(name, AE_IFREG, meta, &content, nullptr, false);
    return *this;
}

TarBuilder& TarBuilder::dir(const std::string& name, Meta meta)
{
    entry(name, AE_IFDIR, meta, nullptr, nullptr, false);
    return *this;
}

TarBuilder& TarBuilder::symlink(const std::string& name, const std::string& target, Meta meta)
{
    entry(name, AE_IFLNK, meta, nullptr, &target, false);
    return *this;
}

TarBuilder& TarBuilder::hardlink(const std::string& name, const std::string& target)
{
    entry(name, AE_IFREG, tarMode(0644), nullptr, &target, true);
    return *this;
}

TarBuilder& TarBuilder::charDevice(const std::string& name, unsigned major, unsigned minor, Meta meta)
{
    entry(name, AE_IFCHR, meta, nullptr, nullptr, false, makedev(major, minor));
    return *this;
}

} // namespace cachescope::test

#include "cache/layer_source.h"

#include "base/error.h"
#include "base/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace cachescope::cache {

namespace fs = std::filesystem;

StoreLayerSource::StoreLayerSource(fs::path root) : store_(std::move(root)) {}

std::string StoreLayerSource::describe() const { return "content store " + store_.root().string(); }

bool StoreLayerSource::available(const oci::Descriptor& desc)
{
    const auto size = store_.size(desc.digest);
    return size && (desc.size <= 0 || *size == desc.size);
}

void StoreLayerSource::fetch(const oci::Descriptor& desc, oci::ContentStore& into)
{
    if (into.has(desc.digest))
        return;
    const fs::path from = store_.blobPath(desc.digest);
    if (!available(desc))
        throw Error("blob " + desc.digest.str() + " is missing from " + describe());
    const fs::path to = into.blobPath(desc.digest);
    fs::create_directories(to.parent_path());
    // Link under a temporary name, then rename: the final name never shows a partial blob.
    const fs::path tmp = temporarySibling(to);
    if (::link(from.c_str(), tmp.c_str()) == 0) {
        if (::rename(tmp.c_str(), to.c_str()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            throw Error(to.string() + ": cannot store blob: " + std::strerror(err));
        }
        return;
    }
    // Another filesystem (or links not allowed): copy and verify on the way.
    const int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(from.string() + ": cannot open: " + std::strerror(errno));
    try {
        auto writer = into.openWriter(desc.digest, desc.size > 0 ? desc.size : -1);
        char buffer[256 * 1024];
        ssize_t n;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
            writer->write(buffer, static_cast<std::size_t>(n));
        if (n < 0)
            throw Error(from.string() + ": cannot read: " + std::strerror(errno));
        writer->commit();
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

RegistryLayerSource::RegistryLayerSource(std::shared_ptr<registry::RegistryClient> client, std::string repo)
    : client_(std::move(client)), repo_(std::move(repo))
{
}

std::string RegistryLayerSource::describe() const { return "registry " + client_->host() + "/" + repo_; }

bool RegistryLayerSource::available(const oci::Descriptor& desc)
{
    // Registry results are assumed present by BuildKit; a HEAD keeps a vanished blob out instead
    // of failing the push later.
    try {
        return client_->headBlob(repo_, desc.digest).has_value();
    } catch (const std::exception&) {
        return false;
    }
}

void RegistryLayerSource::fetch(const oci::Descriptor& desc, oci::ContentStore& into)
{
    try {
        client_->fetchBlob(repo_, desc, into);
    } catch (const std::exception& e) {
        rethrowWithContext(describe(), e);
    }
}

} // namespace cachescope::cache

#include "cache/local_blob_provider.h"

#include "base/error.h"
#include "base/files.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"

#include <system_error>

namespace cachescope::cache {

namespace fs = std::filesystem;

LocalBlobProvider::LocalBlobProvider(fs::path src, std::string tag, std::string digest)
    : src_(std::move(src)), tag_(tag.empty() ? "latest" : std::move(tag)), digest_(std::move(digest))
{
}

LocalBlobProvider::LocalBlobProvider(const CacheSpec& spec)
    : LocalBlobProvider(spec.attr("src"), spec.attr("tag", "latest"), spec.attr("digest"))
{
}

std::string LocalBlobProvider::describe() const
{
    if (!digest_.empty())
        return "local cache " + src_.string() + " (digest " + digest_ + ")";
    return "local cache " + src_.string() + " (tag " + tag_ + ")";
}

fs::path LocalBlobProvider::blobPath(const oci::Digest& d) const
{
    return src_ / "blobs" / std::string(d.algorithm()) / std::string(d.hex());
}

oci::Descriptor LocalBlobProvider::resolve()
{
    std::error_code ec;
    if (!fs::is_directory(src_, ec))
        throw Error("directory " + src_.string() + " not found");
    if (!fs::exists(src_ / "index.json", ec))
        throw Error("index.json not found in " + src_.string() + " (not an OCI layout)");
    const oci::OciLayout layout = oci::OciLayout::open(src_);
    const oci::Index index = layout.readIndex();

    if (!digest_.empty()) {
        const oci::Digest want = oci::Digest::parse(digest_);
        // Prefer the index.json entry (it carries the media type); a bare blob is fine too.
        for (const auto& d : index.manifests)
            if (d.digest == want)
                return d;
        auto size = fs::file_size(blobPath(want), ec);
        if (ec)
            throw Error("digest " + want.str() + " not found (no such blob in " + (src_ / "blobs").string() + ")");
        oci::Descriptor d;
        d.digest = want;
        d.size = static_cast<std::int64_t>(size);
        return d;
    }

    if (auto d = layout.findTag(tag_))
        return *d;
    std::string known;
    for (const auto& d : index.manifests) {
        std::string name = d.annotation(oci::media::AnnotationContainerdImageName);
        if (name.empty())
            name = d.annotation(oci::media::AnnotationRefName);
        if (!name.empty())
            known += (known.empty() ? "" : ", ") + name;
    }
    throw Error("tag \"" + tag_ + "\" not found in index.json (" + (known.empty() ? "no tags" : "tags: " + known) + ")");
}

std::string LocalBlobProvider::readBlob(const oci::Descriptor& desc, std::size_t maxBytes)
{
    const fs::path path = blobPath(desc.digest);
    std::error_code ec;
    const auto actual = fs::file_size(path, ec);
    if (ec)
        throw Error("blob " + desc.digest.str() + " is missing (" + path.string() + ")");
    if (desc.size > 0 && actual < static_cast<std::uintmax_t>(desc.size))
        throw Error("blob " + desc.digest.str() + " is truncated: " + std::to_string(actual) + " of " +
                    std::to_string(desc.size) + " bytes");
    if (desc.size > 0 && actual > static_cast<std::uintmax_t>(desc.size))
        throw Error("blob " + desc.digest.str() + " has " + std::to_string(actual) + " bytes, its descriptor says " +
                    std::to_string(desc.size));
    if (actual > maxBytes)
        throw Error("blob " + desc.digest.str() + " is too large (" + std::to_string(actual) + " > " +
                    std::to_string(maxBytes) + ")");
    std::string bytes = readFile(path, maxBytes);
    const oci::Digest got = oci::Digest::of(bytes);
    if (got != desc.digest)
        throw Error("blob " + desc.digest.str() + " does not match its digest (its bytes hash to " + got.str() + ")");
    return bytes;
}

bool LocalBlobProvider::blobExists(const oci::Descriptor& desc)
{
    std::error_code ec;
    return fs::is_regular_file(blobPath(desc.digest), ec);
}

} // namespace cachescope::cache

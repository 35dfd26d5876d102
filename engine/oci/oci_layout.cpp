#include "oci/oci_layout.h"

#include "base/error.h"
#include "base/files.h"
#include "base/go_json.h"
#include "oci/media_types.h"

namespace cachescope::oci {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kLayoutFile = R"({"imageLayoutVersion":"1.0.0"})";
constexpr std::uintmax_t kMaxIndexBytes = 16 * 1024 * 1024;
} // namespace

OciLayout::OciLayout(fs::path dir) : dir_(std::move(dir)), store_(dir_) {}

OciLayout OciLayout::open(const fs::path& dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(dir.string() + ": directory not found");
    if (!fs::exists(dir / "index.json", ec))
        throw Error(dir.string() + ": index.json not found (not an OCI layout)");
    return OciLayout(dir);
}

OciLayout OciLayout::create(const fs::path& dir)
{
    fs::create_directories(dir / "blobs" / "sha256");
    OciLayout layout(dir);
    writeFileAtomic(dir / "oci-layout", kLayoutFile);
    if (!fs::exists(dir / "index.json")) {
        Index empty;
        empty.mediaType = std::string(media::OciIndex);
        writeFileAtomic(dir / "index.json", goJson(empty.toJson()));
    }
    return layout;
}

Index OciLayout::readIndex() const
{
    const fs::path path = dir_ / "index.json";
    return Index::parse(readFile(path, kMaxIndexBytes), path.string());
}

std::optional<Descriptor> OciLayout::findTag(const std::string& tag) const
{
    const Index index = readIndex();
    for (const auto& d : index.manifests)
        if (d.annotation(media::AnnotationContainerdImageName) == tag)
            return d;
    for (const auto& d : index.manifests)
        if (d.annotation(media::AnnotationRefName) == tag)
            return d;
    return std::nullopt;
}

void OciLayout::setTag(const std::string& tag, Descriptor desc)
{
    FileLock lock(dir_ / "index.json.lock");
    Index index;
    if (fs::exists(dir_ / "index.json"))
        index = readIndex();
    index.schemaVersion = 2;
    index.mediaType = std::string(media::OciIndex);
    std::erase_if(index.manifests, [&](const Descriptor& d) {
        return d.annotation(media::AnnotationRefName) == tag &&
               d.annotation(media::AnnotationContainerdImageName).empty();
    });
    desc.annotations[std::string(media::AnnotationRefName)] = tag;
    index.manifests.push_back(std::move(desc));
    writeFileAtomic(dir_ / "oci-layout", kLayoutFile);
    writeFileAtomic(dir_ / "index.json", goJson(index.toJson()));
}

} // namespace cachescope::oci

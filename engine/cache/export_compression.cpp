#include "cache/export_compression.h"

#include "base/error.h"
#include "base/files.h"
#include "exec/blob_compressor.h"
#include "exec/layer_recompress.h"
#include "oci/media_types.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace cachescope::cache {

namespace fs = std::filesystem;
namespace media = oci::media;

namespace {

constexpr std::string_view StargzTocAnnotation = "containerd.io/snapshot/stargz/toc.digest";

bool isEstargz(const oci::Descriptor& d) { return !d.annotation(std::string(StargzTocAnnotation)).empty(); }

std::string compressionOf(const oci::Descriptor& d)
{
    if (isEstargz(d))
        return "estargz";
    switch (media::layerCompression(d.mediaType)) {
    case media::Compression::Uncompressed: return "uncompressed";
    case media::Compression::Gzip: return "gzip";
    case media::Compression::Zstd: return "zstd";
    default: return "unknown (" + d.mediaType + ")";
    }
}

bool matches(const oci::Descriptor& d, const ExportCompression& wanted)
{
    if (wanted.estargz)
        return isEstargz(d);
    // estargz blobs are gzip blobs: they suit compression=gzip as they are (BuildKit's NeedsConversion).
    return media::layerCompression(d.mediaType) == wanted.type;
}

// The record of an earlier conversion: "<digest> <size>" in
// <store>/conversions/<diffID hex>.<compression>[-<level>]; a conversion with a level is recorded
// under both names.
fs::path recordPath(const oci::ContentStore& store, const oci::Digest& diffId, const ExportCompression& wanted)
{
    const std::string level = wanted.level >= 0 ? "-" + std::to_string(wanted.level) : "";
    return store.root() / "conversions" / (std::string(diffId.hex()) + "." + wanted.name() + level);
}

std::optional<oci::Descriptor> earlierConversion(const oci::ContentStore& store, const oci::Digest& diffId,
                                                 const ExportCompression& wanted)
{
    const fs::path p = recordPath(store, diffId, wanted);
    std::error_code ec;
    if (!fs::exists(p, ec))
        return std::nullopt;
    std::istringstream in(readFile(p, 4096));
    std::string digest;
    std::int64_t size = -1;
    if (!(in >> digest >> size))
        return std::nullopt; // a damaged record only costs a new conversion
    oci::Descriptor d;
    try {
        d.digest = oci::Digest::parse(digest);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (store.size(d.digest) != std::optional<std::int64_t>(size))
        return std::nullopt;
    d.size = size;
    d.mediaType = exec::layerMediaType(wanted.type, true);
    return d;
}

// Recompresses one layer's blob into `store` and records the conversion for later exports.
oci::Descriptor convert(const ExportLayer& layer, const std::string& what, const oci::Digest& diffId,
                        const ExportCompression& wanted, oci::ContentStore& store, std::stop_token cancel)
{
    const oci::Descriptor& d = layer.descriptor;
    const oci::ContentStore* local = layer.source ? layer.source->localStore() : nullptr;
    fs::path blob;
    if (local && local->has(d.digest)) {
        blob = local->blobPath(d.digest);
    } else {
        if (!layer.source)
            throw Error(what + ": no source to read the blob from");
        layer.source->fetch(d, store); // a lazy blob is pulled now, as BuildKit unlazies it
        blob = store.blobPath(d.digest);
    }
    exec::RecompressOptions ro;
    ro.compression = wanted.type;
    ro.level = wanted.level;
    ro.cancel = cancel;
    exec::RecompressResult r;
    try {
        r = exec::recompressLayer(blob, diffId, store, ro);
    } catch (const std::exception& e) {
        rethrowWithContext(what + " to " + wanted.name(), e);
    }
    const std::string record = r.descriptor.digest.str() + " " + std::to_string(r.descriptor.size) + "\n";
    writeFileAtomic(recordPath(store, diffId, wanted), record);
    if (wanted.level >= 0) { // also serves a later export that names no level (BuildKit takes any level)
        ExportCompression anyLevel = wanted;
        anyLevel.level = -1;
        writeFileAtomic(recordPath(store, diffId, anyLevel), record);
    }
    return r.descriptor;
}

} // namespace

CompressionOutcome applyExportCompression(ExportGraph& graph, const ExportCompression& wanted, oci::ContentStore& store,
                                          const ExportProgress& progress, std::stop_token cancel)
{
    CompressionOutcome outcome;
    auto converted = std::make_shared<StoreLayerSource>(store.root());
    std::map<oci::Digest, oci::Descriptor> done; // original blob -> its blob in the requested compression
    for (ExportRecord& record : graph.records) {
        for (ExportResult& result : record.results) {
            if (result.blobsAsImported)
                continue; // a remote-only imported result goes exactly as it was imported
            for (ExportLayer& layer : result.layers) {
                oci::Descriptor& d = layer.descriptor;
                // A blob this build wrote has the writer's default level: an explicit compression-level
                // recompresses it too, as BuildKit creates such blobs at that level.
                const bool relevel = layer.created && wanted.level >= 0 && !wanted.estargz;
                const bool suits = matches(d, wanted) && !relevel;
                if (suits && (wanted.level < 0 || wanted.estargz))
                    continue;
                if (const auto it = done.find(d.digest); it != done.end()) {
                    d.mediaType = it->second.mediaType;
                    d.digest = it->second.digest;
                    d.size = it->second.size;
                    layer.source = converted;
                    continue;
                }
                const std::string what = "layer " + d.digest.str() + " (" + compressionOf(d) + ")";
                const std::string diffText = d.annotation(std::string(media::AnnotationUncompressed));
                if (diffText.empty()) {
                    if (suits)
                        continue;
                    throw Error(what + ": no " + std::string(media::AnnotationUncompressed) +
                                " annotation, so its diffID is unknown");
                }
                const oci::Digest diffId = oci::Digest::parse(diffText);
                std::optional<oci::Descriptor> to;
                if (!wanted.estargz)
                    to = earlierConversion(store, diffId, wanted);
                if (to) {
                    ++outcome.reused;
                } else {
                    if (suits || (!layer.created && !wanted.force))
                        continue; // an existing blob goes as it is unless forced
                    if (wanted.estargz)
                        throw Error(what + ": converting to estargz is not supported: an estargz blob needs a "
                                           "table of contents and one gzip member per file chunk, which the layer "
                                           "writer does not produce (use compression=gzip or zstd)");
                    to = convert(layer, what, diffId, wanted, store, cancel);
                    ++outcome.converted;
                    if (progress)
                        progress("converting " + what + " to " + wanted.name() + ": " + to->digest.str());
                }
                done.emplace(d.digest, *to);
                d.mediaType = to->mediaType;
                d.digest = to->digest;
                d.size = to->size;
                layer.source = converted;
            }
        }
    }
    return outcome;
}

} // namespace cachescope::cache

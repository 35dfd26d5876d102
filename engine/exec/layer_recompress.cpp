#include "exec/layer_recompress.h"

#include "base/error.h"
#include "exec/blob_compressor.h"
#include "exec/layer_blob.h"

#include <memory>

namespace cachescope::exec {

RecompressResult recompressLayer(const std::filesystem::path& blob, const oci::Digest& expectedDiffId,
                                 oci::ContentStore& into, const RecompressOptions& options)
{
    using oci::media::Compression;
    if (options.compression == Compression::Unknown)
        throw Error("recompress " + blob.string() + ": unknown target compression");
    IngestBlobFile file(into.root());
    std::unique_ptr<StreamCompressor> compressor;
    if (options.compression != Compression::Uncompressed)
        compressor = std::make_unique<StreamCompressor>(options.compression, options.level, options.threads, file);
    oci::Sha256 tarHash;
    RecompressResult result;
    readUncompressed(blob, [&](const char* data, std::size_t size) {
        if (options.cancel.stop_requested())
            throw Error("recompress " + blob.string() + ": cancelled");
        tarHash.update(data, size);
        result.tarSize += size;
        if (compressor)
            compressor->write(data, size);
        else
            file.write(data, size);
    });
    if (compressor)
        compressor->close();
    result.diffId = tarHash.finish();
    if (!expectedDiffId.empty() && result.diffId != expectedDiffId)
        throw Error("recompress " + blob.string() + ": its tar hashes to " + result.diffId.str() +
                    ", the layer's diffID is " + expectedDiffId.str());
    result.descriptor.mediaType = layerMediaType(options.compression, options.ociMediaTypes);
    result.descriptor.size = static_cast<std::int64_t>(file.size());
    result.descriptor.digest = file.commit(into);
    return result;
}

} // namespace cachescope::exec

#pragma once
// The BuildKit cache config v0 (application/vnd.buildkit.cacheconfig.v0), field for field as
// BuildKit's Go structs (spec §1.1), with a parser and a serialiser that reproduces Go's bytes.
#include "cache/timestamp.h"
#include "oci/digest.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::cache {

// Only gha/s3/azblob write these (they have no manifest to carry descriptors).
struct LayerAnnotations {
    std::string mediaType;
    oci::Digest diffId;
    std::int64_t size = 0;
    Timestamp createdAt; // always written, zero time when unknown
};

struct Layer {
    oci::Digest blob;
    // Index of the layer below; -1 = none. A missing "parent" key means 0 (Go omitempty on an int).
    int parent = 0;
    std::optional<LayerAnnotations> annotations;
};

// A result given by its top layer; the chain follows `parent` down to -1.
struct Result {
    int layer = 0;
    Timestamp createdAt;
};

// A result given as an explicit bottom-first list of layers (inline cache, COPY --link).
struct Chain {
    std::vector<int> layers;
    Timestamp createdAt;
};

struct Input {
    std::string selector; // a digest string or empty
    int link = 0;         // index into records
};

struct Record {
    std::vector<Result> results; // JSON "layers"
    std::vector<Chain> chains;   // JSON "chains"
    oci::Digest digest;
    std::vector<std::vector<Input>> inputs; // per input index, the alternatives
};

struct CacheConfig {
    std::vector<Layer> layers;
    std::vector<Record> records;
};

// Parses a cache config. Structure only: indexes are checked when the key graph is built.
// Throws Error("<what>: <path>: <cause>"), e.g. "config sha256:…: records[3].digest: invalid digest".
CacheConfig parseCacheConfig(std::string_view json, const std::string& what);
// The inline form (moby.buildkit.cache.v0): a bare array of records, no layers.
std::vector<Record> parseInlineRecords(std::string_view json, const std::string& what);

// Go encoding/json output of the structs: compact, field order, omitempty as BuildKit's tags say.
std::string serializeCacheConfig(const CacheConfig& config);
std::string serializeInlineRecords(const std::vector<Record>& records);

} // namespace cachescope::cache

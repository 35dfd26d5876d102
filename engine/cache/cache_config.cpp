#include "cache/cache_config.h"

#include "base/go_json.h"
#include "cache/json_cursor.h"

#include <nlohmann/json.hpp>

namespace cachescope::cache {

namespace {

using J = JsonCursor;

// Go leaves a field untouched when its JSON value is null; so do we.
template <class F>
void unlessNull(J& c, F&& read)
{
    if (!c.tryNull())
        read();
}

oci::Digest readDigest(J& c, std::string& scratch)
{
    c.readString(scratch);
    if (scratch.empty())
        return {};
    auto d = oci::Digest::tryParse(scratch);
    if (!d)
        c.fail("invalid digest \"" + scratch + "\"");
    return std::move(*d);
}

Timestamp readTime(J& c, std::string& scratch)
{
    c.readString(scratch);
    std::string where = c.path();
    return Timestamp::parse(scratch, c.what() + (where.empty() ? "" : ": " + where));
}

LayerAnnotations readLayerAnnotations(J& c, std::string& scratch)
{
    LayerAnnotations a;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "mediaType"))
            unlessNull(c, [&] { c.readString(a.mediaType); });
        else if (J::keyIs(key, "diffID"))
            unlessNull(c, [&] { a.diffId = readDigest(c, scratch); });
        else if (J::keyIs(key, "size"))
            unlessNull(c, [&] { a.size = c.readInteger(); });
        else if (J::keyIs(key, "createdAt"))
            unlessNull(c, [&] { a.createdAt = readTime(c, scratch); });
        else
            c.skipValue();
    });
    return a;
}

Layer readLayer(J& c, std::string& scratch)
{
    Layer l;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "blob"))
            unlessNull(c, [&] { l.blob = readDigest(c, scratch); });
        else if (J::keyIs(key, "parent"))
            unlessNull(c, [&] { l.parent = c.readInt(); });
        else if (J::keyIs(key, "annotations")) {
            if (c.tryNull())
                l.annotations.reset();
            else
                l.annotations = readLayerAnnotations(c, scratch);
        } else
            c.skipValue();
    });
    return l;
}

Result readResult(J& c, std::string& scratch)
{
    Result r;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "layer"))
            unlessNull(c, [&] { r.layer = c.readInt(); });
        else if (J::keyIs(key, "createdAt"))
            unlessNull(c, [&] { r.createdAt = readTime(c, scratch); });
        else
            c.skipValue();
    });
    return r;
}

Chain readChain(J& c, std::string& scratch)
{
    Chain ch;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "layers"))
            unlessNull(c, [&] {
                ch.layers.clear();
                c.readArray([&](std::size_t) { ch.layers.push_back(c.readInt()); });
            });
        else if (J::keyIs(key, "createdAt"))
            unlessNull(c, [&] { ch.createdAt = readTime(c, scratch); });
        else
            c.skipValue();
    });
    return ch;
}

Input readInput(J& c)
{
    Input in;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "selector"))
            unlessNull(c, [&] { c.readString(in.selector); });
        else if (J::keyIs(key, "link"))
            unlessNull(c, [&] { in.link = c.readInt(); });
        else
            c.skipValue();
    });
    return in;
}

Record readRecord(J& c, std::string& scratch)
{
    Record rec;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "layers")) {
            unlessNull(c, [&] {
                rec.results.clear();
                c.readArray([&](std::size_t) { rec.results.push_back(readResult(c, scratch)); });
            });
        } else if (J::keyIs(key, "chains")) {
            unlessNull(c, [&] {
                rec.chains.clear();
                c.readArray([&](std::size_t) { rec.chains.push_back(readChain(c, scratch)); });
            });
        } else if (J::keyIs(key, "digest")) {
            unlessNull(c, [&] { rec.digest = readDigest(c, scratch); });
        } else if (J::keyIs(key, "inputs")) {
            unlessNull(c, [&] {
                rec.inputs.clear();
                c.readArray([&](std::size_t) {
                    auto& alternatives = rec.inputs.emplace_back();
                    unlessNull(c, [&] { c.readArray([&](std::size_t) { alternatives.push_back(readInput(c)); }); });
                });
            });
        } else {
            c.skipValue();
        }
    });
    return rec;
}

void readRecords(J& c, std::vector<Record>& out, std::string& scratch)
{
    out.clear();
    c.readArray([&](std::size_t) { out.push_back(readRecord(c, scratch)); });
}

// Serialisation, in Go struct field order with BuildKit's omitempty tags.
using OJ = nlohmann::ordered_json;

OJ recordJson(const Record& r)
{
    OJ j = OJ::object();
    if (!r.results.empty()) {
        OJ arr = OJ::array();
        for (const auto& res : r.results) {
            OJ o;
            o["layer"] = res.layer;
            o["createdAt"] = res.createdAt.text; // a struct: omitempty never drops it
            arr.push_back(std::move(o));
        }
        j["layers"] = std::move(arr);
    }
    if (!r.chains.empty()) {
        OJ arr = OJ::array();
        for (const auto& ch : r.chains) {
            OJ o;
            o["layers"] = ch.layers;
            o["createdAt"] = ch.createdAt.text;
            arr.push_back(std::move(o));
        }
        j["chains"] = std::move(arr);
    }
    if (!r.digest.empty())
        j["digest"] = r.digest.str();
    if (!r.inputs.empty()) {
        OJ inputs = OJ::array();
        for (const auto& alternatives : r.inputs) {
            OJ alts = OJ::array();
            for (const auto& in : alternatives) {
                OJ o;
                if (!in.selector.empty())
                    o["selector"] = in.selector;
                o["link"] = in.link;
                alts.push_back(std::move(o));
            }
            inputs.push_back(std::move(alts));
        }
        j["inputs"] = std::move(inputs);
    }
    return j;
}

OJ layerJson(const Layer& l)
{
    OJ j = OJ::object();
    if (!l.blob.empty())
        j["blob"] = l.blob.str();
    if (l.parent != 0) // the omitempty trap: parent 0 is not written
        j["parent"] = l.parent;
    if (l.annotations) {
        OJ a = OJ::object();
        if (!l.annotations->mediaType.empty())
            a["mediaType"] = l.annotations->mediaType;
        if (!l.annotations->diffId.empty())
            a["diffID"] = l.annotations->diffId.str();
        if (l.annotations->size != 0)
            a["size"] = l.annotations->size;
        a["createdAt"] = l.annotations->createdAt.text;
        j["annotations"] = std::move(a);
    }
    return j;
}

} // namespace

CacheConfig parseCacheConfig(std::string_view json, const std::string& what)
{
    CacheConfig config;
    JsonCursor c(json, what);
    std::string scratch;
    c.readObject([&](std::string_view key) {
        if (J::keyIs(key, "layers")) {
            unlessNull(c, [&] {
                config.layers.clear();
                c.readArray([&](std::size_t) { config.layers.push_back(readLayer(c, scratch)); });
            });
        } else if (J::keyIs(key, "records")) {
            unlessNull(c, [&] { readRecords(c, config.records, scratch); });
        } else {
            c.skipValue();
        }
    });
    c.expectEnd();
    return config;
}

std::vector<Record> parseInlineRecords(std::string_view json, const std::string& what)
{
    std::vector<Record> records;
    JsonCursor c(json, what);
    std::string scratch;
    unlessNull(c, [&] { readRecords(c, records, scratch); });
    c.expectEnd();
    return records;
}

std::string serializeCacheConfig(const CacheConfig& config)
{
    OJ j = OJ::object();
    if (!config.layers.empty()) {
        OJ layers = OJ::array();
        for (const auto& l : config.layers)
            layers.push_back(layerJson(l));
        j["layers"] = std::move(layers);
    }
    if (!config.records.empty()) {
        OJ records = OJ::array();
        for (const auto& r : config.records)
            records.push_back(recordJson(r));
        j["records"] = std::move(records);
    }
    return goJson(j);
}

std::string serializeInlineRecords(const std::vector<Record>& records)
{
    // A nil slice marshals as null in Go; BuildKit never writes an empty inline cache.
    if (records.empty())
        return "null";
    OJ arr = OJ::array();
    for (const auto& r : records)
        arr.push_back(recordJson(r));
    return goJson(arr);
}

} // namespace cachescope::cache

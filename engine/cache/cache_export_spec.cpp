#include "cache/cache_export_spec.h"

#include "base/error.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

namespace cachescope::cache {

namespace media = oci::media;

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    return s;
}

// Go's strconv.ParseBool.
std::optional<bool> parseGoBool(const std::string& v)
{
    if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True")
        return true;
    if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
        return false;
    return std::nullopt;
}

} // namespace

std::string ExportCompression::name() const
{
    if (estargz)
        return "estargz";
    switch (type) {
    case media::Compression::Uncompressed: return "uncompressed";
    case media::Compression::Zstd: return "zstd";
    default: return "gzip";
    }
}

std::string CacheExportSpec::displayName() const
{
    if (type == "local")
        return "local cache export " + dest + " (tag " + tag + ")";
    if (type == "registry")
        return "registry cache export " + ref;
    return type + " cache export";
}

CacheExportSpec parseCacheExportSpec(std::string_view text)
{
    const std::string where = "cache export " + quoted(text) + ": ";
    CacheExportSpec spec;
    spec.raw = std::string(text);
    std::vector<std::string> fields;
    try {
        fields = splitCsvFields(text);
    } catch (const Error& e) {
        throw Error(where + e.what());
    }
    std::map<std::string, std::string> attrs;
    if (fields.size() == 1 && fields[0].find('=') == std::string::npos && !fields[0].empty()) {
        // buildx's shorthand: a bare ref is a registry target.
        spec.type = "registry";
        attrs["ref"] = fields[0];
    } else {
        for (const auto& field : fields) {
            const auto eq = field.find('=');
            if (eq == std::string::npos)
                throw Error(where + "field " + quoted(field) + " is not key=value");
            std::string key = lower(field.substr(0, eq));
            if (key == "type")
                spec.type = field.substr(eq + 1);
            else
                attrs[key] = field.substr(eq + 1);
        }
    }
    const auto get = [&](const std::string& key) -> std::optional<std::string> {
        auto it = attrs.find(key);
        return it == attrs.end() ? std::nullopt : std::optional<std::string>(it->second);
    };

    if (spec.type.empty())
        throw Error(where + "type required (type=local, type=registry or type=inline)");
    if (spec.type == "local") {
        spec.dest = get("dest").value_or("");
        if (spec.dest.empty())
            throw Error(where + "type=local needs dest=<directory>");
        if (auto t = get("tag"); t && !t->empty())
            spec.tag = *t;
    } else if (spec.type == "registry") {
        spec.ref = get("ref").value_or("");
        if (spec.ref.empty())
            throw Error(where + "type=registry needs ref=<image reference>");
    } else if (spec.type == "inline") {
        // Nothing to configure: inline cache always exports mode=min into the image config.
    } else if (spec.type == "gha" || spec.type == "s3" || spec.type == "azblob") {
        throw Error(where + "type=" + spec.type + " is not supported yet (supported: local, registry, inline)");
    } else {
        throw Error(where + "unknown cache type " + quoted(spec.type) + " (expected local, registry or inline)");
    }

    // BuildKit (control.go) treats every mode but "max" as min without complaint.
    spec.mode = get("mode") == std::optional<std::string>("max") ? ExportMode::Max : ExportMode::Min;

    const auto boolAttr = [&](const std::string& key, bool fallback) {
        auto v = get(key);
        if (!v)
            return fallback;
        auto b = parseGoBool(*v);
        if (!b)
            throw Error(where + "non-bool value " + *v + " specified for " + key);
        return *b;
    };
    const auto ociGiven = get("oci-mediatypes");
    spec.ociMediaTypes = boolAttr("oci-mediatypes", true);
    // Since BuildKit v0.22 an explicit oci-mediatypes=false turns the default form into the index.
    spec.imageManifest = boolAttr("image-manifest", !(ociGiven && !spec.ociMediaTypes));
    if (spec.type != "inline" && spec.imageManifest && !spec.ociMediaTypes)
        throw Error(where + "invalid configuration for remote cache, OCI mediatypes are required for "
                            "image-manifest cache format");

    if (auto c = get("compression")) {
        if (*c == "gzip")
            spec.compression.type = media::Compression::Gzip;
        else if (*c == "zstd")
            spec.compression.type = media::Compression::Zstd;
        else if (*c == "uncompressed")
            spec.compression.type = media::Compression::Uncompressed;
        else if (*c == "estargz") {
            spec.compression.type = media::Compression::Gzip;
            spec.compression.estargz = true;
        } else
            throw Error(where + "unsupported compression type " + *c);
    }
    if (auto l = get("compression-level")) {
        int level = 0;
        const char* end = l->data() + l->size();
        auto [p, ec] = std::from_chars(l->data(), end, level);
        if (l->empty() || ec != std::errc() || p != end)
            throw Error(where + "non-integer value " + *l + " specified for compression-level");
        spec.compression.level = level;
    }
    if (auto f = get("force-compression")) {
        // An empty value means true (BuildKit's attrs parsing).
        if (f->empty())
            spec.compression.force = true;
        else
            spec.compression.force = boolAttr("force-compression", false);
    }
    spec.ignoreError = boolAttr("ignore-error", false);
    spec.exportOnFailure = boolAttr("export-on-failure", false);
    if (spec.exportOnFailure && spec.type == "inline")
        throw Error(where + "export-on-failure does not apply to type=inline (a failed build writes no image)");
    if (auto v = get("registry.insecure")) {
        if (*v != "true" && *v != "false")
            throw Error(where + "registry.insecure=" + *v + " is not true or false");
        spec.insecure = *v == "true";
    }
    return spec;
}

} // namespace cachescope::cache

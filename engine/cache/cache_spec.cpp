#include "cache/cache_spec.h"

#include "base/error.h"
#include "oci/digest.h"

#include <algorithm>

namespace cachescope::cache {

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    return s;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A field-only validation: what each type needs to be usable for import.
void validate(const CacheSpec& spec)
{
    const std::string where = "cache source " + quoted(spec.raw) + ": ";
    if (spec.type == "local") {
        if (spec.attr("src").empty())
            throw Error(where + "type=local needs src=<directory>");
        if (spec.has("digest") && !oci::Digest::tryParse(spec.attr("digest")))
            throw Error(where + "digest=" + spec.attr("digest") + " is not a sha256 digest (sha256:<64 hex>)");
    } else if (spec.type == "registry") {
        if (spec.attr("ref").empty())
            throw Error(where + "type=registry needs ref=<image reference>");
        const std::string insecure = spec.attr("registry.insecure", "false");
        if (insecure != "true" && insecure != "false")
            throw Error(where + "registry.insecure=" + insecure + " is not true or false");
    } else if (spec.type == "inline") {
        // Inline cache is read from an image; buildx passes the image as a registry ref.
        if (spec.attr("ref").empty())
            throw Error(where + "type=inline needs ref=<image reference> to import (inline cache lives in an image)");
    } else if (spec.type == "gha" || spec.type == "s3" || spec.type == "azblob") {
        throw Error(where + "type=" + spec.type + " is not supported yet (supported: registry, local, inline)");
    } else {
        throw Error(where + "unknown cache type " + quoted(spec.type) + " (expected registry, local or inline)");
    }
}

} // namespace

std::string CacheSpec::attr(const std::string& key, const std::string& fallback) const
{
    auto it = attrs.find(key);
    return it == attrs.end() ? fallback : it->second;
}

std::string CacheSpec::displayName() const
{
    if (type == "local") {
        std::string name = "local cache " + attr("src");
        if (has("digest"))
            return name + " (digest " + attr("digest") + ")";
        return name + " (tag " + attr("tag", "latest") + ")";
    }
    if (type == "registry" || type == "inline")
        return type + " cache " + attr("ref");
    return type + " cache " + raw;
}

std::vector<std::string> splitCsvFields(std::string_view line)
{
    // encoding/csv with default settings: ',' separates, a field that starts with '"' is quoted
    // and "" inside it is one quote; a quote inside an unquoted field is an error, as is text
    // between a closing quote and the next comma.
    std::vector<std::string> fields;
    std::size_t i = 0;
    const auto column = [&](std::size_t at) { return std::to_string(at + 1); };
    while (true) {
        std::string field;
        if (i < line.size() && line[i] == '"') {
            ++i;
            while (true) {
                if (i >= line.size())
                    throw Error("column " + column(i) + ": extraneous or missing \" in quoted-field");
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += line[i++];
            }
            if (i < line.size() && line[i] != ',')
                throw Error("column " + column(i) + ": extraneous or missing \" in quoted-field");
        } else {
            while (i < line.size() && line[i] != ',') {
                if (line[i] == '"')
                    throw Error("column " + column(i) + ": bare \" in non-quoted-field");
                field += line[i++];
            }
        }
        fields.push_back(std::move(field));
        if (i >= line.size())
            break;
        ++i; // the comma
    }
    return fields;
}

CacheSpec parseCacheSpec(std::string_view text)
{
    CacheSpec spec;
    spec.raw = std::string(text);
    std::vector<std::string> fields;
    try {
        fields = splitCsvFields(text);
    } catch (const Error& e) {
        throw Error("cache source " + quoted(text) + ": " + e.what());
    }
    if (fields.size() == 1 && fields[0].find('=') == std::string::npos) {
        if (fields[0].empty())
            throw Error("cache source " + quoted(text) + ": empty");
        spec.type = "registry";
        spec.attrs["ref"] = fields[0];
        validate(spec);
        return spec;
    }
    for (const auto& field : fields) {
        auto eq = field.find('=');
        if (eq == std::string::npos)
            throw Error("cache source " + quoted(text) + ": field " + quoted(field) + " is not key=value");
        std::string key = lower(field.substr(0, eq));
        std::string value = field.substr(eq + 1);
        if (key == "type")
            spec.type = value;
        else
            spec.attrs[key] = value;
    }
    if (spec.type.empty())
        throw Error("cache source " + quoted(text) + ": type required (type=registry, type=local or type=inline)");
    validate(spec);
    return spec;
}

std::vector<CacheSpec> parseCacheSpecs(std::string_view text)
{
    if (text.empty())
        return {};
    if (text.find('=') == std::string_view::npos) {
        // The shorthand: every CSV field is a registry ref of its own.
        std::vector<std::string> refs;
        try {
            refs = splitCsvFields(text);
        } catch (const Error& e) {
            throw Error("cache source " + quoted(text) + ": " + e.what());
        }
        std::vector<CacheSpec> specs;
        for (const auto& ref : refs) {
            if (ref.empty())
                continue;
            CacheSpec spec;
            spec.raw = ref;
            spec.type = "registry";
            spec.attrs["ref"] = ref;
            specs.push_back(std::move(spec));
        }
        return specs;
    }
    return {parseCacheSpec(text)};
}

} // namespace cachescope::cache

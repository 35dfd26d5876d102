#pragma once
// Image manifests and indexes (OCI and Docker), and telling them apart.
#include "oci/descriptor.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cachescope::oci {

enum class ManifestKind { Manifest, Index };

// Decides from the JSON whether a blob is a manifest or an index, the way BuildKit does:
// `mediaType` when present, else the structure (`manifests` => index, `config`/`layers` => manifest).
// Throws Error naming `what` when it is neither, or both.
ManifestKind detectManifestKind(const nlohmann::json& j, const std::string& what);

struct Manifest {
    int schemaVersion = 2;
    std::string mediaType; // may be empty in old OCI manifests
    std::string artifactType;
    Descriptor config;
    std::vector<Descriptor> layers;
    std::map<std::string, std::string> annotations;

    static Manifest parse(std::string_view bytes, const std::string& what);
    static Manifest fromJson(const nlohmann::json& j, const std::string& what);
    nlohmann::ordered_json toJson() const;
};

struct Index {
    int schemaVersion = 2;
    std::string mediaType;
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations;

    static Index parse(std::string_view bytes, const std::string& what);
    static Index fromJson(const nlohmann::json& j, const std::string& what);
    nlohmann::ordered_json toJson() const;
};

// Parses JSON, turning a syntax error into Error("<what>: invalid JSON: …").
nlohmann::json parseJson(std::string_view bytes, const std::string& what);

} // namespace cachescope::oci

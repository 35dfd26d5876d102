#pragma once
// Resolves the images a build names (FROM, COPY --from=<image>) to what BuildKit keys them by: the
// top-level manifest (or index) digest, and the image config of the requested platform (diffIDs for the
// layer-chain key; env, workdir, user, shell and ONBUILD for the frontend). Images come from their
// registry, or from a named context: `--build-context NAME=docker-image://REF` (another reference) or
// `--build-context NAME=oci-layout://DIR[:TAG|@DIGEST]` (an OCI layout on disk).
#include "dockerfile/stages.h"
#include "registry/registry_client.h"
#include "solver/source_op.h"

#include "oci/descriptor.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cachescope::solver {

struct ResolvedImage {
    ImageSource source;
    dockerfile::BaseImage base;
    std::string origin; // where it came from, for reports ("registry 127.0.0.1:5000", "oci-layout DIR")
    // Where the layer blobs are, for builds that need the files: the platform manifest's layers and
    // config, and either an OCI layout directory or a registry host + repository.
    std::vector<oci::Descriptor> layers;
    std::string configBytes;
    std::filesystem::path layoutDir;
    std::string registryHost;
    std::string registryRepo;
};

class ImageResolver {
public:
    // namedContexts: NAME -> source text as given to --build-context.
    explicit ImageResolver(std::map<std::string, std::string> namedContexts = {},
                           registry::RegistryOptions options = {});

    // Throws Error naming the image and the cause (unknown tag, no manifest for the platform, bad layout).
    // Results are memoised per (name, platform).
    const ResolvedImage& resolve(const std::string& name, const dockerfile::Platform& platform);

    // The named context for a Dockerfile image name, if one was given (exact name, else same normalised
    // reference). Empty when none.
    std::string namedContextFor(const std::string& name) const;

    // Every image resolved so far, by the name the Dockerfile used.
    const std::map<std::string, ResolvedImage>& resolved() const { return byName_; }

    // Parses an image config blob into the frontend's view and its diffIDs. Throws Error("<what>: …").
    static void readConfig(const std::string& bytes, const std::string& what, ResolvedImage& out);

private:
    ResolvedImage fromRegistry(const std::string& ref, const dockerfile::Platform& platform);
    ResolvedImage fromLayout(const std::string& spec, const dockerfile::Platform& platform);

    std::map<std::string, std::string> named_;
    registry::RegistryOptions options_;
    std::map<std::string, ResolvedImage> cache_;  // key: name + " " + platform
    std::map<std::string, ResolvedImage> byName_;
    std::mutex mutex_;
};

} // namespace cachescope::solver

#include "build/image_writer.h"

#include "base/error.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace cachescope::build {

namespace fs = std::filesystem;

std::string imageConfigJson(const ImageInput& image)
{
    using J = nlohmann::ordered_json;
    J cfg = J::object();
    const auto& c = image.config;
    if (!c.user.empty())
        cfg["User"] = c.user;
    if (!c.exposedPorts.empty()) {
        J ports = J::object();
        for (const auto& p : c.exposedPorts)
            ports[p] = J::object();
        cfg["ExposedPorts"] = ports;
    }
    if (!c.env.empty())
        cfg["Env"] = c.env;
    if (!c.entrypoint.empty())
        cfg["Entrypoint"] = c.entrypoint;
    if (!c.cmd.empty())
        cfg["Cmd"] = c.cmd;
    if (!c.volumes.empty()) {
        J v = J::object();
        for (const auto& p : c.volumes)
            v[p] = J::object();
        cfg["Volumes"] = v;
    }
    if (!c.workingDir.empty())
        cfg["WorkingDir"] = c.workingDir;
    if (!c.labels.empty()) {
        J l = J::object();
        for (const auto& [k, v] : c.labels)
            l[k] = v;
        cfg["Labels"] = l;
    }
    if (!c.stopSignal.empty())
        cfg["StopSignal"] = c.stopSignal;
    if (!c.shell.empty())
        cfg["Shell"] = c.shell;
    J j;
    j["architecture"] = image.architecture;
    j["os"] = image.os;
    if (!image.variant.empty())
        j["variant"] = image.variant;
    j["config"] = cfg;
    J diffIds = J::array();
    for (const auto& d : image.diffIds)
        diffIds.push_back(d.str());
    j["rootfs"] = J{{"type", "layers"}, {"diff_ids", diffIds}};
    J history = J::array();
    for (const auto& h : image.history)
        history.push_back(J{{"created_by", h}, {"comment", "cachescope"}});
    j["history"] = history;
    if (image.inlineCache)
        j["moby.buildkit.cache.v0"] = *image.inlineCache; // where BuildKit's image exporter puts it
    return j.dump();
}

oci::Digest writeOciImage(const ImageInput& image, const oci::ContentStore& store, const fs::path& dest,
                          const std::string& tag)
{
    try {
        oci::OciLayout layout = oci::OciLayout::create(dest);
        for (const auto& l : image.layers) {
            if (layout.blobs().has(l.digest))
                continue;
            std::ifstream in(store.blobPath(l.digest), std::ios::binary);
            if (!in)
                throw Error("layer " + l.digest.str() + " is not in the content store");
            auto w = layout.blobs().openWriter(l.digest, l.size);
            std::vector<char> buf(1 << 20);
            while (in) {
                in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
                if (in.gcount() > 0)
                    w->write(buf.data(), static_cast<std::size_t>(in.gcount()));
            }
            w->commit();
        }
        oci::Manifest m;
        m.mediaType = std::string(oci::media::OciManifest);
        m.config = layout.blobs().put(imageConfigJson(image), std::string(oci::media::OciConfig));
        for (const auto& l : image.layers) {
            oci::Descriptor d;
            d.mediaType = l.mediaType;
            d.digest = l.digest;
            d.size = l.size;
            m.layers.push_back(std::move(d));
        }
        oci::Descriptor md = layout.blobs().put(m.toJson().dump(), std::string(oci::media::OciManifest));
        oci::Platform p;
        p.os = image.os;
        p.architecture = image.architecture;
        p.variant = image.variant;
        md.platform = p;
        layout.setTag(tag, md);
        return md.digest;
    } catch (const Error& e) {
        throw Error("--output type=oci,dest=" + dest.string() + ": " + e.what());
    }
}

} // namespace cachescope::build

#include "solver/platform_probe.h"

namespace cachescope::solver {

namespace {

Platform effective(const std::optional<Platform>& p)
{
    return p ? *p : defaultPlatform();
}

// TARGET* build args carry the target platform into RUN environments (only when declared).
void rewriteTargetEnv(std::vector<std::string>& env, const Platform& from, const Platform& to)
{
    const std::pair<std::string, std::pair<std::string, std::string>> vars[] = {
        {"TARGETPLATFORM=", {from.str(), to.str()}},
        {"TARGETOS=", {from.os, to.os}},
        {"TARGETARCH=", {from.architecture, to.architecture}},
        {"TARGETVARIANT=", {from.variant, to.variant}},
    };
    for (std::string& e : env)
        for (const auto& [prefix, values] : vars)
            if (e.starts_with(prefix) && e.compare(prefix.size(), std::string::npos, values.first) == 0)
                e = prefix + values.second;
}

} // namespace

const std::vector<Platform>& commonPlatforms()
{
    static const std::vector<Platform> all = [] {
        std::vector<Platform> out;
        for (const char* p : {"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/386", "linux/ppc64le",
                              "linux/s390x", "linux/riscv64", "linux/mips64le", "linux/loong64", "linux/amd64/v2",
                              "linux/amd64/v3", "linux/arm64/v8", "windows/amd64"})
            out.push_back(Platform::parse(p));
        return out;
    }();
    return all;
}

OpGraph rekeyForPlatform(const OpGraph& graph, const Platform& target, const Platform& other)
{
    OpGraph out = graph;
    for (OpNode& node : out.nodes) {
        if (auto* image = std::get_if<ImageSource>(&node.op); image && image->platform == target) {
            image->platform = other;
            node.cacheMaps = cacheMaps(*image);
        } else if (auto* exec = std::get_if<ExecOp>(&node.op); exec && effective(exec->platform) == target) {
            exec->platform = other;
            rewriteTargetEnv(exec->meta.env, target, other);
            node.cacheMaps = {cacheMap(*exec)};
        }
    }
    return out;
}

PlatformProbe::PlatformProbe(const OpGraph& graph, const ContentKeys& content, const std::vector<MatchSource>& sources,
                             Platform target)
    : graph_(graph), content_(content), sources_(sources), target_(std::move(target))
{
}

std::optional<PlatformMatch> PlatformProbe::otherPlatform(int node)
{
    if (!probed_) {
        probed_.emplace();
        if (!sources_.empty())
            for (const Platform& p : commonPlatforms())
                if (!(p == target_))
                    probed_->emplace_back(p, matchGraph(rekeyForPlatform(graph_, target_, p), content_, sources_));
    }
    const bool image = graph_.nodes[static_cast<std::size_t>(node)].kind == OpKind::Image;
    for (const auto& [platform, matches] : *probed_) {
        const NodeMatch& m = matches[static_cast<std::size_t>(node)];
        if (image ? m.manifestKeyFound : m.keyFound)
            return PlatformMatch{platform.str(), m.served ? m.served->source : std::string()};
    }
    return std::nullopt;
}

} // namespace cachescope::solver

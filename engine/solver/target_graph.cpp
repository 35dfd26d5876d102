#include "solver/target_graph.h"

#include "solver/platform.h"

namespace cachescope::solver {

TargetGraph planTargetGraph(const dockerfile::Dockerfile& dockerfile, const std::string& fileName,
                            const std::string& target, const std::map<std::string, std::string>& buildArgs,
                            const std::optional<std::string>& platform, ImageResolver& resolver)
{
    dockerfile::BuildOptions bo;
    bo.target = target;
    bo.buildArgs = buildArgs;
    // Without --platform BuildKit builds for the daemon's own platform.
    const Platform daemon = defaultPlatform();
    dockerfile::Platform build;
    build.os = daemon.os;
    build.architecture = daemon.architecture;
    build.variant = daemon.variant;
    bo.buildPlatform = build;
    bo.targetPlatform = platform ? dockerfile::Platform::parse(*platform) : build;
    bo.resolveImage = [&](const std::string& name, const dockerfile::Platform& p) {
        return resolver.resolve(name, p).base;
    };
    TargetGraph out;
    out.targetPlatform = *bo.targetPlatform;
    out.plan = dockerfile::planBuild(dockerfile, bo);

    ImageSources images;
    for (const auto& [name, r] : resolver.resolved())
        images.byName[name] = r.source;
    // Images named only by COPY --from / RUN --mount from= are resolved here.
    for (const auto& st : out.plan.stages)
        if (st.reachable && st.baseKind == dockerfile::BaseKind::Image && !images.byName.count(st.baseName))
            images.byName[st.baseName] = resolver.resolve(st.baseName, st.platform).source;
    out.graph = buildOpGraph(out.plan, images, fileName);
    return out;
}

} // namespace cachescope::solver

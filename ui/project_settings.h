#pragma once
// What the app remembers in QSettings per project, keyed by the build context directory (the cache
// sources it was last planned or built with, its Dockerfile and target), and the recent projects,
// newest first.
#include "buildpanel/build_request.h"

#include <QStringList>
#include <optional>

namespace cachescope::ui {

struct RememberedProject {
    BuildRequest request;     // context, Dockerfile, target (build args and contexts too)
    QStringList sourceSpecs;  // every source, enabled or not, in list order
};

class ProjectSettings {
public:
    static constexpr int kMaxRecent = 10;

    // Stores the project under its context directory and moves it to the top of the recent list.
    static void remember(const BuildRequest& request, const QStringList& sourceSpecs);
    static std::optional<RememberedProject> project(const QString& contextDir);
    // Context directories, newest first.
    static QStringList recentProjects();
};

} // namespace cachescope::ui

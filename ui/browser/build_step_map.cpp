#include "browser/build_step_map.h"

#include "models/steps_model.h"

namespace cachescope::ui {

BuildStepMap mapBuildSteps(const StepsModel& steps, const QString& sourceSpec)
{
    BuildStepMap map;
    steps.visitSteps([&](const StepInfo& s) {
        if (s.recordDigest.isEmpty())
            return;
        MappedStep& m = map[s.recordDigest];
        m.steps << s.name;
        if (s.status == StepInfo::Status::Cached && !sourceSpec.isEmpty() && s.source == sourceSpec)
            m.servedHere = true;
    });
    return map;
}

} // namespace cachescope::ui

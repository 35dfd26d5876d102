#pragma once
// The steps of the current plan or build placed on one cache source's records: which record a step
// looks up (its record digest) and whether this source served the hit. The cache browser marks
// these records in its graph and table.
#include <QHash>
#include <QString>
#include <QStringList>

namespace cachescope::ui {

class StepsModel;

struct MappedStep {
    QStringList steps;     // the steps whose key is this record (one, unless two steps share an op)
    bool servedHere = false; // a step was CACHED from this source
    bool operator==(const MappedStep&) const = default;
};

// Record digest -> the steps of the build that key to it.
using BuildStepMap = QHash<QString, MappedStep>;

// `sourceSpec`: the browsed source's spec, as steps name the source that served them.
BuildStepMap mapBuildSteps(const StepsModel& steps, const QString& sourceSpec);

} // namespace cachescope::ui

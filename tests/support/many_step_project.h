#pragma once
// A generated build project with many cheap steps, for responsiveness tests and benchmarks, on the
// demo's base image: `stages` stages of COPY (small files) and WORKDIR steps with two RUNs each, and a
// last stage that copies from every one of them (so the target needs them all). Stages keep each
// chain short: a RUN over a very deep layer chain exceeds what one overlay mount accepts.
#include <QString>

namespace cachescope::test {

// Writes <dir>/Dockerfile and its context: `steps` steps besides the FROMs. Returns "" or what failed.
QString writeManyStepProject(const QString& dir, int steps, int stages = 10);

} // namespace cachescope::test

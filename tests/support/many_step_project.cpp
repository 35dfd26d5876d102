#include "support/many_step_project.h"

#include <QDir>
#include <QFile>

namespace cachescope::test {

QString writeManyStepProject(const QString& dir, int steps, int stages)
{
    QDir root(dir);
    if (stages < 1 || steps < 2 * stages)
        return QStringLiteral("%1 steps cannot fill %2 stages").arg(steps).arg(stages);
    const QString base = QStringLiteral("127.0.0.1:5055/library/busybox:latest"); // served by the demo's base-image
    const int perStage = (steps - stages) / stages; // the last stage has one COPY --from per stage
    QString dockerfile;
    int written = 0;
    for (int s = 0; s < stages; ++s) {
        dockerfile += QStringLiteral("FROM %1 AS s%2\n").arg(base).arg(s);
        const int count = s == stages - 1 ? steps - stages - written : perStage;
        for (int i = 1; i <= count; ++i, ++written) {
            if (i == 10 || i == 40) {
                dockerfile += QStringLiteral("RUN echo stage %1 step %2 && ls /files | wc -l\n").arg(s).arg(i);
            } else if (i % 2 == 1) {
                const QString rel = QStringLiteral("files/s%1-f%2.txt").arg(s).arg(i);
                QFile f(root.filePath(rel));
                if (!root.mkpath(QStringLiteral("files")) || !f.open(QIODevice::WriteOnly))
                    return QStringLiteral("cannot write %1").arg(f.fileName());
                f.write(QByteArray(256, char('a' + i % 26)) + "\n");
                dockerfile += QStringLiteral("COPY %1 /files/\n").arg(rel);
            } else {
                dockerfile += QStringLiteral("WORKDIR /w/%1\n").arg(i);
            }
        }
    }
    dockerfile += QStringLiteral("FROM %1\n").arg(base);
    for (int s = 0; s < stages; ++s)
        dockerfile += QStringLiteral("COPY --from=s%1 /files/ /s%1/\n").arg(s);
    QFile df(root.filePath(QStringLiteral("Dockerfile")));
    if (!df.open(QIODevice::WriteOnly) || df.write(dockerfile.toUtf8()) < 0)
        return QStringLiteral("cannot write %1").arg(df.fileName());
    return {};
}

} // namespace cachescope::test

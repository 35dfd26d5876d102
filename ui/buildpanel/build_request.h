#pragma once
// What the build panel asks for: the inputs of a plan or a build, in Qt types.
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace cachescope::ui {

struct BuildRequest {
    QString dockerfile;                          // empty: <context>/Dockerfile
    QString context;
    QString target;                              // empty: the last stage
    QList<QPair<QString, QString>> buildArgs;    // --build-arg NAME=VALUE, in table order
    QString platform;                            // empty: this machine's
    QList<QPair<QString, QString>> buildContexts; // --build-context NAME=VALUE
    QStringList cacheExports;                    // --cache-to specs (builds only)
};

} // namespace cachescope::ui

#pragma once
// What the build panel asks for: the inputs of a plan (and later of a build), in Qt types.
#include <QList>
#include <QPair>
#include <QString>

namespace cachescope::ui {

struct BuildRequest {
    QString dockerfile;                          // empty: <context>/Dockerfile
    QString context;
    QString target;                              // empty: the last stage
    QList<QPair<QString, QString>> buildArgs;    // --build-arg NAME=VALUE, in table order
    QString platform;                            // empty: this machine's
    QList<QPair<QString, QString>> buildContexts; // --build-context NAME=VALUE
};

} // namespace cachescope::ui

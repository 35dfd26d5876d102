#pragma once
// Keeps a UI test's QSettings (and, when asked, its data dir) in a temporary place, so tests never
// read or change the user's own settings and history.
#include <QCoreApplication>
#include <QTemporaryDir>
#include <QTest>

namespace cachescope::test {

inline void keepSettingsIn(const QTemporaryDir& dir, bool dataToo = false)
{
    QVERIFY(dir.isValid());
    qputenv("XDG_CONFIG_HOME", dir.path().toUtf8());
    if (dataToo)
        qputenv("XDG_DATA_HOME", dir.path().toUtf8());
    QCoreApplication::setOrganizationName(QStringLiteral("CacheScopeTest"));
}

} // namespace cachescope::test

#pragma once
// Saves a widget's picture into $CACHESCOPE_SCREENSHOT_DIR when that is set (how docs/*.png are
// made: the UI tests on the offscreen platform); nothing otherwise. For Qt Widgets tests only.
#include <QTest>
#include <QWidget>

namespace cachescope::test {

inline void screenshot(QWidget* w, const QString& name)
{
    const QString dir = qEnvironmentVariable("CACHESCOPE_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        QVERIFY(w->grab().save(dir + QLatin1Char('/') + name));
}

} // namespace cachescope::test

// Every interactive control of the main window (all tabs) and of the source dialog has a name a
// screen reader can say: its accessible name, its own text, or a label whose buddy it is.
#include "main_window.h"
#include "sources/source_dialog.h"
#include "support/test_settings.h"

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QGraphicsView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTabBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>

using namespace cachescope;
using namespace cachescope::ui;

namespace {
const QString kDemo = QStringLiteral(CACHESCOPE_SOURCE_DEMO_DIR);

bool isInteractive(QWidget* w)
{
    if (qobject_cast<QScrollBar*>(w))
        return false; // part of the scroll area it belongs to
    return qobject_cast<QAbstractButton*>(w) || qobject_cast<QLineEdit*>(w) || qobject_cast<QComboBox*>(w) ||
           qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QAbstractItemView*>(w) || qobject_cast<QTextEdit*>(w) ||
           qobject_cast<QPlainTextEdit*>(w) || qobject_cast<QAbstractSlider*>(w) || qobject_cast<QGraphicsView*>(w);
}

// The inner parts of a composite control (a spin box's line edit, a combo box's list, a tab bar's
// scroll arrows, a table's headers and corner button, a line edit's clear button) are named through
// the control itself (the menu bar's overflow arrow: through the menu bar).
bool isPartOfAnotherControl(QWidget* w)
{
    for (QWidget* p = w->parentWidget(); p; p = p->parentWidget())
        if (qobject_cast<QAbstractSpinBox*>(p) || qobject_cast<QComboBox*>(p) || qobject_cast<QTabBar*>(p) ||
            qobject_cast<QAbstractItemView*>(p) || qobject_cast<QLineEdit*>(p) || qobject_cast<QMenuBar*>(p))
            return true;
    return false;
}

bool hasName(QWidget* w)
{
    if (!w->accessibleName().trimmed().isEmpty())
        return true;
    if (auto* b = qobject_cast<QAbstractButton*>(w); b && !b->text().remove(QLatin1Char('&')).trimmed().isEmpty())
        return true;
    for (QLabel* label : w->window()->findChildren<QLabel*>())
        if (label->buddy() == w && !label->text().trimmed().isEmpty())
            return true;
    return false;
}

// "QLineEdit in BuildPanel > QGroupBox": enough to find the control in the code.
QString describe(QWidget* w)
{
    QStringList path;
    for (QWidget* p = w->parentWidget(); p && path.size() < 3; p = p->parentWidget())
        path << QString::fromLatin1(p->metaObject()->className()) +
                    (p->objectName().isEmpty() ? QString() : QLatin1Char('#') + p->objectName());
    QString text;
    if (auto* b = qobject_cast<QAbstractButton*>(w))
        text = QStringLiteral(" (tooltip \"%1\")").arg(b->toolTip());
    return QString::fromLatin1(w->metaObject()->className()) + text + QStringLiteral(" in ") + path.join(QStringLiteral(" < "));
}

QStringList unnamedControls(QWidget* root)
{
    QStringList unnamed;
    for (QWidget* w : root->findChildren<QWidget*>())
        if (isInteractive(w) && !isPartOfAnotherControl(w) && !hasName(w))
            unnamed << describe(w);
    return unnamed;
}
} // namespace

class TestAccessibility : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { test::keepSettingsIn(settingsDir_, /*dataToo=*/true); }

    void mainWindowControlsHaveNames()
    {
        MainWindow window;
        window.show();
        QSignalSpy planned(&window, &MainWindow::planFinished);
        window.openDemo(kDemo); // every view filled: sources, steps, details, browser
        QVERIFY(planned.wait(60000));
        const QStringList unnamed = unnamedControls(&window);
        QVERIFY2(unnamed.isEmpty(), qPrintable(QStringLiteral("controls without an accessible name:\n  ") +
                                               unnamed.join(QStringLiteral("\n  "))));
        // The check sees the controls: the window has dozens of them.
        int controls = 0;
        for (QWidget* w : window.findChildren<QWidget*>())
            controls += isInteractive(w) && !isPartOfAnotherControl(w);
        QVERIFY2(controls > 20, qPrintable(QString::number(controls)));
    }

    void sourceDialogControlsHaveNames()
    {
        SourceDialog dialog;
        dialog.show();
        const QStringList unnamed = unnamedControls(&dialog);
        QVERIFY2(unnamed.isEmpty(), qPrintable(QStringLiteral("controls without an accessible name:\n  ") +
                                               unnamed.join(QStringLiteral("\n  "))));
    }

private:
    QTemporaryDir settingsDir_;
};

QTEST_MAIN(TestAccessibility)
#include "test_accessibility.moc"

#pragma once
// The strip above the steps: Dockerfile and context, target (from the parsed stages), platform,
// build args, named build contexts and cache exports, and the Plan / Build / Build without import /
// Cancel actions.
#include "buildpanel/build_request.h"

#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableWidget;
class QToolButton;

namespace cachescope::ui {

class BuildPanel : public QWidget {
    Q_OBJECT
public:
    explicit BuildPanel(QWidget* parent = nullptr);

    BuildRequest request() const;
    void setRequest(const BuildRequest& request);
    // Entries offered by the context picker (e.g. the demo project and its changed variant).
    void setContextChoices(const QStringList& dirs);
    // The Dockerfile the target list comes from: the picked file, else <context>/Dockerfile.
    QString effectiveDockerfile() const;

    QAction* planAction() const { return plan_; }
    QAction* buildAction() const { return build_; }
    QAction* buildWithoutImportAction() const { return buildCold_; }
    QAction* cancelAction() const { return cancel_; }
    // What is wrong with the cache export field, in words ("" when every spec parses).
    QString cacheExportProblem() const;

public slots:
    // Named stages of the effective Dockerfile, parsed off the GUI thread; the current target is kept.
    void setStages(const QString& dockerfile, const QStringList& stages, const QString& error);
    void setRunning(bool running);
    void chooseDockerfile();
    void chooseContext();

signals:
    void planRequested();
    // withImport=false: a cold build, every step runs.
    void buildRequested(bool withImport);
    void cancelRequested();
    // The user picked a context directory in the file dialog (a project they may have opened before).
    void contextChosen(const QString& dir);
    // The effective Dockerfile may have changed: its stages should be parsed again.
    void dockerfileChanged(const QString& dockerfile);

private:
    QTableWidget* makePairTable(const QString& accessibleName, const QString& valueHeader);
    QWidget* tableWithButtons(QTableWidget* table, const QString& what);
    void updateOptionsToggle();
    void requestBuild(bool withImport);
    void emitDockerfileChanged();

    QLineEdit* dockerfile_ = nullptr;
    QComboBox* context_ = nullptr;
    QComboBox* target_ = nullptr;
    QLineEdit* platform_ = nullptr;
    QToolButton* optionsToggle_ = nullptr;
    QWidget* options_ = nullptr;
    QTableWidget* buildArgs_ = nullptr;
    QTableWidget* buildContexts_ = nullptr;
    QLineEdit* cacheExports_ = nullptr;
    QLabel* cacheExportError_ = nullptr;
    QLabel* parseError_ = nullptr;
    QAction* plan_ = nullptr;
    QAction* build_ = nullptr;
    QAction* buildCold_ = nullptr;
    QAction* cancel_ = nullptr;
    QString lastDockerfile_;
};

} // namespace cachescope::ui

#pragma once
// "Add cache source": one form per type (registry, local directory, inline image) or a pasted
// buildx spec. The result is always a buildx spec string, validated by the engine's parser.
#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;

namespace cachescope::ui {

class SourceDialog : public QDialog {
    Q_OBJECT
public:
    explicit SourceDialog(QWidget* parent = nullptr);

    // The spec the user built, e.g. "type=local,src=/x,tag=latest".
    QString spec() const;

    // Fills the forms from a spec (for tests and for editing an existing source).
    void setSpec(const QString& spec);

private:
    QString specFromCurrentTab() const;
    void validate();

    QTabWidget* tabs_ = nullptr;
    QLineEdit* registryRef_ = nullptr;
    QCheckBox* registryInsecure_ = nullptr;
    QLineEdit* localDir_ = nullptr;
    QLineEdit* localTag_ = nullptr;
    QLineEdit* localDigest_ = nullptr;
    QLineEdit* inlineRef_ = nullptr;
    QCheckBox* inlineInsecure_ = nullptr;
    QLineEdit* pasted_ = nullptr;
    QLabel* error_ = nullptr;
    QPushButton* okButton_ = nullptr;
};

} // namespace cachescope::ui

#include "sources/source_dialog.h"

#include "base/error.h"
#include "cache/cache_spec.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

namespace cachescope::ui {

namespace {
enum Tab { RegistryTab, LocalTab, InlineTab, PasteTab };

// buildx CSV: a value containing a comma or a quote must be quoted.
QString csvField(const QString& key, const QString& value)
{
    QString field = key + QLatin1Char('=') + value;
    if (field.contains(QLatin1Char(',')) || field.contains(QLatin1Char('"')))
        return QLatin1Char('"') + QString(field).replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    return field;
}

QLineEdit* lineEdit(const QString& placeholder, const QString& accessibleName, QWidget* parent)
{
    auto* edit = new QLineEdit(parent);
    edit->setPlaceholderText(placeholder);
    edit->setAccessibleName(accessibleName);
    edit->setClearButtonEnabled(true);
    return edit;
}
} // namespace

SourceDialog::SourceDialog(QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("Add cache source"));
    tabs_ = new QTabWidget(this);

    auto* registry = new QWidget;
    auto* registryForm = new QFormLayout(registry);
    registryRef_ = lineEdit(QStringLiteral("ghcr.io/org/app:buildcache"), tr("Registry cache reference"), registry);
    registryInsecure_ = new QCheckBox(tr("Plain HTTP / no TLS verification (registry.insecure)"), registry);
    registryForm->addRow(tr("&Reference:"), registryRef_);
    registryForm->addRow(QString(), registryInsecure_);
    tabs_->addTab(registry, tr("Registry"));

    auto* local = new QWidget;
    auto* localForm = new QFormLayout(local);
    localDir_ = lineEdit(tr("Directory written by --cache-to type=local"), tr("Local cache directory"), local);
    auto* browse = new QPushButton(tr("&Browse…"), local);
    auto* dirRow = new QHBoxLayout;
    dirRow->addWidget(localDir_);
    dirRow->addWidget(browse);
    localTag_ = lineEdit(QStringLiteral("latest"), tr("Tag in index.json"), local);
    localDigest_ = lineEdit(QStringLiteral("sha256:…"), tr("Manifest digest (overrides the tag)"), local);
    localForm->addRow(tr("&Directory:"), dirRow);
    localForm->addRow(tr("&Tag:"), localTag_);
    localForm->addRow(tr("D&igest:"), localDigest_);
    tabs_->addTab(local, tr("Local directory"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Cache directory"), localDir_->text());
        if (!dir.isEmpty())
            localDir_->setText(dir);
    });

    auto* inlineTab = new QWidget;
    auto* inlineForm = new QFormLayout(inlineTab);
    inlineRef_ = lineEdit(QStringLiteral("registry.example.com/app:latest"), tr("Image with inline cache"), inlineTab);
    inlineInsecure_ = new QCheckBox(tr("Plain HTTP / no TLS verification (registry.insecure)"), inlineTab);
    inlineForm->addRow(tr("&Image:"), inlineRef_);
    inlineForm->addRow(QString(), inlineInsecure_);
    inlineForm->addRow(new QLabel(tr("BuildKit reads inline cache from the image config of every platform."), inlineTab));
    tabs_->addTab(inlineTab, tr("Inline image"));

    auto* paste = new QWidget;
    auto* pasteForm = new QFormLayout(paste);
    pasted_ = lineEdit(QStringLiteral("type=registry,ref=ghcr.io/org/app:cache"), tr("buildx cache spec"), paste);
    pasteForm->addRow(tr("&Spec:"), pasted_);
    pasteForm->addRow(new QLabel(tr("Paste what you give to <tt>--cache-from</tt>."), paste));
    tabs_->addTab(paste, tr("Paste spec"));

    error_ = new QLabel(this);
    error_->setWordWrap(true);
    error_->setAccessibleName(tr("Spec error"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    okButton_ = buttons->button(QDialogButtonBox::Ok);
    okButton_->setText(tr("Add"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(tabs_);
    layout->addWidget(error_);
    layout->addWidget(buttons);

    for (QLineEdit* edit : {registryRef_, localDir_, localTag_, localDigest_, inlineRef_, pasted_})
        connect(edit, &QLineEdit::textChanged, this, &SourceDialog::validate);
    for (QCheckBox* box : {registryInsecure_, inlineInsecure_})
        connect(box, &QCheckBox::toggled, this, &SourceDialog::validate);
    connect(tabs_, &QTabWidget::currentChanged, this, &SourceDialog::validate);
    validate();
    resize(560, sizeHint().height());
}

QString SourceDialog::specFromCurrentTab() const
{
    QStringList fields;
    switch (tabs_->currentIndex()) {
    case RegistryTab:
        if (registryRef_->text().trimmed().isEmpty())
            return {};
        fields << QStringLiteral("type=registry") << csvField(QStringLiteral("ref"), registryRef_->text().trimmed());
        if (registryInsecure_->isChecked())
            fields << QStringLiteral("registry.insecure=true");
        break;
    case LocalTab:
        if (localDir_->text().trimmed().isEmpty())
            return {};
        fields << QStringLiteral("type=local") << csvField(QStringLiteral("src"), localDir_->text().trimmed());
        if (!localDigest_->text().trimmed().isEmpty())
            fields << csvField(QStringLiteral("digest"), localDigest_->text().trimmed());
        else if (!localTag_->text().trimmed().isEmpty())
            fields << csvField(QStringLiteral("tag"), localTag_->text().trimmed());
        break;
    case InlineTab:
        // buildx imports inline cache through the registry importer pointed at the image.
        if (inlineRef_->text().trimmed().isEmpty())
            return {};
        fields << QStringLiteral("type=registry") << csvField(QStringLiteral("ref"), inlineRef_->text().trimmed());
        if (inlineInsecure_->isChecked())
            fields << QStringLiteral("registry.insecure=true");
        break;
    case PasteTab:
        return pasted_->text().trimmed();
    }
    return fields.join(QLatin1Char(','));
}

QString SourceDialog::spec() const
{
    return specFromCurrentTab();
}

void SourceDialog::validate()
{
    const QString text = specFromCurrentTab();
    QString problem;
    if (text.isEmpty()) {
        problem = tr("Fill in the form to add a source.");
    } else {
        try {
            cache::parseCacheSpec(text.toStdString());
        } catch (const Error& e) {
            problem = QString::fromStdString(e.what());
        }
    }
    error_->setText(problem);
    error_->setVisible(!problem.isEmpty());
    okButton_->setEnabled(problem.isEmpty());
}

void SourceDialog::setSpec(const QString& text)
{
    tabs_->setCurrentIndex(PasteTab);
    pasted_->setText(text);
    try {
        const cache::CacheSpec parsed = cache::parseCacheSpec(text.toStdString());
        if (parsed.type == "local") {
            tabs_->setCurrentIndex(LocalTab);
            localDir_->setText(QString::fromStdString(parsed.attr("src")));
            localTag_->setText(QString::fromStdString(parsed.attr("tag")));
            localDigest_->setText(QString::fromStdString(parsed.attr("digest")));
        } else if (parsed.type == "registry") {
            tabs_->setCurrentIndex(RegistryTab);
            registryRef_->setText(QString::fromStdString(parsed.attr("ref")));
            registryInsecure_->setChecked(parsed.attr("registry.insecure") == "true");
        }
    } catch (const Error&) {
        // Left on the paste tab, where validate() shows why it does not parse.
    }
    validate();
}

} // namespace cachescope::ui

#include "buildpanel/build_panel.h"

#include "base/error.h"
#include "cache/cache_export_spec.h"

#include <QAction>
#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace cachescope::ui {

namespace {
QList<QPair<QString, QString>> pairsOf(const QTableWidget* table)
{
    QList<QPair<QString, QString>> out;
    for (int r = 0; r < table->rowCount(); ++r) {
        const QTableWidgetItem* name = table->item(r, 0);
        const QTableWidgetItem* value = table->item(r, 1);
        if (name && !name->text().trimmed().isEmpty())
            out.append({name->text().trimmed(), value ? value->text() : QString()});
    }
    return out;
}

void setPairs(QTableWidget* table, const QList<QPair<QString, QString>>& pairs)
{
    table->setRowCount(0);
    for (const auto& [name, value] : pairs) {
        const int r = table->rowCount();
        table->insertRow(r);
        table->setItem(r, 0, new QTableWidgetItem(name));
        table->setItem(r, 1, new QTableWidgetItem(value));
    }
}
} // namespace

BuildPanel::BuildPanel(QWidget* parent) : QWidget(parent)
{
    dockerfile_ = new QLineEdit(this);
    dockerfile_->setPlaceholderText(tr("<context>/Dockerfile"));
    dockerfile_->setAccessibleName(tr("Dockerfile"));
    dockerfile_->setClearButtonEnabled(true);
    auto* pickDockerfile = new QToolButton(this);
    pickDockerfile->setText(tr("…"));
    pickDockerfile->setToolTip(tr("Choose the Dockerfile"));
    pickDockerfile->setAccessibleName(tr("Choose Dockerfile"));

    context_ = new QComboBox(this);
    context_->setEditable(true);
    context_->setInsertPolicy(QComboBox::NoInsert);
    context_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    context_->setMinimumContentsLength(24);
    context_->setAccessibleName(tr("Build context directory"));
    context_->lineEdit()->setPlaceholderText(tr("build context directory"));
    auto* pickContext = new QToolButton(this);
    pickContext->setText(tr("…"));
    pickContext->setToolTip(tr("Choose the build context directory"));
    pickContext->setAccessibleName(tr("Choose build context"));

    target_ = new QComboBox(this);
    target_->setAccessibleName(tr("Target stage"));
    target_->setToolTip(tr("--target: the stage to build; only the stages it reaches are planned"));
    target_->setMinimumContentsLength(10);
    target_->addItem(tr("(last stage)"), QString());

    platform_ = new QLineEdit(this);
    platform_->setPlaceholderText(tr("this machine's"));
    platform_->setAccessibleName(tr("Target platform"));
    platform_->setToolTip(tr("--platform, e.g. linux/arm64"));
    platform_->setMaximumWidth(150);

    plan_ = new QAction(tr("&Plan"), this);
    plan_->setShortcut(QKeySequence(Qt::Key_F6));
    plan_->setToolTip(tr("Plan the build against the enabled cache sources: which steps would be CACHED, "
                         "from which source, and why a step misses (F6)"));
    build_ = new QAction(tr("&Build"), this);
    build_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    build_->setToolTip(tr("Build for real with the enabled cache sources imported: watch each step turn CACHED "
                          "(and from which source) or run (Ctrl+B)"));
    buildCold_ = new QAction(tr("Build &without import"), this);
    buildCold_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
    buildCold_->setToolTip(tr("Build cold: no cache source and no local cache, every step runs (Ctrl+Shift+B)"));
    cancel_ = new QAction(tr("Cancel"), this);
    cancel_->setShortcut(QKeySequence(Qt::Key_Escape));
    cancel_->setToolTip(tr("Stop the running build or plan (Esc)"));
    cancel_->setEnabled(false);
    auto* planButton = new QToolButton(this);
    planButton->setDefaultAction(plan_);
    planButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    planButton->setAccessibleName(tr("Plan build"));
    auto* buildButton = new QToolButton(this);
    buildButton->setDefaultAction(build_);
    buildButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    buildButton->setAccessibleName(tr("Build"));
    auto* buildColdButton = new QToolButton(this);
    buildColdButton->setDefaultAction(buildCold_);
    buildColdButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    buildColdButton->setAccessibleName(tr("Build without import"));
    auto* cancelButton = new QToolButton(this);
    cancelButton->setDefaultAction(cancel_);
    cancelButton->setAccessibleName(tr("Cancel build or plan"));

    optionsToggle_ = new QToolButton(this);
    optionsToggle_->setCheckable(true);
    optionsToggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    optionsToggle_->setArrowType(Qt::RightArrow);
    optionsToggle_->setAccessibleName(tr("Show build args and build contexts"));

    buildArgs_ = makePairTable(tr("Build args"), tr("Value"));
    buildContexts_ = makePairTable(tr("Build contexts"), tr("Source (docker-image://REF or oci-layout://DIR[:TAG])"));
    cacheExports_ = new QLineEdit(this);
    cacheExports_->setAccessibleName(tr("Cache export"));
    cacheExports_->setPlaceholderText(tr("none; e.g. type=local,dest=/tmp/cache,mode=max  (several: separate with ;)"));
    cacheExports_->setToolTip(tr("--cache-to, as buildx takes it: written after a build"));
    cacheExports_->setClearButtonEnabled(true);
    cacheExportError_ = new QLabel(this);
    cacheExportError_->setWordWrap(true);
    cacheExportError_->setVisible(false);
    cacheExportError_->setAccessibleName(tr("Cache export problem"));
    options_ = new QWidget(this);
    auto* tables = new QHBoxLayout;
    tables->addWidget(tableWithButtons(buildArgs_, tr("build arg")), 2);
    tables->addWidget(tableWithButtons(buildContexts_, tr("build context")), 3);
    auto* exportRow = new QHBoxLayout;
    auto* exportLabel = new QLabel(tr("Cache &export:"), this);
    exportLabel->setBuddy(cacheExports_);
    exportRow->addWidget(exportLabel);
    exportRow->addWidget(cacheExports_, 1);
    auto* optionsLayout = new QVBoxLayout(options_);
    optionsLayout->setContentsMargins(0, 0, 0, 0);
    optionsLayout->addLayout(tables);
    optionsLayout->addLayout(exportRow);
    optionsLayout->addWidget(cacheExportError_);
    options_->setVisible(false);

    parseError_ = new QLabel(this);
    parseError_->setWordWrap(true);
    parseError_->setVisible(false);
    parseError_->setAccessibleName(tr("Dockerfile problem"));

    auto label = [this](const QString& text, QWidget* buddy) {
        auto* l = new QLabel(text, this);
        l->setBuddy(buddy);
        return l;
    };
    auto* grid = new QGridLayout;
    grid->setContentsMargins(0, 0, 0, 0);
    grid->addWidget(label(tr("&Dockerfile:"), dockerfile_), 0, 0);
    grid->addWidget(dockerfile_, 0, 1);
    grid->addWidget(pickDockerfile, 0, 2);
    grid->addWidget(label(tr("Conte&xt:"), context_), 0, 3);
    grid->addWidget(context_, 0, 4);
    grid->addWidget(pickContext, 0, 5);
    grid->setColumnStretch(1, 2);
    grid->setColumnStretch(4, 3);

    auto* row2 = new QHBoxLayout;
    row2->addWidget(label(tr("&Target:"), target_));
    row2->addWidget(target_);
    row2->addSpacing(8);
    row2->addWidget(label(tr("P&latform:"), platform_));
    row2->addWidget(platform_);
    row2->addSpacing(8);
    row2->addWidget(optionsToggle_);
    row2->addStretch(1);
    row2->addWidget(planButton);
    row2->addWidget(buildButton);
    row2->addWidget(buildColdButton);
    row2->addWidget(cancelButton);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 4);
    layout->setSpacing(4);
    layout->addLayout(grid);
    layout->addLayout(row2);
    layout->addWidget(parseError_);
    layout->addWidget(options_);

    connect(pickDockerfile, &QToolButton::clicked, this, &BuildPanel::chooseDockerfile);
    connect(pickContext, &QToolButton::clicked, this, &BuildPanel::chooseContext);
    connect(dockerfile_, &QLineEdit::editingFinished, this, &BuildPanel::emitDockerfileChanged);
    connect(context_->lineEdit(), &QLineEdit::editingFinished, this, &BuildPanel::emitDockerfileChanged);
    connect(context_, &QComboBox::currentIndexChanged, this, &BuildPanel::emitDockerfileChanged);
    connect(plan_, &QAction::triggered, this, &BuildPanel::planRequested);
    connect(build_, &QAction::triggered, this, [this] { requestBuild(true); });
    connect(buildCold_, &QAction::triggered, this, [this] { requestBuild(false); });
    connect(cacheExports_, &QLineEdit::textChanged, this, [this] {
        const QString problem = cacheExportProblem();
        cacheExportError_->setText(problem);
        cacheExportError_->setVisible(!problem.isEmpty());
        updateOptionsToggle();
    });
    connect(cancel_, &QAction::triggered, this, &BuildPanel::cancelRequested);
    connect(optionsToggle_, &QToolButton::toggled, this, [this](bool on) {
        options_->setVisible(on);
        optionsToggle_->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    });
    updateOptionsToggle();
}

QTableWidget* BuildPanel::makePairTable(const QString& accessibleName, const QString& valueHeader)
{
    auto* table = new QTableWidget(0, 2, this);
    table->setAccessibleName(accessibleName);
    table->setHorizontalHeaderLabels({tr("Name"), valueHeader});
    table->horizontalHeader()->setStretchLastSection(true);
    table->verticalHeader()->setVisible(false);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setMaximumHeight(110);
    return table;
}

QWidget* BuildPanel::tableWithButtons(QTableWidget* table, const QString& what)
{
    auto* box = new QWidget(this);
    auto* add = new QPushButton(tr("Add"), box);
    auto* remove = new QPushButton(tr("Remove"), box);
    add->setAccessibleName(tr("Add %1").arg(what));
    remove->setAccessibleName(tr("Remove %1").arg(what));
    add->setToolTip(tr("Add a %1").arg(what));
    remove->setToolTip(tr("Remove the selected %1").arg(what));
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch();
    auto* layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(table, 1);
    layout->addLayout(buttons);
    connect(add, &QPushButton::clicked, table, [this, table] {
        const int r = table->rowCount();
        table->insertRow(r);
        table->setItem(r, 0, new QTableWidgetItem);
        table->setItem(r, 1, new QTableWidgetItem);
        table->setCurrentCell(r, 0);
        table->editItem(table->item(r, 0));
        updateOptionsToggle();
    });
    connect(remove, &QPushButton::clicked, table, [this, table] {
        QList<int> rows;
        for (const QModelIndex& i : table->selectionModel()->selectedRows())
            rows << i.row();
        if (rows.isEmpty() && table->currentRow() >= 0)
            rows << table->currentRow();
        std::sort(rows.begin(), rows.end(), std::greater<>());
        for (int r : rows)
            table->removeRow(r);
        updateOptionsToggle();
    });
    return box;
}

void BuildPanel::updateOptionsToggle()
{
    optionsToggle_->setText(tr("Build args (%1) · contexts (%2) · cache exports (%3)")
                                .arg(buildArgs_->rowCount())
                                .arg(buildContexts_->rowCount())
                                .arg(request().cacheExports.size()));
}

QString BuildPanel::cacheExportProblem() const
{
    for (const QString& spec : request().cacheExports) {
        try {
            cache::parseCacheExportSpec(spec.toStdString());
        } catch (const Error& e) {
            return tr("Cache export: %1").arg(QString::fromStdString(e.what()));
        }
    }
    return {};
}

void BuildPanel::requestBuild(bool withImport)
{
    if (const QString problem = cacheExportProblem(); !problem.isEmpty()) {
        // Never a build that silently skips the export asked for.
        optionsToggle_->setChecked(true);
        cacheExportError_->setText(problem);
        cacheExportError_->setVisible(true);
        cacheExports_->setFocus();
        return;
    }
    emit buildRequested(withImport);
}

BuildRequest BuildPanel::request() const
{
    BuildRequest r;
    r.dockerfile = dockerfile_->text().trimmed();
    r.context = context_->currentText().trimmed();
    r.target = target_->currentData().toString();
    r.buildArgs = pairsOf(buildArgs_);
    r.platform = platform_->text().trimmed();
    r.buildContexts = pairsOf(buildContexts_);
    for (const QString& spec : cacheExports_->text().split(QLatin1Char(';'), Qt::SkipEmptyParts))
        if (!spec.trimmed().isEmpty())
            r.cacheExports << spec.trimmed();
    return r;
}

void BuildPanel::setRequest(const BuildRequest& request)
{
    dockerfile_->setText(request.dockerfile);
    if (const int i = context_->findText(request.context); i >= 0)
        context_->setCurrentIndex(i);
    else
        context_->setEditText(request.context);
    if (!request.target.isEmpty()) {
        if (target_->findData(request.target) < 0)
            target_->addItem(request.target, request.target);
        target_->setCurrentIndex(target_->findData(request.target));
    } else {
        target_->setCurrentIndex(0);
    }
    setPairs(buildArgs_, request.buildArgs);
    platform_->setText(request.platform);
    setPairs(buildContexts_, request.buildContexts);
    cacheExports_->setText(request.cacheExports.join(QStringLiteral("; ")));
    updateOptionsToggle();
    emitDockerfileChanged();
}

void BuildPanel::setContextChoices(const QStringList& dirs)
{
    const QString current = context_->currentText();
    const QSignalBlocker block(context_);
    context_->clear();
    context_->addItems(dirs);
    if (const int i = context_->findText(current); i >= 0)
        context_->setCurrentIndex(i);
    else
        context_->setEditText(current);
}

QString BuildPanel::effectiveDockerfile() const
{
    const QString df = dockerfile_->text().trimmed();
    if (!df.isEmpty())
        return df;
    const QString ctx = context_->currentText().trimmed();
    return ctx.isEmpty() ? QString() : ctx + QStringLiteral("/Dockerfile");
}

void BuildPanel::emitDockerfileChanged()
{
    const QString df = effectiveDockerfile();
    if (df == lastDockerfile_)
        return;
    lastDockerfile_ = df;
    if (!df.isEmpty())
        emit dockerfileChanged(df);
}

void BuildPanel::setStages(const QString& dockerfile, const QStringList& stages, const QString& error)
{
    if (dockerfile != effectiveDockerfile())
        return; // an older parse
    const QString current = target_->currentData().toString();
    target_->clear();
    target_->addItem(tr("(last stage)"), QString());
    for (const QString& s : stages)
        target_->addItem(s, s);
    const int i = target_->findData(current);
    target_->setCurrentIndex(i >= 0 ? i : 0);
    parseError_->setText(error.isEmpty() ? QString() : tr("Dockerfile: %1").arg(error));
    parseError_->setVisible(!error.isEmpty());
}

void BuildPanel::setRunning(bool running)
{
    for (QAction* start : {plan_, build_, buildCold_})
        start->setEnabled(!running);
    cancel_->setEnabled(running);
}

void BuildPanel::chooseDockerfile()
{
    const QString start = dockerfile_->text().isEmpty() ? context_->currentText() : dockerfile_->text();
    const QString file = QFileDialog::getOpenFileName(this, tr("Choose the Dockerfile"), start);
    if (file.isEmpty())
        return;
    dockerfile_->setText(file);
    emitDockerfileChanged();
}

void BuildPanel::chooseContext()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose the build context"), context_->currentText());
    if (dir.isEmpty())
        return;
    if (const int i = context_->findText(dir); i >= 0)
        context_->setCurrentIndex(i);
    else
        context_->setEditText(dir);
    emitDockerfileChanged();
    emit contextChosen(dir);
}

} // namespace cachescope::ui

#include "steps/steps_view.h"

#include "models/steps_model.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QTimer>
#include <QVBoxLayout>
#include <utility>

namespace cachescope::ui {

StepsView::StepsView(StepsModel* model, QWidget* parent) : QWidget(parent), model_(model)
{
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model_);
    proxy_->setFilterRole(StepsModel::MissRole);
    proxy_->setRecursiveFilteringEnabled(true); // a stage shows when one of its steps does

    tree_ = new QTreeView(this);
    tree_->setModel(proxy_);
    tree_->setAccessibleName(tr("Build steps"));
    tree_->setUniformRowHeights(true);
    tree_->setAlternatingRowColors(true);
    tree_->setSelectionBehavior(QAbstractItemView::SelectRows);
    tree_->setSelectionMode(QAbstractItemView::SingleSelection);
    tree_->header()->setStretchLastSection(false);
    tree_->header()->setSectionResizeMode(QHeaderView::Interactive);
    tree_->header()->setSectionResizeMode(StepsModel::NameColumn, QHeaderView::Stretch);
    // No ResizeToContents: it measures every row's text on every change, and a live build changes
    // rows hundreds of times a second. Fixed widths from the widest possible text, and the source
    // column fitted at most once a second.
    const QFontMetrics fm = tree_->fontMetrics();
    QFont bold = tree_->font();
    bold.setBold(true);
    int statusWidth = 0;
    for (int st = 0; st <= static_cast<int>(StepInfo::Status::Done); ++st)
        statusWidth = std::max(statusWidth, QFontMetrics(bold).horizontalAdvance(statusText(static_cast<StepInfo::Status>(st))));
    tree_->header()->resizeSection(StepsModel::StatusColumn, statusWidth + 16);
    QFont mono(QStringLiteral("monospace"));
    tree_->header()->resizeSection(StepsModel::KeyColumn, QFontMetrics(mono).horizontalAdvance(QStringLiteral("0123456789ab")) + 12);
    tree_->header()->resizeSection(StepsModel::SourceColumn, fm.horizontalAdvance(QStringLiteral("local cache-max")) + 16);
    tree_->header()->resizeSection(StepsModel::DurationColumn, fm.horizontalAdvance(QStringLiteral("888.88 s")) + 12);
    tree_->header()->resizeSection(StepsModel::SizeColumn, std::max(fm.horizontalAdvance(QStringLiteral("888.8 MB")), fm.horizontalAdvance(QStringLiteral("888 bytes"))) + 12);
    fitSource_ = new QTimer(this);
    fitSource_->setSingleShot(true);
    fitSource_->setInterval(1000);
    connect(fitSource_, &QTimer::timeout, this, [this] { tree_->resizeColumnToContents(StepsModel::SourceColumn); });

    missesOnly_ = new QCheckBox(tr("&Misses only"), this);
    missesOnly_->setAccessibleName(tr("Show only steps that miss"));
    jump_ = new QPushButton(tr("&First miss"), this);
    jump_->setAccessibleName(tr("Jump to the first miss"));
    jump_->setToolTip(tr("Select the first step that would run (Ctrl+J)"));
    message_ = new QLabel(this);
    message_->setAccessibleName(tr("Plan state"));
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->setWordWrap(true);

    auto* bar = new QHBoxLayout;
    bar->addWidget(message_, 1);
    bar->addWidget(missesOnly_);
    bar->addWidget(jump_);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(tree_, 1);

    connect(missesOnly_, &QCheckBox::toggled, this, &StepsView::setMissesOnly);
    connect(jump_, &QPushButton::clicked, this, &StepsView::jumpToFirstMiss);
    connect(tree_->selectionModel(), &QItemSelectionModel::currentChanged, this, &StepsView::emitCurrent);
    // A new plan replaces the rows: show every stage open, and keep the details in step.
    connect(model_, &QAbstractItemModel::modelReset, this, [this] {
        tree_->expandAll();
        emitCurrent();
    });
    connect(model_, &QAbstractItemModel::rowsInserted, tree_, &QTreeView::expandAll);
    connect(model_, &QAbstractItemModel::modelReset, fitSource_, qOverload<>(&QTimer::start));
    connect(model_, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& topLeft) {
        if (!fitSource_->isActive())
            fitSource_->start();
        if (proxy_->mapToSource(tree_->currentIndex()).siblingAtColumn(0) == topLeft.siblingAtColumn(0))
            emitCurrent();
    });
}

void StepsView::setMissesOnly(bool on)
{
    if (missesOnly_->isChecked() != on)
        missesOnly_->setChecked(on);
    proxy_->setFilterFixedString(on ? QStringLiteral("miss") : QString());
    tree_->expandAll();
    emit missesOnlyChanged(on);
}

void StepsView::setMessage(const QString& text)
{
    message_->setText(text);
}

bool StepsView::jumpToFirstMiss()
{
    const QModelIndex miss = proxy_->mapFromSource(model_->firstMiss());
    if (!miss.isValid())
        return false;
    tree_->setCurrentIndex(miss);
    tree_->scrollTo(miss);
    tree_->setFocus();
    return true;
}

void StepsView::emitCurrent()
{
    emit currentStepChanged(model_->step(proxy_->mapToSource(tree_->currentIndex())));
}

} // namespace cachescope::ui

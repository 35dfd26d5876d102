#include "sources/sources_panel.h"

#include "models/source_list_model.h"
#include "sources/source_dialog.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QPushButton>
#include <QVBoxLayout>

namespace cachescope::ui {

SourcesPanel::SourcesPanel(SourceListModel* model, QWidget* parent) : QWidget(parent), model_(model)
{
    auto* title = new QLabel(tr("<b>Cache sources</b>"), this);
    list_ = new QListView(this);
    list_->setModel(model_);
    list_->setAccessibleName(tr("Cache sources"));
    list_->setWordWrap(true);
    list_->setUniformItemSizes(false);
    list_->setSpacing(2);

    add_ = new QPushButton(tr("&Add…"), this);
    remove_ = new QPushButton(tr("Remove"), this);
    up_ = new QPushButton(tr("Up"), this);
    down_ = new QPushButton(tr("Down"), this);
    import_ = new QPushButton(tr("&Import"), this);
    add_->setToolTip(tr("Add a registry, local or inline cache source"));
    up_->setToolTip(tr("Move the source up (the order is kept in reports; BuildKit itself picks the newest record)"));
    import_->setToolTip(tr("Import every enabled source again"));
    for (auto* b : {add_, remove_, up_, down_, import_})
        b->setAccessibleName(b->text().remove(QLatin1Char('&')).remove(QStringLiteral("…")) + tr(" source"));

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add_);
    buttons->addWidget(remove_);
    buttons->addWidget(up_);
    buttons->addWidget(down_);
    buttons->addStretch();
    buttons->addWidget(import_);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(title);
    layout->addWidget(list_, 1);
    layout->addLayout(buttons);

    connect(add_, &QPushButton::clicked, this, &SourcesPanel::addSourceInteractively);
    connect(remove_, &QPushButton::clicked, this, &SourcesPanel::removeCurrent);
    connect(up_, &QPushButton::clicked, this, [this] { moveCurrent(-1); });
    connect(down_, &QPushButton::clicked, this, [this] { moveCurrent(+1); });
    connect(import_, &QPushButton::clicked, this, &SourcesPanel::importRequested);
    connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& index) {
        updateButtons();
        emit currentSourceChanged(index.isValid() ? index.row() : -1);
    });
    connect(model_, &QAbstractItemModel::rowsInserted, this, &SourcesPanel::updateButtons);
    connect(model_, &QAbstractItemModel::rowsRemoved, this, &SourcesPanel::updateButtons);
    updateButtons();
}

int SourcesPanel::currentRow() const
{
    return list_->currentIndex().isValid() ? list_->currentIndex().row() : -1;
}

void SourcesPanel::addSourceInteractively()
{
    SourceDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    model_->addSource(dialog.spec());
    list_->setCurrentIndex(model_->index(model_->rowCount() - 1));
    emit importRequested();
}

void SourcesPanel::removeCurrent()
{
    const int row = currentRow();
    if (row >= 0)
        model_->removeSource(row);
}

void SourcesPanel::moveCurrent(int delta)
{
    const int row = currentRow();
    const int target = row + delta;
    if (row < 0 || target < 0 || target >= model_->rowCount())
        return;
    model_->moveSource(row, target);
    list_->setCurrentIndex(model_->index(target));
}

void SourcesPanel::updateButtons()
{
    const int row = currentRow();
    remove_->setEnabled(row >= 0);
    up_->setEnabled(row > 0);
    down_->setEnabled(row >= 0 && row + 1 < model_->rowCount());
    import_->setEnabled(model_->rowCount() > 0);
}

} // namespace cachescope::ui

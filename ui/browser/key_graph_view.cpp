#include "browser/key_graph_view.h"

#include "cache/imported_cache.h"
#include "models/steps_model.h"

#include <QGraphicsPathItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QPainterPath>
#include <QWheelEvent>
#include <vector>

namespace cachescope::ui {

namespace {
constexpr qreal kNodeWidth = 210; // room for "CACHED [stage 2/4] RUN …"
constexpr qreal kNodeHeight = 58; // three lines: digest, state, the build step
constexpr qreal kColumnGap = 70;
constexpr qreal kRowGap = 14;

// Longest distance from a root; the graph is acyclic (the importer rejects loops).
std::vector<int> depths(const cache::KeyGraph& g)
{
    const auto n = static_cast<cache::ItemId>(g.itemCount());
    std::vector<int> depth(static_cast<std::size_t>(n), -1);
    std::vector<cache::ItemId> stack;
    for (cache::ItemId start = 0; start < n; ++start) {
        if (depth[static_cast<std::size_t>(start)] >= 0)
            continue;
        stack.push_back(start);
        while (!stack.empty()) {
            const cache::ItemId id = stack.back();
            int d = 0;
            bool ready = true;
            for (const auto& alternatives : g.item(id).parents)
                for (const cache::KeyLink& link : alternatives) {
                    const int pd = depth[static_cast<std::size_t>(link.parent)];
                    if (pd < 0) {
                        stack.push_back(link.parent);
                        ready = false;
                    } else {
                        d = std::max(d, pd + 1);
                    }
                }
            if (ready) {
                depth[static_cast<std::size_t>(id)] = d;
                stack.pop_back();
            }
        }
    }
    return depth;
}
} // namespace

KeyGraphView::KeyGraphView(QWidget* parent) : QGraphicsView(parent)
{
    setScene(new QGraphicsScene(this));
    setRenderHint(QPainter::Antialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setAccessibleName(tr("Cache key graph"));
}

void KeyGraphView::setGraph(std::shared_ptr<const cache::ImportedCache> owner, const cache::ImportedGraph* graph)
{
    owner_ = std::move(owner);
    graph_ = graph;
    rebuild();
}

void KeyGraphView::setStepMap(BuildStepMap map)
{
    if (map == steps_)
        return;
    steps_ = std::move(map);
    rebuild();
}

void KeyGraphView::wheelEvent(QWheelEvent* event)
{
    if (event->modifiers() & Qt::ControlModifier) {
        const qreal factor = event->angleDelta().y() > 0 ? 1.15 : 1 / 1.15;
        scale(factor, factor);
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
}

void KeyGraphView::rebuild()
{
    QGraphicsScene* s = scene();
    s->clear();
    resetTransform();
    if (!graph_)
        return;
    const cache::KeyGraph& g = graph_->graph;
    const QPalette pal = palette();
    if (g.itemCount() > static_cast<std::size_t>(kMaxDrawnItems)) {
        s->addSimpleText(tr("%1 records, %2 links: too many to draw; see the Records tab.")
                             .arg(g.itemCount())
                             .arg(g.linkCount()))
            ->setBrush(pal.text());
        return;
    }

    const std::vector<int> depth = depths(g);
    std::vector<int> rowInColumn(depth.size());
    std::vector<int> columnFill;
    for (std::size_t i = 0; i < depth.size(); ++i) {
        const auto col = static_cast<std::size_t>(depth[i]);
        if (columnFill.size() <= col)
            columnFill.resize(col + 1, 0);
        rowInColumn[i] = columnFill[col]++;
    }
    auto topLeft = [&](std::size_t i) {
        return QPointF(depth[i] * (kNodeWidth + kColumnGap), rowInColumn[i] * (kNodeHeight + kRowGap));
    };

    // Edges first, so nodes paint over them.
    QPen edgePen(pal.color(QPalette::Mid), 1.2);
    QPen selectorPen(pal.color(QPalette::Mid), 1.2, Qt::DashLine);
    for (std::size_t i = 0; i < depth.size(); ++i) {
        const cache::KeyItem& item = g.item(static_cast<cache::ItemId>(i));
        for (std::size_t input = 0; input < item.parents.size(); ++input)
            for (const cache::KeyLink& link : item.parents[input]) {
                const QPointF from = topLeft(static_cast<std::size_t>(link.parent)) + QPointF(kNodeWidth, kNodeHeight / 2);
                const QPointF to = topLeft(i) + QPointF(0, kNodeHeight / 2);
                QPainterPath path(from);
                path.cubicTo(from + QPointF(kColumnGap / 2, 0), to - QPointF(kColumnGap / 2, 0), to);
                auto* edge = s->addPath(path, link.selector ? selectorPen : edgePen);
                edge->setToolTip(link.selector ? tr("input %1, selector %2")
                                                     .arg(input)
                                                     .arg(QString::fromStdString(g.selector(link.selector)))
                                               : tr("input %1").arg(input));
            }
    }

    const QColor shaded = pal.color(QPalette::Highlight).lighter(pal.color(QPalette::Base).lightness() > 128 ? 170 : 60);
    for (std::size_t i = 0; i < depth.size(); ++i) {
        const auto id = static_cast<cache::ItemId>(i);
        const cache::KeyItem& item = g.item(id);
        const cache::ResultChain* best = g.bestResult(id);
        const bool root = item.parents.empty();
        const bool usable = g.bestUsableResult(id) != nullptr;
        const bool broken = best && !usable;

        QString label = root ? tr("root") : usable ? tr("result") : broken ? tr("MISSING blob") : tr("key only");
        QPen pen(broken ? QColor(Qt::red) : pal.color(QPalette::Text), root ? 2.5 : 1.0);
        QString tooltip = QString::fromStdString(g.digest(id).str()) + QLatin1Char('\n') + label;
        QString stepLine;
        const auto mapped = steps_.constFind(QString::fromStdString(g.digest(id).str()));
        if (mapped != steps_.constEnd()) {
            // A dashed outline for a step only looked up here; the CACHED colour for a hit from here.
            if (mapped->servedHere) {
                pen = QPen(statusColor(StepInfo::Status::Cached), 3.5);
            } else if (!broken) {
                pen.setStyle(Qt::DashLine);
                pen.setWidthF(2.0);
            }
            const QString first = mapped->steps.first();
            stepLine = (mapped->servedHere ? tr("CACHED ") : tr("step ")) +
                       fontMetrics().elidedText(first, Qt::ElideRight, static_cast<int>(kNodeWidth) - 70);
            tooltip += QLatin1Char('\n') + (mapped->servedHere ? tr("served: ") : tr("looked up by: ")) +
                       mapped->steps.join(QStringLiteral(", "));
        }
        auto* node = s->addRect(QRectF(topLeft(i), QSizeF(kNodeWidth, kNodeHeight)), pen,
                                usable ? QBrush(shaded) : pal.base());
        node->setToolTip(tooltip);
        node->setData(0, static_cast<int>(id));
        auto* text = s->addSimpleText(QString::fromStdString(g.digest(id).shortForm(10)) + QLatin1Char('\n') + label +
                                      (stepLine.isEmpty() ? QString() : QLatin1Char('\n') + stepLine));
        text->setBrush(pal.text());
        text->setParentItem(node); // the node sits at the origin, so its coordinates are the scene's
        text->setPos(topLeft(i) + QPointF(8, 5));
    }
    s->setSceneRect(s->itemsBoundingRect().adjusted(-20, -20, 20, 20));
}

} // namespace cachescope::ui

#pragma once
// Records as nodes, links as edges, laid out in columns by depth from the roots. Roots are
// marked, records with a loadable result are shaded, records whose result misses a blob are
// outlined in red; each node also says so in words. Records the steps of the current plan or build
// key to are marked with the step (a CACHED badge colour when this source served it).
#include "browser/build_step_map.h"

#include <QGraphicsView>
#include <memory>

namespace cachescope::cache {
struct ImportedCache;
struct ImportedGraph;
}

namespace cachescope::ui {

class KeyGraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit KeyGraphView(QWidget* parent = nullptr);

    void setGraph(std::shared_ptr<const cache::ImportedCache> owner, const cache::ImportedGraph* graph);
    void setStepMap(BuildStepMap map);
    // Larger graphs are summarised rather than drawn node by node.
    static constexpr int kMaxDrawnItems = 3000;

signals:
    void recordActivated(int itemId);

protected:
    void wheelEvent(QWheelEvent* event) override;

private:
    void rebuild();

    std::shared_ptr<const cache::ImportedCache> owner_;
    const cache::ImportedGraph* graph_ = nullptr;
    BuildStepMap steps_;
};

} // namespace cachescope::ui

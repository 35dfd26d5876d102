#pragma once
// The right-hand panel of the steps tab: everything known about the selected step — its full name,
// CACHED or MISS, the cause and explanation of a miss, what the last build measured (time, layer size)
// and the RUN log it printed, the serving source and the others that had it,
// the record digest, and what was hashed (the op's CacheMap plaintext and its inputs' selectors).
#include "models/steps_model.h"

#include <QWidget>
#include <optional>

class QTextBrowser;

namespace cachescope::ui {

class StepDetails : public QWidget {
    Q_OBJECT
public:
    explicit StepDetails(QWidget* parent = nullptr);

    // The details as plain text (what a screen reader or a test reads).
    QString text() const;
    const std::optional<StepInfo>& step() const { return step_; }

public slots:
    void showStep(const cachescope::ui::StepInfo* step);

private:
    void render();

    std::optional<StepInfo> step_;
    QTextBrowser* browser_ = nullptr;
};

} // namespace cachescope::ui

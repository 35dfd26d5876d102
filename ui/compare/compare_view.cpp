#include "compare/compare_view.h"

#include "build/compare_runner.h"
#include "compare/compare_worker.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QBoxPlotSeries>
#include <QBoxSet>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>

namespace cachescope::ui {

namespace {

double medianOf(std::vector<double> v)
{
    return build::sampleStats(v).median;
}

// A box of the wall times: extremes, quartiles (medians of the lower and upper halves), median.
QBoxSet* boxOf(const std::vector<build::CompareSample>& samples, const QString& label)
{
    std::vector<double> t;
    for (const auto& s : samples)
        t.push_back(s.seconds);
    std::sort(t.begin(), t.end());
    const std::size_t half = t.size() / 2;
    const std::vector<double> lower(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(half, 1)));
    const std::vector<double> upper(t.end() - static_cast<std::ptrdiff_t>(std::max<std::size_t>(half, 1)), t.end());
    const build::SampleStats st = build::sampleStats(t);
    return new QBoxSet(st.min, medianOf(lower), st.median, medianOf(upper), st.max, label);
}

QChart* newChart(const QString& title)
{
    auto* chart = new QChart;
    // QtCharts paints its own white background unless told: follow the system palette (light or dark).
    const bool dark = QApplication::palette().color(QPalette::Window).lightness() < 128;
    chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundBrush(QApplication::palette().window());
    chart->setTitle(title);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    return chart;
}

void clearChart(QChart* chart)
{
    chart->removeAllSeries();
    for (QAbstractAxis* axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
}

QString shortName(const std::string& name)
{
    QString s = QString::fromStdString(name);
    return s.size() > 48 ? s.left(47) + QChar(0x2026) : s;
}

} // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent)
{
    worker_ = new CompareWorker(this);

    runs_ = new QSpinBox(this);
    runs_->setRange(1, 20);
    runs_->setValue(3);
    runs_->setAccessibleName(tr("Runs per mode"));
    run_ = new QPushButton(tr("&Run compare"), this);
    run_->setToolTip(tr("Build the current project with an empty local store, without and with the enabled cache "
                        "sources, the given number of times each"));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setEnabled(false);
    progress_ = new QProgressBar(this);
    progress_->setAccessibleName(tr("Compare progress"));
    progress_->setTextVisible(true);
    progress_->setValue(0);
    status_ = new QLabel(tr("Builds the project in the build panel without and with the enabled cache sources, "
                            "each time with an empty local store."),
                         this);
    status_->setWordWrap(true);

    verdict_ = new QLabel(this);
    verdict_->setWordWrap(true);
    verdict_->setAccessibleName(tr("Compare verdict"));
    QFont big = verdict_->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    verdict_->setFont(big);

    timesChart_ = newChart(tr("Wall time per build (s): min, quartiles, median, max"));
    stepsChart_ = newChart(tr("Median time per step (s)"));
    stepsChart_->legend()->setAlignment(Qt::AlignRight);
    auto* timesView = new QChartView(timesChart_, this);
    auto* stepsView = new QChartView(stepsChart_, this);
    timesView->setRenderHint(QPainter::Antialiasing);
    stepsView->setRenderHint(QPainter::Antialiasing);
    timesView->setAccessibleName(tr("Build times chart"));
    stepsView->setAccessibleName(tr("Per-step times chart"));

    table_ = new QTableWidget(0, 6, this);
    table_->setHorizontalHeaderLabels(
        {tr("Run"), tr("Mode"), tr("Wall time (s)"), tr("Steps cached"), tr("Steps run"), tr("Pulled")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAccessibleName(tr("Compare runs"));

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Runs:"), this));
    controls->addWidget(runs_);
    controls->addWidget(run_);
    controls->addWidget(cancel_);
    controls->addWidget(progress_, 1);

    auto* charts = new QSplitter(Qt::Horizontal, this);
    charts->addWidget(timesView);
    charts->addWidget(stepsView);
    charts->setStretchFactor(0, 2);
    charts->setStretchFactor(1, 3);
    auto* vertical = new QSplitter(Qt::Vertical, this);
    vertical->addWidget(charts);
    vertical->addWidget(table_);
    vertical->setStretchFactor(0, 4);
    vertical->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(status_);
    layout->addWidget(verdict_);
    layout->addWidget(vertical, 1);

    connect(run_, &QPushButton::clicked, this, [this] { emit compareRequested(runs_->value()); });
    connect(cancel_, &QPushButton::clicked, worker_, &CompareWorker::cancel);
    connect(worker_, &CompareWorker::progress, this, [this](int done, int total, const QString& message) {
        progress_->setRange(0, total);
        progress_->setValue(done);
        status_->setText(message);
    });
    connect(worker_, &CompareWorker::finished, this, [this](std::shared_ptr<const build::CompareReport> report) {
        setRunning(false);
        showReport(*report);
        status_->setText(tr("%1 run(s) per mode · median %2 s (spread %3 s) without the import, %4 s (spread %5 s) "
                            "with it · ratio b/a %6")
                             .arg(report->withImport.size())
                             .arg(report->without.median, 0, 'f', 3)
                             .arg(report->without.spread(), 0, 'f', 3)
                             .arg(report->with.median, 0, 'f', 3)
                             .arg(report->with.spread(), 0, 'f', 3)
                             .arg(report->ratio, 0, 'f', 2));
        emit compareFinished();
    });
    connect(worker_, &CompareWorker::failed, this, [this](const QString& error) {
        setRunning(false);
        status_->setText(tr("Compare failed: %1").arg(error));
        emit compareFailed(error);
    });
    connect(worker_, &CompareWorker::cancelled, this, [this] {
        setRunning(false);
        status_->setText(tr("Compare cancelled."));
        emit compareCancelled();
    });
}

void CompareView::start(const BuildRequest& request, const QStringList& cacheSpecs, int runs)
{
    if (worker_->running())
        return;
    if (request.context.isEmpty()) {
        status_->setText(tr("Choose a build context first."));
        emit compareFailed(status_->text());
        return;
    }
    if (cacheSpecs.isEmpty()) {
        status_->setText(tr("Enable at least one cache source to compare against."));
        emit compareFailed(status_->text());
        return;
    }
    setRunning(true);
    progress_->setRange(0, 1 + 2 * runs);
    progress_->setValue(0);
    verdict_->clear();
    status_->setText(tr("Warm-up build of %1…").arg(request.context));
    worker_->start(request, cacheSpecs, runs);
}

void CompareView::setRunning(bool running)
{
    run_->setEnabled(!running);
    runs_->setEnabled(!running);
    cancel_->setEnabled(running);
}

void CompareView::showReport(const build::CompareReport& r)
{
    verdict_->setText(QString::fromStdString(r.verdict));
    // Green or red on the palette's own background; lighter shades where that background is dark.
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const QString good = dark ? QStringLiteral("#6fcf8a") : QStringLiteral("#1b7f3b");
    const QString bad = dark ? QStringLiteral("#f2827a") : QStringLiteral("#b3261e");
    verdict_->setStyleSheet(QStringLiteral("QLabel { color: %1; }").arg(r.helped() ? good : bad));

    // Wall times: one box plot series per mode.
    clearChart(timesChart_);
    auto* cold = new QBoxPlotSeries;
    cold->setName(tr("No import (cold)"));
    cold->append(boxOf(r.withoutImport, tr("wall time")));
    auto* warm = new QBoxPlotSeries;
    warm->setName(tr("With import"));
    warm->append(boxOf(r.withImport, tr("wall time")));
    timesChart_->addSeries(cold);
    timesChart_->addSeries(warm);
    auto* category = new QBarCategoryAxis;
    category->append(tr("wall time"));
    auto* seconds = new QValueAxis;
    seconds->setTitleText(tr("seconds"));
    seconds->setRange(0, std::max(r.without.max, r.with.max) * 1.15);
    timesChart_->addAxis(category, Qt::AlignBottom);
    timesChart_->addAxis(seconds, Qt::AlignLeft);
    for (QBoxPlotSeries* s : {cold, warm}) {
        s->attachAxis(category);
        s->attachAxis(seconds);
    }

    // Per step: the median time of each step in both modes, stacked; the rest of the wall time
    // (import, plan, pulls, writing the store) on top.
    clearChart(stepsChart_);
    auto* stacked = new QStackedBarSeries;
    double stepsA = 0, stepsB = 0;
    for (const auto& s : r.steps) {
        if (s.withoutImportSeconds <= 0 && s.withImportSeconds <= 0)
            continue;
        auto* set = new QBarSet(shortName(s.name));
        *set << s.withoutImportSeconds << s.withImportSeconds;
        stacked->append(set);
        stepsA += s.withoutImportSeconds;
        stepsB += s.withImportSeconds;
    }
    auto* other = new QBarSet(tr("import, plan, pulls and the rest"));
    *other << std::max(0.0, r.without.median - stepsA) << std::max(0.0, r.with.median - stepsB);
    other->setColor(QColor(150, 150, 150));
    stacked->append(other);
    stepsChart_->addSeries(stacked);
    auto* modes = new QBarCategoryAxis;
    modes->append({tr("No import"), tr("With import")});
    auto* stepSeconds = new QValueAxis;
    stepSeconds->setTitleText(tr("seconds"));
    stepsChart_->addAxis(modes, Qt::AlignBottom);
    stepsChart_->addAxis(stepSeconds, Qt::AlignLeft);
    stacked->attachAxis(modes);
    stacked->attachAxis(stepSeconds);
    stepSeconds->setMin(0);

    table_->setRowCount(0);
    auto addRow = [this](int run, const QString& mode, const build::CompareSample& s) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        const QStringList cells{QString::number(run),
                                mode,
                                QString::number(s.seconds, 'f', 3),
                                QString::number(s.stepsCached),
                                QString::number(s.stepsRun),
                                QLocale().formattedDataSize(static_cast<qint64>(s.bytesPulled))};
        for (int c = 0; c < cells.size(); ++c)
            table_->setItem(row, c, new QTableWidgetItem(cells[c]));
    };
    for (std::size_t i = 0; i < r.withoutImport.size(); ++i) {
        addRow(static_cast<int>(i) + 1, tr("no import"), r.withoutImport[i]);
        addRow(static_cast<int>(i) + 1, tr("with import"), r.withImport[i]);
    }
    table_->resizeColumnsToContents();
}

} // namespace cachescope::ui

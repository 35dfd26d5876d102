#pragma once
// Measures how long the GUI event loop goes without turning: a 10 ms timer notes the gap between
// its ticks; a gap much over 10 ms is time the loop spent blocked (I/O or heavy work on the GUI
// thread). Lives on the thread whose loop it watches.
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <algorithm>
#include <vector>

namespace cachescope::test {

class EventLoopStalls : public QObject {
public:
    EventLoopStalls()
    {
        tick_.setInterval(10);
        tick_.setTimerType(Qt::PreciseTimer);
        connect(&tick_, &QTimer::timeout, this, [this] {
            const qint64 now = clock_.elapsed();
            gaps_.push_back(now - last_);
            last_ = now;
        });
    }
    void start()
    {
        gaps_.clear();
        clock_.start();
        last_ = 0;
        tick_.start();
    }
    void stop() { tick_.stop(); }
    qint64 worst() const { return gaps_.empty() ? 0 : *std::max_element(gaps_.begin(), gaps_.end()); }
    // The p-th percentile gap (p in [0, 100]).
    qint64 percentile(double p) const
    {
        if (gaps_.empty())
            return 0;
        std::vector<qint64> sorted = gaps_;
        std::sort(sorted.begin(), sorted.end());
        const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
        return sorted[std::min(i, sorted.size() - 1)];
    }
    std::size_t samples() const { return gaps_.size(); }

private:
    QTimer tick_;
    QElapsedTimer clock_;
    qint64 last_ = 0;
    std::vector<qint64> gaps_;
};

} // namespace cachescope::test

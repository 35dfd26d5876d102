#pragma once
// Hands a build's events from the engine's thread to the GUI thread in batches. The engine pushes
// every event as it happens; the GUI takes what accumulated at its own pace (every ~50 ms), so a RUN
// printing thousands of lines a second costs the GUI one batch per tick, not one wake-up per line.
#include "build/build_session.h"

#include <mutex>
#include <vector>

namespace cachescope::ui {

class BuildEventQueue {
public:
    // Called on the engine's thread.
    void push(const build::BuildEvent& event);
    // Called on the GUI thread: every event pushed since the last take, in order.
    std::vector<build::BuildEvent> take();

private:
    std::mutex mutex_;
    std::vector<build::BuildEvent> events_;
};

} // namespace cachescope::ui

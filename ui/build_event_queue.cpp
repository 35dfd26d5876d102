#include "build_event_queue.h"

namespace cachescope::ui {

void BuildEventQueue::push(const build::BuildEvent& event)
{
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
}

std::vector<build::BuildEvent> BuildEventQueue::take()
{
    std::vector<build::BuildEvent> out;
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(events_);
    return out;
}

} // namespace cachescope::ui

#pragma once
// Ctrl-C and SIGTERM during a build: the first asks the build to stop (the cooperative cancel kills
// running steps, removes the build's temp dirs and leaves the local store and export targets
// consistent); a second one exits at once.
#include <stop_token>
#include <thread>

class InterruptGuard {
public:
    explicit InterruptGuard(std::stop_source stop);
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    // Whether a signal asked the build to stop.
    bool interrupted() const;

private:
    std::stop_source stop_;
    std::jthread watcher_;
};

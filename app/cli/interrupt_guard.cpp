#include "interrupt_guard.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace {

// Only async-signal-safe work in the handler: count, and wake the watcher through a pipe.
std::atomic<int> g_signals{0};
int g_wake[2] = {-1, -1};
struct sigaction g_oldInt {}, g_oldTerm {};

void onSignal(int)
{
    if (g_signals.fetch_add(1) >= 1) {
        static const char msg[] = "\ninterrupted again: exiting now\n";
        [[maybe_unused]] ssize_t n = ::write(2, msg, sizeof msg - 1);
        ::_exit(130);
    }
    const char c = 's';
    [[maybe_unused]] ssize_t n = ::write(g_wake[1], &c, 1);
}

} // namespace

InterruptGuard::InterruptGuard(std::stop_source stop) : stop_(std::move(stop))
{
    g_signals = 0;
    if (::pipe2(g_wake, O_CLOEXEC) != 0)
        return; // no guard: signals keep their default action
    watcher_ = std::jthread([this](std::stop_token self) {
        pollfd p{g_wake[0], POLLIN, 0};
        while (!self.stop_requested()) {
            if (::poll(&p, 1, -1) <= 0)
                continue;
            char c = 0;
            if (::read(g_wake[0], &c, 1) == 1 && c == 's') {
                std::fprintf(stderr, "\ninterrupted: stopping the build (press Ctrl-C again to exit at once)\n");
                stop_.request_stop();
            }
        }
    });
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &g_oldInt);
    ::sigaction(SIGTERM, &sa, &g_oldTerm);
}

InterruptGuard::~InterruptGuard()
{
    if (g_wake[0] < 0)
        return;
    ::sigaction(SIGINT, &g_oldInt, nullptr);
    ::sigaction(SIGTERM, &g_oldTerm, nullptr);
    watcher_.request_stop();
    const char quit = 'q'; // wake the watcher now rather than at its next poll timeout
    [[maybe_unused]] ssize_t n = ::write(g_wake[1], &quit, 1);
    watcher_.join();
    ::close(g_wake[0]);
    ::close(g_wake[1]);
    g_wake[0] = g_wake[1] = -1;
}

bool InterruptGuard::interrupted() const { return g_signals.load() > 0; }

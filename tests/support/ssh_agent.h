#pragma once
// A real ssh-agent (openssh-client) listening on a socket the test names; stopped on destruction.
#include <QProcess>

#include <filesystem>

namespace cachescope::test {

class SshAgent {
public:
    // Starts `ssh-agent -D -a socket` and waits until it accepts connections. false when it did not.
    bool start(const std::filesystem::path& socket);
    ~SshAgent();

private:
    QProcess process_;
};

} // namespace cachescope::test

#include "support/ssh_agent.h"

#include <QThread>

namespace cachescope::test {

bool SshAgent::start(const std::filesystem::path& socket)
{
    process_.start("ssh-agent", {"-D", "-a", QString::fromStdString(socket.string())});
    if (!process_.waitForStarted())
        return false;
    for (int i = 0; i < 100 && !std::filesystem::exists(socket); ++i)
        QThread::msleep(50);
    return std::filesystem::exists(socket);
}

SshAgent::~SshAgent()
{
    if (process_.state() != QProcess::NotRunning) {
        process_.terminate();
        process_.waitForFinished();
    }
}

} // namespace cachescope::test

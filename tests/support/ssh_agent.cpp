#include "support/ssh_agent.h"

#include "base/error.h"
#include "exec/ssh_agent_forwarder.h"

#include <QThread>

namespace cachescope::test {

bool SshAgent::start(const std::filesystem::path& socket)
{
    process_.start("ssh-agent", {"-D", "-a", QString::fromStdString(socket.string())});
    if (!process_.waitForStarted())
        return false;
    // The socket file appears (bind) a moment before the agent listens: wait until it answers.
    for (int i = 0; i < 100; ++i) {
        try {
            exec::connectUnixSocket(socket, "ssh-agent");
            return true;
        } catch (const Error&) {
            QThread::msleep(50);
        }
    }
    return false;
}

SshAgent::~SshAgent()
{
    if (process_.state() != QProcess::NotRunning) {
        process_.terminate();
        process_.waitForFinished();
    }
}

} // namespace cachescope::test

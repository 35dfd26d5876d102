#pragma once
// The /etc/hosts and /etc/resolv.conf a RUN sees, made the way BuildKit makes them.
#include <string>
#include <utility>
#include <vector>

namespace cachescope::exec {

struct ExtraHost {
    std::string host;
    std::string ip;
};

// "127.0.0.1 localhost <hostname>", "::1 localhost ip6-localhost ip6-loopback", then extras.
std::string makeHostsFile(const std::string& hostname, const std::vector<ExtraHost>& extraHosts);

// The host's resolv.conf; without the host network, loopback name servers are dropped
// (they would be the sandbox's own loopback) and public ones used when none is left.
std::string makeResolvConf(const std::string& hostResolvConf, bool hostNetwork);

} // namespace cachescope::exec

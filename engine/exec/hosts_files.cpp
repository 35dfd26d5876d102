#include "exec/hosts_files.h"

#include <sstream>

namespace cachescope::exec {

std::string makeHostsFile(const std::string& hostname, const std::vector<ExtraHost>& extraHosts)
{
    std::string out = "127.0.0.1\tlocalhost " + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
    for (const auto& h : extraHosts)
        out += h.ip + "\t" + h.host + "\n";
    return out;
}

std::string makeResolvConf(const std::string& hostResolvConf, bool hostNetwork)
{
    if (hostNetwork)
        return hostResolvConf;
    std::istringstream in(hostResolvConf);
    std::string line, out;
    bool haveServer = false;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        words >> key >> value;
        if (key == "nameserver") {
            if (value.starts_with("127.") || value == "::1")
                continue;
            haveServer = true;
        }
        out += line + "\n";
    }
    if (!haveServer)
        out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n";
    return out;
}

} // namespace cachescope::exec

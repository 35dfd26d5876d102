#include "dockerfile/platform.h"

#include "base/error.h"
#include "dockerfile/text_util.h"

#include <vector>

namespace cachescope::dockerfile {
namespace {

void normalize(Platform& p)
{
    p.os = toLowerAscii(p.os);
    if (p.os == "macos")
        p.os = "darwin";
    std::string& a = p.architecture;
    std::string& v = p.variant;
    a = toLowerAscii(a);
    v = toLowerAscii(v);
    if (a == "i386") {
        a = "386";
        v.clear();
    } else if (a == "x86_64" || a == "x86-64" || a == "amd64") {
        a = "amd64";
        if (v == "v1")
            v.clear();
    } else if (a == "aarch64" || a == "arm64") {
        a = "arm64";
        if (v == "8" || v == "v8" || v == "v8.0")
            v.clear();
    } else if (a == "armhf") {
        a = "arm";
        v = "v7";
    } else if (a == "armel") {
        a = "arm";
        v = "v6";
    } else if (a == "arm") {
        if (v.empty() || v == "7")
            v = "v7";
        else if (v == "5" || v == "6" || v == "8")
            v = "v" + v;
    }
}

bool isKnownOs(const std::string& s)
{
    static const char* const known[] = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios",
                                        "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows",
                                        "zos", "macos", "wasip1"};
    for (const char* k : known)
        if (s == k)
            return true;
    return false;
}

} // namespace

std::string Platform::str() const
{
    if (os.empty())
        return "unknown";
    std::string out = os + "/" + architecture;
    if (!variant.empty())
        out += "/" + variant;
    return out;
}

std::string Platform::strAll() const
{
    if (os.empty())
        return "unknown";
    std::string out = os;
    if (!osVersion.empty())
        out += ":" + osVersion;
    out += "/" + architecture;
    if (!variant.empty())
        out += "/" + variant;
    return out;
}

Platform Platform::parse(std::string_view text)
{
    auto bad = [&] { return Error("invalid platform \"" + std::string(text) + "\""); };
    std::string s(text);
    std::string osVersion;
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto slash = s.find('/', start);
        parts.push_back(s.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    for (const std::string& part : parts)
        if (part.empty())
            throw bad();
    if (const auto colon = parts[0].find(':'); colon != std::string::npos) {
        osVersion = parts[0].substr(colon + 1);
        parts[0].resize(colon);
    }
    Platform p;
    p.osVersion = osVersion;
    if (parts.size() == 1) {
        // A lone word is an OS when it names one, otherwise an architecture on Linux.
        if (isKnownOs(toLowerAscii(parts[0]))) {
            p.os = parts[0];
            p.architecture = "amd64";
        } else {
            p.os = "linux";
            p.architecture = parts[0];
        }
    } else if (parts.size() == 2) {
        p.os = parts[0];
        p.architecture = parts[1];
    } else if (parts.size() == 3) {
        p.os = parts[0];
        p.architecture = parts[1];
        p.variant = parts[2];
    } else {
        throw bad();
    }
    normalize(p);
    return p;
}

} // namespace cachescope::dockerfile

#include "registry/reference.h"

#include "base/error.h"

#include <algorithm>
#include <cctype>

namespace cachescope::registry {

namespace {

[[noreturn]] void invalid(std::string_view text, const std::string& why)
{
    throw Error("invalid image reference \"" + std::string(text) + "\": " + why);
}

bool isLowerAlnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool isAlnum(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool isWordChar(char c)
{
    return isAlnum(c) || c == '_';
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+
bool validPathComponent(std::string_view c)
{
    std::size_t i = 0;
    auto alnumRun = [&] {
        std::size_t start = i;
        while (i < c.size() && isLowerAlnum(c[i]))
            ++i;
        return i > start;
    };
    if (!alnumRun())
        return false;
    while (i < c.size()) {
        if (c[i] == '.' || (c[i] == '_' && (i + 1 >= c.size() || c[i + 1] != '_')))
            ++i;
        else if (c.substr(i, 2) == "__")
            i += 2;
        else if (c[i] == '-')
            while (i < c.size() && c[i] == '-')
                ++i;
        else
            return false;
        if (!alnumRun())
            return false;
    }
    return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool validDomainComponent(std::string_view c)
{
    if (c.empty() || !isAlnum(c.front()) || !isAlnum(c.back()))
        return false;
    return std::all_of(c.begin(), c.end(), [](char ch) { return isAlnum(ch) || ch == '-'; });
}

bool validDomain(std::string_view d)
{
    std::string_view host = d;
    bool ipv6 = false;
    if (!d.empty() && d.front() == '[') {
        ipv6 = true;
        auto close = d.find(']');
        if (close == std::string_view::npos || close < 2)
            return false;
        std::string_view ip = d.substr(1, close - 1);
        if (!std::all_of(ip.begin(), ip.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':'; }))
            return false;
        host = {};
        d = d.substr(close + 1);
        if (d.empty())
            return true;
        if (d.front() != ':')
            return false;
    } else if (auto colon = d.find(':'); colon != std::string_view::npos) {
        host = d.substr(0, colon);
        d = d.substr(colon);
    } else {
        d = {};
    }
    if (!ipv6) {
        std::size_t start = 0;
        while (true) {
            auto dot = host.find('.', start);
            if (!validDomainComponent(host.substr(start, dot == std::string_view::npos ? dot : dot - start)))
                return false;
            if (dot == std::string_view::npos)
                break;
            start = dot + 1;
        }
    }
    if (!d.empty()) { // ":port"
        std::string_view port = d.substr(1);
        if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
    }
    return true;
}

bool validTag(std::string_view t)
{
    if (t.empty() || t.size() > 128 || !isWordChar(t.front()))
        return false;
    return std::all_of(t.begin(), t.end(), [](char c) { return isWordChar(c) || c == '.' || c == '-'; });
}

bool isHex64(std::string_view s)
{
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return isLowerAlnum(c) && std::isxdigit(c); });
}

std::string hostOnly(std::string_view hostWithPort)
{
    if (!hostWithPort.empty() && hostWithPort.front() == '[') {
        auto close = hostWithPort.find(']');
        return std::string(hostWithPort.substr(1, close == std::string_view::npos ? close : close - 1));
    }
    return std::string(hostWithPort.substr(0, hostWithPort.find(':')));
}

} // namespace

Reference Reference::parse(std::string_view text)
{
    if (text.empty())
        invalid(text, "empty reference");
    if (isHex64(text))
        invalid(text, "a 64-character hexadecimal string is an image ID, not a repository name");

    Reference ref;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto d = oci::Digest::tryParse(rest.substr(at + 1));
        if (!d)
            invalid(text, "invalid digest \"" + std::string(rest.substr(at + 1)) + "\" (expected sha256:<64 hex>)");
        ref.digest = *d;
        rest = rest.substr(0, at);
    }
    // The tag is after the last ':' that follows the last '/', so that "host:5000/x" keeps its port.
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        std::string_view tag = rest.substr(colon + 1);
        if (!validTag(tag))
            invalid(text, "invalid tag \"" + std::string(tag) + "\" (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
        ref.tag = std::string(tag);
        rest = rest.substr(0, colon);
    }
    if (rest.empty())
        invalid(text, "missing repository name");

    // The first component is a registry domain when it looks like a host: it has a '.' or a ':', is
    // "localhost", or has uppercase letters (repository names cannot).
    auto firstSlash = rest.find('/');
    std::string_view first = rest.substr(0, firstSlash);
    bool isDomain = firstSlash != std::string_view::npos &&
                    (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
                     std::any_of(first.begin(), first.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }));
    if (isDomain) {
        ref.domain = std::string(first);
        ref.path = std::string(rest.substr(firstSlash + 1));
    } else {
        ref.domain = std::string(DockerHubDomain);
        ref.path = std::string(rest);
    }
    if (ref.domain == "index.docker.io")
        ref.domain = std::string(DockerHubDomain);
    if (ref.domain == DockerHubDomain && ref.path.find('/') == std::string::npos)
        ref.path = "library/" + ref.path;

    if (!validDomain(ref.domain))
        invalid(text, "invalid registry domain \"" + ref.domain + "\"");
    if (std::any_of(ref.path.begin(), ref.path.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }))
        invalid(text, "repository name must be lowercase");
    std::size_t start = 0;
    while (true) {
        auto end = ref.path.find('/', start);
        std::string_view component = std::string_view(ref.path).substr(start, end == std::string::npos ? end : end - start);
        if (!validPathComponent(component))
            invalid(text, component.empty() ? std::string("empty path component")
                                            : "invalid path component \"" + std::string(component) + "\"");
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    if (ref.domain.size() + 1 + ref.path.size() > 255)
        invalid(text, "repository name is longer than 255 characters");
    if (ref.tag.empty() && ref.digest.empty())
        ref.tag = "latest";
    return ref;
}

std::string Reference::repository() const
{
    return domain + "/" + path;
}

std::string Reference::str() const
{
    std::string s = repository();
    if (!tag.empty())
        s += ":" + tag;
    if (!digest.empty())
        s += "@" + digest.str();
    return s;
}

std::string Reference::tagOrDigest() const
{
    return digest.empty() ? tag : digest.str();
}

std::string Reference::apiHost() const
{
    return apiHostFor(domain);
}

bool Reference::isLoopback() const
{
    return isLoopbackHost(domain);
}

bool isLoopbackHost(std::string_view hostWithPort)
{
    const std::string host = hostOnly(hostWithPort);
    if (host == "localhost" || host == "::1")
        return true;
    // 127.0.0.0/8 written as a dotted quad
    if (host.rfind("127.", 0) != 0)
        return false;
    int parts = 0;
    std::size_t start = 0;
    while (start <= host.size()) {
        auto dot = host.find('.', start);
        std::string part = host.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), ::isdigit) || std::stoi(part) > 255)
            return false;
        ++parts;
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    return parts == 4;
}

std::string apiHostFor(std::string_view domain)
{
    if (domain == DockerHubDomain || domain == "index.docker.io")
        return std::string(DockerHubApiHost);
    return std::string(domain);
}

} // namespace cachescope::registry

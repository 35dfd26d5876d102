#pragma once
// WWW-Authenticate challenges (RFC 7235): `Bearer realm="…",service="…",scope="…"`, `Basic realm="…"`,
// several challenges in one header, quoted strings with backslash escapes.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::registry {

struct AuthChallenge {
    std::string scheme;                        // lowercased: "basic", "bearer"
    std::map<std::string, std::string> params; // keys lowercased

    std::string param(const std::string& key) const;
    bool isBearer() const { return scheme == "bearer"; }
    bool isBasic() const { return scheme == "basic"; }
};

// Parses one or more header values. Malformed parts are skipped rather than fatal: a registry that
// sends an odd header should still get the challenges we can read.
std::vector<AuthChallenge> parseAuthChallenges(std::string_view header);

} // namespace cachescope::registry

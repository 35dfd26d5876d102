#include "registry/auth_challenge.h"

#include <cctype>

namespace cachescope::registry {

namespace {

// RFC 7230 token characters.
bool isTokenChar(char c)
{
    if (std::isalnum(static_cast<unsigned char>(c)))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class Scanner {
public:
    explicit Scanner(std::string_view s) : s_(s) {}
    bool atEnd() const { return i_ >= s_.size(); }
    char peek() const { return atEnd() ? '\0' : s_[i_]; }
    void skipSpace()
    {
        while (!atEnd() && (s_[i_] == ' ' || s_[i_] == '\t'))
            ++i_;
    }
    void skipSpaceAndCommas()
    {
        while (!atEnd() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ','))
            ++i_;
    }
    std::string_view token()
    {
        std::size_t start = i_;
        while (!atEnd() && isTokenChar(s_[i_]))
            ++i_;
        return s_.substr(start, i_ - start);
    }
    std::string quoted()
    {
        std::string out;
        ++i_; // opening quote
        while (!atEnd() && s_[i_] != '"') {
            if (s_[i_] == '\\' && i_ + 1 < s_.size())
                ++i_;
            out += s_[i_++];
        }
        if (!atEnd())
            ++i_; // closing quote
        return out;
    }
    std::size_t pos() const { return i_; }
    void seek(std::size_t p) { i_ = p; }

private:
    std::string_view s_;
    std::size_t i_ = 0;
};

} // namespace

std::string AuthChallenge::param(const std::string& key) const
{
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
}

std::vector<AuthChallenge> parseAuthChallenges(std::string_view header)
{
    std::vector<AuthChallenge> out;
    Scanner sc(header);
    while (true) {
        sc.skipSpaceAndCommas();
        if (sc.atEnd())
            break;
        std::string_view scheme = sc.token();
        if (scheme.empty()) { // garbage: skip one character and try again
            sc.seek(sc.pos() + 1);
            continue;
        }
        AuthChallenge challenge;
        challenge.scheme = lower(scheme);
        // auth-params: name=value pairs separated by commas, until the next "scheme " begins.
        while (true) {
            sc.skipSpaceAndCommas();
            std::size_t save = sc.pos();
            std::string_view name = sc.token();
            sc.skipSpace();
            if (name.empty() || sc.peek() != '=') {
                sc.seek(save); // not a parameter: the next challenge's scheme starts here
                break;
            }
            sc.seek(sc.pos() + 1); // '='
            sc.skipSpace();
            std::string value = sc.peek() == '"' ? sc.quoted() : std::string(sc.token());
            challenge.params[lower(name)] = value;
        }
        out.push_back(std::move(challenge));
    }
    return out;
}

} // namespace cachescope::registry

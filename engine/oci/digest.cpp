#include "oci/digest.h"

#include "base/error.h"

#include <openssl/evp.h>

namespace cachescope::oci {

namespace {
bool isLowerHex(std::string_view s)
{
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}
} // namespace

std::optional<Digest> Digest::tryParse(std::string_view text)
{
    constexpr std::string_view prefix = "sha256:";
    if (text.size() != prefix.size() + 64 || text.substr(0, prefix.size()) != prefix ||
        !isLowerHex(text.substr(prefix.size())))
        return std::nullopt;
    return Digest(std::string(text));
}

Digest Digest::parse(std::string_view text)
{
    if (auto d = tryParse(text))
        return *d;
    if (text.find(':') != std::string_view::npos && text.substr(0, 7) != "sha256:")
        throw Error("unsupported digest algorithm in \"" + std::string(text) + "\" (only sha256 is supported)");
    throw Error("invalid digest \"" + std::string(text) + "\" (expected sha256:<64 lowercase hex digits>)");
}

Digest Digest::of(std::string_view bytes)
{
    Sha256 h;
    h.update(bytes);
    return h.finish();
}

std::string Digest::shortForm(std::size_t hexChars) const
{
    if (empty())
        return {};
    return "sha256:" + std::string(hex().substr(0, hexChars));
}

std::string toHex(std::string_view raw)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

struct Sha256::State {
    EVP_MD_CTX* ctx = nullptr;
    ~State() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>())
{
    state_->ctx = EVP_MD_CTX_new();
    if (!state_->ctx || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1)
        throw Error("OpenSSL: cannot initialise SHA-256");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size)
{
    EVP_DigestUpdate(state_->ctx, data, size);
}

void Sha256::update(std::string_view bytes)
{
    update(bytes.data(), bytes.size());
}

std::string Sha256::finishRaw()
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(state_->ctx, out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

Digest Sha256::finish()
{
    return Digest::parse("sha256:" + toHex(finishRaw()));
}

} // namespace cachescope::oci

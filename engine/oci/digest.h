#pragma once
// A content digest ("sha256:<64 hex>") and a streaming SHA-256 hasher (OpenSSL EVP).
#include <compare>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cachescope::oci {

class Digest {
public:
    Digest() = default;

    // Parses "sha256:<64 lowercase hex>". Throws Error naming the text when it is not one.
    static Digest parse(std::string_view text);
    static std::optional<Digest> tryParse(std::string_view text);
    // The SHA-256 digest of bytes.
    static Digest of(std::string_view bytes);
    static Digest fromHex(std::string_view hex) { return parse("sha256:" + std::string(hex)); }

    bool empty() const { return text_.empty(); }
    const std::string& str() const { return text_; }
    std::string_view algorithm() const { return std::string_view(text_).substr(0, 6); }
    std::string_view hex() const { return std::string_view(text_).substr(7); }
    // "sha256:0123456789ab" — for display only.
    std::string shortForm(std::size_t hexChars = 12) const;

    auto operator<=>(const Digest&) const = default;

private:
    explicit Digest(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

// Incremental SHA-256; feed bytes with update(), then finish() once.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    void update(std::string_view bytes);
    void update(const void* data, std::size_t size);
    Digest finish();
    // Raw 32-byte result, for callers that hash digests again.
    std::string finishRaw();

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Lowercase hex of raw bytes.
std::string toHex(std::string_view raw);

} // namespace cachescope::oci

template <>
struct std::hash<cachescope::oci::Digest> {
    std::size_t operator()(const cachescope::oci::Digest& d) const noexcept
    {
        return std::hash<std::string>()(d.str());
    }
};

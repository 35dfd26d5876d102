#include "base/base64.h"

#include "base/error.h"

#include <openssl/evp.h>

namespace cachescope {

std::string base64Encode(std::string_view bytes)
{
    std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string base64Decode(std::string_view text, const std::string& what)
{
    std::string clean;
    clean.reserve(text.size());
    for (char c : text)
        if (c != '\r' && c != '\n')
            clean += c;
    if (clean.size() % 4 != 0)
        throw Error(what + ": invalid base64 (length " + std::to_string(clean.size()) + " is not a multiple of 4)");
    std::string out(clean.size() / 4 * 3 + 1, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
    if (n < 0)
        throw Error(what + ": invalid base64");
    // EVP_DecodeBlock counts the padding as zero bytes.
    std::size_t size = static_cast<std::size_t>(n);
    if (!clean.empty() && clean.back() == '=')
        --size;
    if (clean.size() >= 2 && clean[clean.size() - 2] == '=')
        --size;
    out.resize(size);
    return out;
}

} // namespace cachescope

#pragma once
// Standard base64 with padding, as Go's encoding/json writes []byte fields (OpenSSL does the work).
#include <string>
#include <string_view>

namespace cachescope {

std::string base64Encode(std::string_view bytes);
// Decodes standard padded base64, skipping newlines as Go does. Throws Error("<what>: invalid base64 …").
std::string base64Decode(std::string_view text, const std::string& what);

} // namespace cachescope

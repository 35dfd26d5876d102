#pragma once
// Standard base64 with padding, as Go's encoding/json writes []byte fields.
#include <string>
#include <string_view>

namespace cachescope {

std::string base64Encode(std::string_view bytes);

} // namespace cachescope

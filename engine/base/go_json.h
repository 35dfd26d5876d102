#pragma once
// Serialises JSON the way Go's encoding/json does, so that digests of what we write
// match BuildKit's byte for byte: compact, keys in insertion order (struct field order;
// build objects with ordered_json), "<", ">", "&", U+2028 and U+2029 escaped, invalid
// UTF-8 replaced by U+FFFD.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cachescope {

std::string goJson(const nlohmann::ordered_json& value);
// Appends one JSON string literal with Go's escaping.
void appendGoJsonString(std::string& out, std::string_view text);

} // namespace cachescope

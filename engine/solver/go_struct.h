#pragma once
// Builds the JSON of a Go struct field by field, in declaration order, applying the
// `omitempty` rule of encoding/json: zero numbers, false, "" and empty lists are left out.
// Serialise the result with goJson() (base/go_json.h).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace cachescope::solver {

class GoStruct {
public:
    GoStruct() : json_(nlohmann::ordered_json::object()) {}

    GoStruct& str(const char* key, const std::string& v)
    {
        if (!v.empty())
            json_[key] = v;
        return *this;
    }
    GoStruct& num(const char* key, std::int64_t v)
    {
        if (v != 0)
            json_[key] = v;
        return *this;
    }
    GoStruct& flag(const char* key, bool v)
    {
        if (v)
            json_[key] = true;
        return *this;
    }
    GoStruct& strings(const char* key, const std::vector<std::string>& v)
    {
        if (!v.empty())
            json_[key] = v;
        return *this;
    }
    // A pointer field: present (even when it encodes to {}) or absent.
    GoStruct& object(const char* key, nlohmann::ordered_json v)
    {
        json_[key] = std::move(v);
        return *this;
    }
    // A repeated message field: left out when empty.
    GoStruct& list(const char* key, nlohmann::ordered_json array)
    {
        if (!array.empty())
            json_[key] = std::move(array);
        return *this;
    }
    // A field without omitempty: always written.
    GoStruct& always(const char* key, nlohmann::ordered_json v)
    {
        json_[key] = std::move(v);
        return *this;
    }

    const nlohmann::ordered_json& json() const& { return json_; }
    nlohmann::ordered_json json() && { return std::move(json_); }

private:
    nlohmann::ordered_json json_;
};

} // namespace cachescope::solver

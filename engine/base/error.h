#pragma once
// The one exception type of the engine. Its message is written for a user:
// it names the input (source, file, URL) and what is wrong with it.
#include <stdexcept>
#include <string>

namespace cachescope {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A caller's std::stop_token stopped the operation; the message names the operation ("dry run
// cancelled"). Callers that cancel tell it from a failure by this type.
class OperationCancelled : public Error {
public:
    explicit OperationCancelled(const std::string& message) : Error(message) {}
};

// Prefixes an error with the context it happened in ("local cache /x: " + cause).
[[noreturn]] inline void rethrowWithContext(const std::string& context, const std::exception& cause)
{
    throw Error(context + ": " + cause.what());
}

} // namespace cachescope

#pragma once
// ge::Error: the one exception type of the library. Messages name the op, what was expected and
// what came, e.g. "add: expected tensors on the same device, got cpu and cuda:0".
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ge {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// Throws ge::Error whose message is the concatenation of the streamed parts.
template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace ge

// GE_CHECK(cond, parts...): argument validation that survives NDEBUG builds.
#define GE_CHECK(cond, ...)    \
  do {                         \
    if (!(cond)) {             \
      ::ge::fail(__VA_ARGS__); \
    }                          \
  } while (0)

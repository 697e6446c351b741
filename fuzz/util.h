#pragma once
// What every target shares: bad input must end in ge::Error. Any other exception escapes the
// target, and libFuzzer reports it (with the input) like a crash: the library's contract is that
// corrupt files throw ge::Error naming the file and the defect.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ganengine/error.h"

namespace ge::fuzz {

// Runs `parse`; a ge::Error is the expected outcome for most inputs. Its message must name what
// was parsed, so an empty message is a finding too.
template <class Fn>
void expect_error_or_success(Fn&& parse) {
  try {
    parse();
  } catch (const ge::Error& e) {
    if (std::string_view(e.what()).empty()) __builtin_trap();
  }
}

// Whether an image's header declares more pixels than the targets decode. The library takes up
// to 2^26 (a real photograph's size); decoding that many zero-filled pixels from a few bytes takes
// seconds under the sanitizers, which would only slow the search down.
bool too_large_to_fuzz(const uint8_t* data, size_t size);

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ge::fuzz

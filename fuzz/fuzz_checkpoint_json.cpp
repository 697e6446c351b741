// checkpoint.json: the record of a training directory (steps, random state, loaders, optimizer
// groups and schedules, both options objects and the tensor file's size and checksum).
#include <cstddef>
#include <cstdint>
#include <string>

#include "util.h"
#include "ganengine/models/train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(ge::fuzz::as_view(data, size));
  ge::fuzz::expect_error_or_success(
      [&] { (void)ge::models::train::parse_checkpoint_json(text, "fuzz/checkpoint.json"); });
  return 0;
}

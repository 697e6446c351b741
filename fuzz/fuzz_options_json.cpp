// The options JSON of checkpoint.json: GanOptions and TrainOptions, each parsed from the same
// text (most inputs are refused by one or both).
#include <cstddef>
#include <cstdint>
#include <string>

#include "util.h"
#include "ganengine/models/gan_options.h"
#include "ganengine/models/train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(ge::fuzz::as_view(data, size));
  ge::fuzz::expect_error_or_success([&] {
    const ge::models::GanOptions o = ge::models::GanOptions::from_json(text);
    // What was accepted must survive a round trip.
    (void)ge::models::GanOptions::from_json(o.to_json());
  });
  ge::fuzz::expect_error_or_success([&] {
    const auto o = ge::models::train::train_options_from_json(text);
    (void)ge::models::train::train_options_from_json(ge::models::train::train_options_to_json(o));
  });
  return 0;
}

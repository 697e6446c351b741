// MNIST IDX files: an images file and a labels file, split from one input at the offset its
// first four bytes give (big-endian, modulo the rest's size), then a few samples read at sizes
// that take each of the loader's paths (28 as is, 32 padded, others resized).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "util.h"
#include "ganengine/models/data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint32_t split_at = (uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) |
                            (uint32_t{data[2]} << 8) | uint32_t{data[3]};
  const std::string_view rest = ge::fuzz::as_view(data + 4, size - 4);
  const size_t cut = split_at % (rest.size() + 1);
  const int64_t resolutions[] = {28, 32, 7, 64};
  const int64_t resolution = resolutions[rest.size() % 4];
  const int64_t channels = (split_at >> 31) != 0 ? 3 : 1;
  ge::fuzz::expect_error_or_success([&] {
    const auto set = ge::models::data::load_mnist_from_memory(rest.substr(0, cut), rest.substr(cut),
                                                              {resolution, channels}, "fuzz-mnist");
    std::vector<float> sample(static_cast<size_t>(channels * resolution * resolution));
    for (int64_t i : {int64_t{0}, set->size() - 1}) {
      set->get(i, sample.data());
      (void)set->label(i);
    }
  });
  return 0;
}

// Data set specs as the command-line apps take them ("mnist:DIR", "images:DIR", "typeset:DIR",
// "ring8", a bare directory, ...), opened as a training set and as a crop set. The process works
// in a directory of its own under /tmp holding a small MNIST pair and an image folder, so that
// relative specs reach real loaders. The first byte picks the format.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util.h"
#include "ganengine/models/data/dataset.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Two 28x28 images and their labels.
void write_mnist(const fs::path& dir) {
  write(dir / "train-images-idx3-ubyte",
        be32(2051) + be32(2) + be32(28) + be32(28) + std::string(2 * 28 * 28, '\x40'));
  write(dir / "train-labels-idx1-ubyte", be32(2049) + be32(2) + std::string("\x03\x07", 2));
}

// A 2x2 gray PNG.
const unsigned char kPng[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x57,
    0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x10,
    0x68, 0x60, 0x68, 0xf8, 0x00, 0x00, 0x04, 0x46, 0x02, 0x01, 0x40, 0x13, 0x9e, 0x60, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

const fs::path& work_dir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("ge-fuzz-specs-" + std::to_string(::getpid()));
    write_mnist(d / "mnist");
    write(d / "images" / "a.png", std::string(reinterpret_cast<const char*>(kPng), sizeof kPng));
    write(d / "junk" / "b.png", "not an image");
    fs::current_path(d);
    std::atexit([] {
      std::error_code ec;
      fs::current_path(fs::temp_directory_path(), ec);
      fs::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  (void)work_dir();
  const int64_t resolutions[] = {28, 32, 2, 5};
  const ge::models::data::ImageFormat format{resolutions[data[0] & 3], (data[0] & 4) ? 3 : 1};
  const std::string spec(ge::fuzz::as_view(data + 1, size - 1));
  // The system's fonts take long to rasterize and are not outside input; fuzz_font covers fonts.
  for (const char* system_fonts : {"typeset", "typeset:", "typeset-test", "typeset-test:"})
    if (spec == system_fonts) return 0;
  for (const bool patches : {false, true})
    ge::fuzz::expect_error_or_success([&] {
      const auto set = patches ? ge::models::data::open_patch_dataset(spec, format)
                               : ge::models::data::open_dataset(spec, format);
      std::vector<float> sample(static_cast<size_t>(ge::numel(set->sample_shape())));
      set->get(0, sample.data());
    });
  return 0;
}

// Photo lists of the super-resolution crops: up to four image files (the input's pieces between
// "|ge|" separators), decoded and cropped at a size the first byte picks, then a few crops read.
// make_photo_patches reads files, so the pieces go to a directory of this process under /tmp.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "util.h"
#include "ganengine/models/data/dataset.h"

namespace {

const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    const auto d =
        std::filesystem::temp_directory_path() / ("ge-fuzz-photos-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int64_t resolutions[] = {1, 2, 4, 8};
  const ge::models::data::ImageFormat format{resolutions[data[0] & 3], (data[0] & 4) ? 3 : 1};
  std::string_view rest = ge::fuzz::as_view(data + 1, size - 1);
  std::vector<std::string> files;
  while (files.size() < 4) {
    const size_t sep = rest.find("|ge|");
    const std::string_view piece = rest.substr(0, sep);
    if (ge::fuzz::too_large_to_fuzz(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()))
      return 0;
    const std::string path = (work_dir() / (std::to_string(files.size()) + ".png")).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << piece;
    files.push_back(path);
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 4);
  }
  ge::fuzz::expect_error_or_success([&] {
    const auto set = ge::models::data::make_photo_patches(files, format, 64, data[0]);
    std::vector<float> crop(
        static_cast<size_t>(format.channels * format.resolution * format.resolution));
    for (int64_t i = 0; i < 8; ++i)
      set->get(i, crop.data());
  });
  return 0;
}

// Data set specs as the command-line apps take them.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"

namespace ge::models::data {
namespace {

constexpr const char* kForms =
    "expected \"mnist:DIR\", \"stacked-mnist:DIR\", \"images:DIR\" (or \"folder:DIR\"), "
    "\"typeset[:FONTDIR]\", "
    "\"typeset-test[:FONTDIR]\", \"ring8\", \"grid25\" or a directory";
// The size and seed of Stacked MNIST as the mode-collapse papers use it (Metz et al.; VEEGAN).
constexpr int64_t kStackedMnistCount = 60000;
constexpr uint64_t kStackedMnistSeed = 0;

std::string after_prefix(const std::string& spec, const std::string& prefix) {
  const std::string dir = spec.substr(prefix.size());
  GE_CHECK(!dir.empty(), "open_dataset: \"", spec, "\" names no directory after \"", prefix, "\"");
  return dir;
}

// "NAME" or "NAME:FONTDIR" (an empty FONTDIR is the system's), as typeset digit specs take it.
bool typeset_spec(const std::string& spec, const std::string& name, std::string& font_dir) {
  if (spec != name && !spec.starts_with(name + ":")) return false;
  font_dir = spec.size() > name.size() + 1 ? spec.substr(name.size() + 1) : kSystemFontDir;
  return true;
}

// A path cannot hold a NUL: the system would read the spec's text up to it, another path.
void check_spec(const std::string& spec) {
  const size_t nul = spec.find('\0');
  GE_CHECK(nul == std::string::npos,
           "open_dataset: expected a data set spec without NUL characters, got one at offset ", nul,
           " after \"", spec.substr(0, nul), "\"");
}

}  // namespace

std::string image_folder_of(const std::string& spec) {
  for (const char* prefix : {"images:", "folder:"})
    if (spec.starts_with(prefix)) return after_prefix(spec, prefix);
  std::error_code ec;
  if (std::filesystem::is_directory(spec, ec) &&
      !std::filesystem::exists(std::filesystem::path(spec) / "train-images-idx3-ubyte", ec))
    return spec;
  return "";
}

std::shared_ptr<Dataset> open_dataset(const std::string& spec, const ImageFormat& format) {
  GE_CHECK(!spec.empty(), "open_dataset: empty data set spec; ", kForms);
  check_spec(spec);
  if (spec == "ring8" || spec == "grid25") return make_gaussian_mixture(spec);
  if (spec.starts_with("mnist:")) return load_mnist(after_prefix(spec, "mnist:"), format);
  if (spec.starts_with("stacked-mnist:")) {
    GE_CHECK(format.channels == 3, "open_dataset: \"", spec,
             "\" has 3 channels (one digit each), but the model expects ", format.channels);
    const auto mnist = load_mnist(after_prefix(spec, "stacked-mnist:"), {format.resolution, 1});
    return make_stacked_mnist(mnist, kStackedMnistCount, kStackedMnistSeed);
  }
  std::string font_dir;
  if (typeset_spec(spec, "typeset", font_dir))
    return make_typeset_digits(format, 0, 0, "train", font_dir);
  if (typeset_spec(spec, "typeset-test", font_dir))
    return make_typeset_digits(format, 0, 0, "test", font_dir);
  if (const std::string folder = image_folder_of(spec); !folder.empty())
    return load_image_folder(folder, format);
  std::error_code ec;
  if (std::filesystem::is_directory(spec, ec)) return load_mnist(spec, format);
  fail("open_dataset: \"", spec, "\" is neither a known data set nor a directory; ", kForms);
}

std::shared_ptr<Dataset> open_patch_dataset(const std::string& spec, const ImageFormat& format) {
  check_spec(spec);
  if (const std::string folder = image_folder_of(spec); !folder.empty())
    return make_photo_patches(list_image_files(folder), format);
  return open_dataset(spec, format);
}

}  // namespace ge::models::data

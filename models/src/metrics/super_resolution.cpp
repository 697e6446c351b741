#include "ganengine/models/metrics/super_resolution.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/image_io.h"
#include "ganengine/models/metrics/image_quality.h"
#include "ganengine/ops.h"
#include "ganengine/resize.h"

namespace ge::models::metrics {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kOp = "evaluate_super_resolution";
constexpr int64_t kBorder = kSrScale;
// Tiles of the model's input, so that photographs of any size fit in memory.
constexpr int64_t kTile = 128;

struct Original {
  std::string name;
  data::ImageData image;
};

struct Scores {
  double psnr = 0, ssim = 0, bicubic_psnr = 0, bicubic_ssim = 0;
};

// DIR/../test for a DIR named train that has one, else DIR.
std::string held_out_folder(const std::string& dir) {
  const fs::path p = fs::path(dir).lexically_normal();
  const fs::path base = p.filename().empty() ? p.parent_path() : p;
  std::error_code ec;
  if (base.filename() == "train" && fs::is_directory(base.parent_path() / "test", ec))
    return (base.parent_path() / "test").string();
  return dir;
}

Scores score(SrGan& model, const Original& original) {
  const Tensor hr = cut_to_scale(original.image, original.name);
  const int64_t channels = hr.size(1), h = hr.size(2), w = hr.size(3);
  const Tensor lr = low_resolution_input(hr);
  const Tensor bicubic = bicubic_x4(lr);
  const Tensor sr = upscale_tiled(model, lr.to(model.device()), kTile);
  const std::vector<double> y_hr = luma_y(hr.to_vector(), channels, h, w);
  const std::vector<double> y_sr = luma_y(sr.to_vector(), channels, h, w);
  const std::vector<double> y_bi = luma_y(bicubic.to_vector(), channels, h, w);
  Scores s;
  s.psnr = psnr(y_sr, y_hr, h, w, kBorder);
  s.ssim = ssim(y_sr, y_hr, h, w, kBorder);
  s.bicubic_psnr = psnr(y_bi, y_hr, h, w, kBorder);
  s.bicubic_ssim = ssim(y_bi, y_hr, h, w, kBorder);
  return s;
}

}  // namespace

Tensor cut_to_scale(const data::ImageData& image, const std::string& name) {
  const int64_t h = image.height / kSrScale * kSrScale, w = image.width / kSrScale * kSrScale;
  GE_CHECK(h >= kSrScale && w >= kSrScale, kOp, ": '", name, "' is ", image.width, "x",
           image.height, "; expected at least ", kSrScale, "x", kSrScale);
  return from_vector(image.pixels, {1, image.channels, image.height, image.width})
      .slice(2, 0, h)
      .slice(3, 0, w)
      .contiguous();
}

Tensor low_resolution_input(const Tensor& hr) {
  std::vector<float> v = SrGan::downscale(hr).to_vector();
  for (float& f : v)
    f = static_cast<float>(to_byte(f)) / 127.5f - 1.f;
  return from_vector(v, {hr.size(0), hr.size(1), hr.size(2) / kSrScale, hr.size(3) / kSrScale},
                     hr.device());
}

Tensor bicubic_x4(const Tensor& lr) {
  BicubicOptions aa;
  aa.antialias = true;
  return resize_bicubic2d(lr, {lr.size(2) * kSrScale, lr.size(3) * kSrScale}, aa);
}

std::string evaluate_super_resolution(SrGan& model, const std::string& data,
                                      const EvalOptions& options) {
  GE_CHECK(!data.empty(), kOp, ": no data set given (expected an image folder or mnist:DIR)");
  const int64_t channels = model.options().channels;
  std::vector<Original> originals;
  std::string eval_data;
  const std::string folder = data::image_folder_of(data);
  if (!folder.empty()) {
    eval_data = held_out_folder(folder);
    for (const std::string& path : data::list_image_files(eval_data)) {
      originals.push_back({fs::path(path).filename().string(), data::read_image(path, channels)});
    }
  } else {
    GE_CHECK(data.starts_with("mnist:"), kOp, ": \"", data,
             "\" is neither an image folder nor mnist:DIR");
    const std::string dir = data.substr(6);
    const int64_t side = model.options().resolution;
    const auto set = data::load_mnist(dir, {side, channels}, "test");
    eval_data = data + " (test split)";
    const int64_t n = std::min(options.num_samples, set->size());
    for (int64_t i = 0; i < n; ++i) {
      Original o{"test " + std::to_string(i), {channels, side, side, channels, {}}};
      o.image.pixels.resize(static_cast<size_t>(channels * side * side));
      set->get(i, o.image.pixels.data());
      originals.push_back(std::move(o));
    }
  }
  NoGradGuard no_grad;
  ModelEvalGuard eval_mode(model);
  json per_image = json::array();
  Scores mean;
  for (const Original& o : originals) {
    const Scores s = score(model, o);
    mean.psnr += s.psnr;
    mean.ssim += s.ssim;
    mean.bicubic_psnr += s.bicubic_psnr;
    mean.bicubic_ssim += s.bicubic_ssim;
    if (!folder.empty())
      per_image.push_back({{"name", o.name},
                           {"width", o.image.width},
                           {"height", o.image.height},
                           {"psnr", s.psnr},
                           {"ssim", s.ssim},
                           {"bicubic_psnr", s.bicubic_psnr},
                           {"bicubic_ssim", s.bicubic_ssim}});
  }
  const double n = static_cast<double>(originals.size());
  json report = {{"arch", model.options().arch},
                 {"eval_data", eval_data},
                 {"scale", kSrScale},
                 {"border", kBorder},
                 {"measure", "Y of BT.601 YCbCr, 8-bit, border cropped"},
                 {"images", originals.size()},
                 {"psnr", mean.psnr / n},
                 {"ssim", mean.ssim / n},
                 {"bicubic_psnr", mean.bicubic_psnr / n},
                 {"bicubic_ssim", mean.bicubic_ssim / n}};
  if (!folder.empty()) report["per_image"] = per_image;
  return report.dump(2);
}

}  // namespace ge::models::metrics

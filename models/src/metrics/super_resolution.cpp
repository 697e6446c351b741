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
  int64_t height = 0, width = 0;
  std::vector<float> pixels;  // [C, H, W] in [-1, 1]
};

struct Scores {
  double psnr = 0, ssim = 0, bicubic_psnr = 0, bicubic_ssim = 0;
};

// The image folder `data` names, or "" for another spec.
std::string folder_of(const std::string& data) {
  for (const char* prefix : {"images:", "folder:"})
    if (data.starts_with(prefix)) return data.substr(std::string(prefix).size());
  std::error_code ec;
  if (fs::is_directory(data, ec) && !fs::exists(fs::path(data) / "train-images-idx3-ubyte", ec))
    return data;
  return "";
}

// DIR/../test for a DIR named train that has one, else DIR.
std::string held_out_folder(const std::string& dir) {
  const fs::path p = fs::path(dir).lexically_normal();
  const fs::path base = p.filename().empty() ? p.parent_path() : p;
  std::error_code ec;
  if (base.filename() == "train" && fs::is_directory(base.parent_path() / "test", ec))
    return (base.parent_path() / "test").string();
  return dir;
}

Scores score(SrGan& model, const Original& hr_image, int64_t channels) {
  const int64_t h = hr_image.height / kSrScale * kSrScale, w = hr_image.width / kSrScale * kSrScale;
  GE_CHECK(h >= kSrScale && w >= kSrScale, kOp, ": '", hr_image.name, "' is ", hr_image.width, "x",
           hr_image.height, "; expected at least ", kSrScale, "x", kSrScale);
  const Tensor full = from_vector(hr_image.pixels, {1, channels, hr_image.height, hr_image.width});
  const Tensor hr = full.slice(2, 0, h).slice(3, 0, w).contiguous();
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

Tensor low_resolution_input(const Tensor& hr) {
  std::vector<float> v = SrGan::downscale(hr).to_vector();
  for (float& f : v)
    f = std::clamp(std::floor((f + 1.f) * 127.5f + 0.5f), 0.f, 255.f) / 127.5f - 1.f;
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
  const std::string folder = folder_of(data);
  if (!folder.empty()) {
    eval_data = held_out_folder(folder);
    for (const std::string& path : data::list_image_files(eval_data)) {
      data::ImageData im = data::read_image(path, channels);
      originals.push_back(
          {fs::path(path).filename().string(), im.height, im.width, std::move(im.pixels)});
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
      Original o{"test " + std::to_string(i), side, side,
                 std::vector<float>(static_cast<size_t>(channels * side * side))};
      set->get(i, o.pixels.data());
      originals.push_back(std::move(o));
    }
  }
  NoGradGuard no_grad;
  ModelEvalGuard eval_mode(model);
  json per_image = json::array();
  Scores mean;
  for (const Original& o : originals) {
    const Scores s = score(model, o, channels);
    mean.psnr += s.psnr;
    mean.ssim += s.ssim;
    mean.bicubic_psnr += s.bicubic_psnr;
    mean.bicubic_ssim += s.bicubic_ssim;
    if (!folder.empty())
      per_image.push_back({{"name", o.name},
                           {"width", o.width},
                           {"height", o.height},
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

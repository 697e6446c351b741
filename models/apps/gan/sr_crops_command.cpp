#include "sr_crops_command.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app_options.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/image_io.h"
#include "ganengine/models/metrics/super_resolution.h"
#include "ganengine/models/srgan.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "ganengine/upsample.h"

namespace ge::apps {
namespace {

struct SrCropsArgs {
  std::vector<std::string> ckpts;
  std::string in, out, device = "cpu";
  std::vector<int64_t> crop;  // x, y, side in the original's pixels
  int64_t zoom = 2;
};

void run_sr_crops(const SrCropsArgs& a) {
  const Device device = resolve_device(a.device);
  std::vector<std::unique_ptr<models::Model>> models;
  int64_t channels = 0;
  for (const std::string& ckpt : a.ckpts) {
    models.push_back(models::train::load_model(ckpt, device));
    GE_CHECK(dynamic_cast<models::SrGan*>(models.back().get()) != nullptr, "--ckpt ", ckpt,
             ": arch ", models.back()->options().arch, " is not a super-resolution model");
    const int64_t c = models.back()->options().channels;
    GE_CHECK(channels == 0 || c == channels, "--ckpt ", ckpt, " upscales ", c,
             "-channel images, the checkpoints before it ", channels);
    channels = c;
  }
  const models::data::ImageData im = models::data::read_image(a.in, channels);
  const int64_t x = a.crop[0], y = a.crop[1], side = a.crop[2];
  NoGradGuard no_grad;
  const Tensor hr = models::metrics::cut_to_scale(im, a.in);
  const int64_t h = hr.size(2), w = hr.size(3);
  GE_CHECK(side > 0 && x >= 0 && y >= 0 && x + side <= w && y + side <= h, "--crop ", x, ",", y,
           ",", side, ": the region must lie in the ", w, "x", h,
           " image (its sides cut to multiples of 4)");
  const Tensor lr = models::metrics::low_resolution_input(hr);
  auto region = [&](const Tensor& full) {
    return full.to(kCPU).slice(2, y, y + side).slice(3, x, x + side).contiguous();
  };
  std::vector<Tensor> panels = {region(clamp(models::metrics::bicubic_x4(lr), -1.f, 1.f))};
  for (const auto& m : models) {
    models::ModelEvalGuard eval_mode(*m);
    auto& sr = dynamic_cast<models::SrGan&>(*m);
    panels.push_back(region(clamp(models::upscale_tiled(sr, lr.to(device), 128), -1.f, 1.f)));
  }
  panels.push_back(region(hr));
  Tensor row = cat(panels, 0);
  if (a.zoom > 1) row = upsample_nearest2d(row, a.zoom);
  models::save_image_grid(a.out, row, static_cast<int64_t>(panels.size()), 4);
  std::fprintf(stderr, "%s: bicubic, %zu model%s and the original, %lldx%lld at (%lld, %lld)\n",
               a.out.c_str(), a.ckpts.size(), a.ckpts.size() == 1 ? "" : "s",
               static_cast<long long>(side), static_cast<long long>(side),
               static_cast<long long>(x), static_cast<long long>(y));
}

}  // namespace

void add_sr_crops_command(CLI::App& app) {
  auto a = std::make_shared<SrCropsArgs>();
  CLI::App* c = app.add_subcommand(
      "sr-crops",
      "one region of a photograph, side by side: bicubic x4, each checkpoint's x4 (from the same "
      "low-resolution input gan eval scores, the photograph downscaled 4x and quantised) and the "
      "original");
  c->add_option("--ckpt", a->ckpts, "srresnet or srgan training directories, in panel order")
      ->required();
  c->add_option("--in", a->in, "the original photograph")->required();
  c->add_option("--crop", a->crop, "X,Y,SIDE of the region in the original's pixels")
      ->required()
      ->delimiter(',')
      ->expected(3);
  c->add_option("--zoom", a->zoom, "nearest-neighbour enlargement of the panels")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--out", a->out, "PNG to write")->required();
  add_device_option(*c, a->device);
  c->callback([a] { run_sr_crops(*a); });
}

}  // namespace ge::apps

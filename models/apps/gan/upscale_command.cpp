#include "upscale_command.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "app_options.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/image_io.h"
#include "ganengine/models/srgan.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "image_files.h"

namespace ge::apps {
namespace {

namespace fs = std::filesystem;

// The smallest input side: below it there is hardly an image to enlarge.
constexpr int64_t kMinSide = 4;

struct UpscaleArgs {
  std::string ckpt, in, out, device = "cpu";
  int64_t tile = 128;
};

const char* channel_words(int64_t channels) {
  switch (channels) {
    case 1:
      return "1 channel (gray)";
    case 2:
      return "2 channels (gray + alpha)";
    case 3:
      return "3 channels (RGB)";
    default:
      return "4 channels (RGBA)";
  }
}

// The image at `path` as the model's input [1, C, h, w]: a gray image repeats into an RGB model's
// three channels (and an alpha channel is dropped); colour into a gray model is refused, since
// the colour would be lost without a word.
Tensor read_input(const std::string& path, int64_t channels, Device device) {
  models::data::ImageData im = models::data::read_image(path, channels);
  GE_CHECK(!(channels == 1 && im.file_channels >= 3), "--in '", path, "' has ",
           channel_words(im.file_channels),
           ", but the model upscales 1-channel images; convert it to gray first");
  GE_CHECK(im.height >= kMinSide && im.width >= kMinSide, "--in '", path, "' is ", im.width, "x",
           im.height, "; expected at least ", kMinSide, "x", kMinSide, " pixels");
  return from_vector(im.pixels, {1, channels, im.height, im.width}, device);
}

void run_upscale(const UpscaleArgs& a) {
  const std::unique_ptr<models::Model> model =
      models::train::load_model(a.ckpt, resolve_device(a.device));
  auto* sr = dynamic_cast<models::SrGan*>(model.get());
  GE_CHECK(sr != nullptr, "--ckpt ", a.ckpt, ": arch ", model->options().arch,
           " is not a super-resolution model (gan upscale takes a srresnet or srgan checkpoint)");
  const std::vector<std::string> inputs = input_files(a.in);
  std::error_code ec;
  // One file in and a .png out: that file; otherwise OUT is a directory of <input name>.png.
  const bool to_file =
      inputs.size() == 1 && !fs::is_directory(a.in, ec) && fs::path(a.out).extension() == ".png";
  const std::vector<std::string> outputs =
      to_file ? std::vector<std::string>{a.out} : output_files(inputs, a.out);
  const fs::path out_dir = to_file ? fs::path(a.out).parent_path() : fs::path(a.out);
  if (!out_dir.empty()) {
    fs::create_directories(out_dir, ec);
    GE_CHECK(!ec, "--out ", out_dir.string(), ": cannot create the directory: ", ec.message());
  }
  NoGradGuard no_grad;
  models::ModelEvalGuard eval_mode(*model);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor x = read_input(inputs[i], model->options().channels, model->device());
    const Tensor y = models::upscale_tiled(*sr, x, a.tile);
    models::save_image_grid(outputs[i], clamp(y, -1.f, 1.f), 1, 0);
    std::fprintf(stderr, "%s: %lldx%lld -> %lldx%lld\n", outputs[i].c_str(),
                 static_cast<long long>(x.size(3)), static_cast<long long>(x.size(2)),
                 static_cast<long long>(y.size(3)), static_cast<long long>(y.size(2)));
  }
}

}  // namespace

void add_upscale_command(CLI::App& app) {
  auto a = std::make_shared<UpscaleArgs>();
  CLI::App* u = app.add_subcommand(
      "upscale",
      "enlarge images 4x with a SRResNet or SRGAN checkpoint: each PNG/JPEG/BMP input (one file, "
      "or every image in a directory) of any size goes through the generator whole or in tiles "
      "(seamless: each tile runs with the generator's receptive field as margin)");
  u->add_option("--ckpt", a->ckpt, "srresnet or srgan training output directory")->required();
  u->add_option("--in", a->in, "an image file, or a directory of them")->required();
  u->add_option("--out", a->out,
                "the PNG to write (one input), or a directory for <input name>.png files")
      ->required();
  u->add_option("--tile", a->tile,
                "low-resolution pixels per tile side, bounding memory (0: the whole image at once)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_device_option(*u, a->device);
  u->footer(
      "Example: SRResNet on photographs, then SRGAN from it, then a photograph enlarged:\n"
      "  scripts/fetch_photos.sh\n"
      "  gan train --arch srresnet --data folder:data/photos/train --out runs/srresnet\n"
      "  gan train --arch srgan --data folder:data/photos/train --init runs/srresnet "
      "--out runs/srgan\n"
      "  gan upscale --ckpt runs/srgan --in small.png --out large.png\n"
      "  gan eval --ckpt runs/srgan   # PSNR and SSIM beside bicubic on data/photos/test");
  u->callback([a] { run_upscale(*a); });
}

}  // namespace ge::apps

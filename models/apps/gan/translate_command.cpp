#include "translate_command.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "app_options.h"
#include "image_files.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/cyclegan.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/image_io.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"

namespace ge::apps {
namespace {

namespace fs = std::filesystem;

// Images translated at once: enough to keep the generator busy, few enough that a folder of any
// size fits in memory.
constexpr int64_t kBatch = 16;

struct TranslateArgs {
  std::string ckpt, direction, in, out, device = "cpu";
};

void run_translate(const TranslateArgs& a) {
  GE_CHECK(a.direction == "a2b" || a.direction == "b2a", "--direction: expected a2b or b2a, got \"",
           a.direction, "\"");
  const bool a2b = a.direction == "a2b";
  const std::unique_ptr<models::Model> model =
      models::train::load_model(a.ckpt, resolve_device(a.device));
  auto* cyclegan = dynamic_cast<models::CycleGan*>(model.get());
  GE_CHECK(cyclegan != nullptr, "--ckpt ", a.ckpt, ": arch ", model->options().arch,
           " is not an image-to-image model (gan translate takes a cyclegan checkpoint)");
  const std::vector<std::string> inputs = input_files(a.in);
  const std::vector<std::string> outputs = output_files(inputs, a.out);

  const models::GanOptions& o = model->options();
  const models::data::ImageFormat format{o.resolution, o.channels};
  const int64_t per_image = format.channels * format.resolution * format.resolution;
  std::error_code ec;
  fs::create_directories(a.out, ec);
  GE_CHECK(!ec, "--out ", a.out, ": cannot create the directory: ", ec.message());

  NoGradGuard no_grad;
  models::ModelEvalGuard eval_mode(*model);
  const int64_t count = static_cast<int64_t>(inputs.size());
  for (int64_t start = 0; start < count; start += kBatch) {
    const int64_t n = std::min(kBatch, count - start);
    std::vector<float> pixels(static_cast<size_t>(n * per_image));
    for (int64_t i = 0; i < n; ++i)
      models::data::load_image(inputs[static_cast<size_t>(start + i)], format,
                               pixels.data() + i * per_image);
    const Tensor x = from_vector(pixels, {n, format.channels, format.resolution, format.resolution},
                                 model->device());
    const Tensor y = cyclegan->translate(x, a2b);
    for (int64_t i = 0; i < n; ++i)
      models::save_image_grid(outputs[static_cast<size_t>(start + i)], y.slice(0, i, i + 1), 1, 0);
  }
  std::fprintf(stderr, "%s: %lld image%s translated %s by %s\n", a.out.c_str(),
               static_cast<long long>(count), count == 1 ? "" : "s",
               a2b ? "A->B (G_AB)" : "B->A (G_BA)", a.ckpt.c_str());
}

}  // namespace

void add_translate_command(CLI::App& app) {
  auto a = std::make_shared<TranslateArgs>();
  CLI::App* t = app.add_subcommand(
      "translate",
      "translate images with a CycleGAN checkpoint: each PNG/JPEG/BMP input (one file, or every "
      "image in a directory) is converted to the model's channels, center-cropped to a square and "
      "resized to its resolution, translated by G_AB (a2b) or G_BA (b2a) and written as "
      "OUT/<input name>.png");
  t->add_option("--ckpt", a->ckpt, "cyclegan training output directory")->required();
  t->add_option("--direction", a->direction, "a2b (G_AB: domain A to B) or b2a (G_BA)")->required();
  t->add_option("--in", a->in, "an image file, or a directory of them")->required();
  t->add_option("--out", a->out, "directory to write the translated PNGs to")->required();
  add_device_option(*t, a->device);
  t->footer(
      "Example: a CycleGAN between typeset digits (A) and MNIST (B), then typeset digits turned "
      "handwritten:\n"
      "  gan train --arch cyclegan --data-a typeset --data-b mnist:data/mnist --out runs/cyclegan\n"
      "  gan translate --ckpt runs/cyclegan --direction a2b --in digits/ --out handwritten/\n"
      "  gan eval --ckpt runs/cyclegan   # label preservation, Frechet distance, cycle L1");
  t->callback([a] { run_translate(*a); });
}

}  // namespace ge::apps

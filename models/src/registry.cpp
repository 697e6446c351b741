// The one place architectures are registered: name, what data it models, which options it
// accepts, and how it is built. make_model checks the options every architecture relies on,
// then the entry's own.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/cgan.h"
#include "ganengine/models/cyclegan.h"
#include "ganengine/models/dcgan.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/mlp_gan.h"
#include "ganengine/models/progan.h"
#include "ganengine/models/sngan.h"
#include "ganengine/models/srgan.h"
#include "ganengine/models/stylegan_lite.h"
#include "ganengine/models/wgan.h"
#include "ganengine/models/wgan_gp.h"

namespace ge::models {

namespace {

enum class Samples { Images, Points };
enum class Labels { None, Required, Optional };
// The image sides an architecture takes: powers of two >= 8 (the GANs' up- and downsampling
// stacks), or multiples of the super-resolution scale.
enum class Sides { PowerOfTwo, MultipleOfScale };

struct Architecture {
  const char* name;
  Samples samples;
  Labels labels;
  bool packs;             // accepts pack > 1
  bool gradient_penalty;  // uses gp_lambda
  std::function<std::unique_ptr<Model>(const GanOptions&, Generator&)> make;
  std::function<void(const GanOptions&)> check = nullptr;  // the architecture's own options
  Sides sides = Sides::PowerOfTwo;
  int64_t default_resolution = 32;  // the side it trains at unless told
};

template <class T>
std::unique_ptr<Model> build(const GanOptions& o, Generator& g) {
  return std::make_unique<T>(o, g);
}

void check_cyclegan(const GanOptions& o) {
  GE_CHECK(o.resnet_blocks >= 0, "make_model: expected resnet_blocks >= 0, got ", o.resnet_blocks);
  GE_CHECK(o.d_layers >= 0 && o.d_layers <= 6,
           "make_model: expected d_layers in [1, 6] (0: scaled to the resolution), got ",
           o.d_layers);
  const int64_t layers =
      o.d_layers > 0 ? o.d_layers : NLayerDiscriminator::layers_for(o.resolution);
  GE_CHECK(o.resolution >= int64_t{1} << layers, "make_model: d_layers ", layers,
           " halves the image ", layers, " times; resolution ", o.resolution, " is too small");
  GE_CHECK(o.lambda_cycle >= 0.f && o.lambda_identity >= 0.f,
           "make_model: expected lambda_cycle and lambda_identity >= 0, got ", o.lambda_cycle,
           " and ", o.lambda_identity);
  GE_CHECK(o.pool_size >= 0, "make_model: expected pool_size >= 0, got ", o.pool_size);
  GE_CHECK(o.cycle_noise >= 0.f && std::isfinite(o.cycle_noise),
           "make_model: expected cycle_noise >= 0 (a standard deviation), got ", o.cycle_noise);
}

void check_weight_clip(const GanOptions& o) {
  GE_CHECK(o.weight_clip > 0.f, "make_model: expected weight_clip > 0 (the critic's weights stay ",
           "in [-c, c]), got ", o.weight_clip);
}

void check_progan(const GanOptions& o) {
  GE_CHECK(o.fade_images >= 0 && o.stable_images >= 0,
           "make_model: expected fade_images and stable_images >= 0, got ", o.fade_images, " and ",
           o.stable_images);
}

void check_super_resolution(const GanOptions& o) {
  GE_CHECK(o.sr_blocks >= 0, "make_model: expected sr_blocks >= 0, got ", o.sr_blocks);
  GE_CHECK(o.sr_norm == "batch" || o.sr_norm == "none",
           "make_model: expected sr_norm \"batch\" or \"none\", got \"", o.sr_norm, "\"");
  GE_CHECK(o.sr_skip == "none" || o.sr_skip == "bicubic",
           "make_model: expected sr_skip \"none\" or \"bicubic\", got \"", o.sr_skip, "\"");
  GE_CHECK(o.content_loss == "mse" || (o.arch == "srgan" && o.content_loss == "features"),
           "make_model: content_loss \"", o.content_loss, "\" is not accepted by ", o.arch,
           "; expected ", o.arch == "srgan" ? "\"mse\" or \"features\"" : "\"mse\"");
  GE_CHECK(o.adversarial_weight >= 0.f, "make_model: expected adversarial_weight >= 0, got ",
           o.adversarial_weight);
}

const std::vector<Architecture>& registry() {
  static const std::vector<Architecture> archs = {
      {"dcgan", Samples::Images, Labels::None, false, false, build<Dcgan>},
      {"cgan", Samples::Images, Labels::Required, false, false, build<Cgan>},
      {"wgan", Samples::Images, Labels::None, false, false, build<Wgan>, check_weight_clip},
      {"wgan-gp", Samples::Images, Labels::None, false, true, build<WganGp>},
      {"sngan", Samples::Images, Labels::None, false, false, build<Sngan>},
      {"progan", Samples::Images, Labels::None, false, true, build<Progan>, check_progan},
      {"stylegan-lite", Samples::Images, Labels::Optional, true, false, make_stylegan_lite},
      {"gan-mlp", Samples::Points, Labels::None, false, false, build<MlpGan>},
      {"dcgan-mlp", Samples::Points, Labels::None, false, false, build<MlpGan>},
      {"wgan-mlp", Samples::Points, Labels::None, false, false, build<MlpGan>, check_weight_clip},
      {"wgan-gp-mlp", Samples::Points, Labels::None, false, true, build<MlpGan>},
      {"sngan-mlp", Samples::Points, Labels::None, false, false, build<MlpGan>},
      {"cyclegan", Samples::Images, Labels::None, false, false, build<CycleGan>, check_cyclegan},
      {"srresnet", Samples::Images, Labels::None, false, false, build<SrGan>,
       check_super_resolution, Sides::MultipleOfScale, 96},
      {"srgan", Samples::Images, Labels::None, false, false, build<SrGan>, check_super_resolution,
       Sides::MultipleOfScale, 96},
  };
  return archs;
}

std::string names_of(Samples samples) {
  std::string out;
  for (const Architecture& a : registry())
    if (a.samples == samples) out += (out.empty() ? "" : ", ") + std::string(a.name);
  return out;
}

bool power_of_two(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

const Architecture& find(const std::string& arch) {
  std::string accepted;
  for (const Architecture& a : registry()) {
    if (arch == a.name) return a;
    accepted += (accepted.empty() ? "" : ", ") + std::string(a.name);
  }
  fail("make_model: unknown arch \"", arch, "\"; expected one of ", accepted);
}

void check_options(const Architecture& a, const GanOptions& o) {
  const std::string& arch = o.arch;
  GE_CHECK(o.latent_dim > 0, "make_model: expected latent_dim > 0, got ", o.latent_dim);
  GE_CHECK(o.width > 0, "make_model: expected width > 0, got ", o.width);
  GE_CHECK(o.num_classes >= 0, "make_model: expected num_classes >= 0, got ", o.num_classes);
  if (a.samples == Samples::Images) {
    GE_CHECK(o.channels > 0, "make_model: arch ", arch,
             " makes images and needs channels > 0, got ", o.channels,
             " (2-D points: ", names_of(Samples::Points), ")");
    if (a.sides == Sides::PowerOfTwo)
      GE_CHECK(power_of_two(o.resolution) && o.resolution >= 8, "make_model: resolution ",
               o.resolution, " is not accepted by ", arch,
               "; expected a power of two >= 8 (pad 28x28 data to 32)");
    else
      GE_CHECK(o.resolution >= kSrScale && o.resolution % kSrScale == 0, "make_model: resolution ",
               o.resolution, " is not accepted by ", arch, "; expected a multiple of the scale ",
               kSrScale, " (the side of the high-resolution crops)");
  } else {
    GE_CHECK(o.channels == 0, "make_model: arch ", arch,
             " models 2-D points and needs channels 0, got ", o.channels);
  }
  if (a.labels == Labels::Required)
    GE_CHECK(o.num_classes > 0, "make_model: arch ", arch,
             " is class-conditional and needs num_classes > 0, got ", o.num_classes);
  if (a.labels == Labels::None)
    GE_CHECK(o.num_classes == 0, "make_model: arch ", arch,
             " is unconditional; expected num_classes 0, got ", o.num_classes,
             " (use arch cgan for a class-conditional model)");
  if (a.gradient_penalty)
    GE_CHECK(o.gp_lambda >= 0.f, "make_model: expected gp_lambda >= 0, got ", o.gp_lambda);
  GE_CHECK(o.pack == 1 || a.packs, "make_model: arch ", arch,
           " judges one sample at a time; expected pack 1, got ", o.pack,
           " (packing is a stylegan-lite option)");
  if (!o.loss.empty()) {
    GE_CHECK(o.loss == "nonsaturating" || o.loss == "minimax", "make_model: expected loss ",
             "\"nonsaturating\" or \"minimax\", got \"", o.loss, "\"");
    GE_CHECK(arch == "dcgan" || arch == "cgan" || arch == "gan-mlp" || arch == "dcgan-mlp",
             "make_model: arch ", arch, " has its own loss; loss \"", o.loss,
             "\" is for the logistic GANs (dcgan, cgan, gan-mlp, dcgan-mlp)");
  }
  if (o.minibatch_kernels != 0 || o.minibatch_kernel_dim != 0) {
    const std::string name = arch;
    GE_CHECK(name == "dcgan" || name == "wgan" || name.ends_with("-mlp"), "make_model: arch ", arch,
             " has no minibatch discrimination layer (dcgan, wgan and the MLP GANs have ",
             "one; wgan-gp's penalty needs samples judged one by one)");
    GE_CHECK(name != "wgan-gp-mlp", "make_model: arch wgan-gp-mlp takes no minibatch ",
             "discrimination: its gradient penalty needs samples judged one by one");
    GE_CHECK(o.minibatch_kernels >= 1 && o.minibatch_kernel_dim >= 1, "make_model: expected ",
             "minibatch discrimination kernels and kernel_dim >= 1, got ", o.minibatch_kernels,
             " and ", o.minibatch_kernel_dim);
  }
  if (a.check) a.check(o);
}

}  // namespace

std::unique_ptr<Model> make_model(const GanOptions& options, Generator& generator) {
  const Architecture& a = find(options.arch);
  check_options(a, options);
  return a.make(options, generator);
}

std::vector<std::string> architecture_names() {
  std::vector<std::string> out;
  for (const Architecture& a : registry())
    out.emplace_back(a.name);
  return out;
}

int64_t default_resolution(const std::string& arch) {
  return find(arch).default_resolution;
}

std::unique_ptr<Gan> make_gan(const GanOptions& options, Generator& generator) {
  return as_gan(make_model(options, generator), "make_gan");
}

}  // namespace ge::models

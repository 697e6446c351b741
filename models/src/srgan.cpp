#include "ganengine/models/srgan.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gan_layers.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"
#include "ganengine/models/image_io.h"
#include "ganengine/nn/activation.h"
#include "ganengine/ops.h"
#include "ganengine/pixel_shuffle.h"
#include "ganengine/prelu.h"
#include "ganengine/resize.h"
#include "ganengine/upsample.h"

namespace ge::models {

namespace {

constexpr float kLeakySlope = 0.2f;
constexpr float kPReLUInit = 0.25f;  // torch.nn.PReLU's

std::shared_ptr<nn::Conv2d> make_conv(int64_t in, int64_t out, int64_t k, int64_t stride,
                                      Generator& generator, const nn::LayerOptions& options = {}) {
  return std::make_shared<nn::Conv2d>(in, out, k, Conv2dOptions(stride, k / 2), options,
                                      &generator);
}

std::shared_ptr<nn::Module> leaky_relu() {
  return std::make_shared<nn::LeakyReLU>(kLeakySlope);
}

// The discriminator's conv stages: (out channels in units of width, stride).
constexpr int64_t kStages = 8;
constexpr int64_t kStageWidth[kStages] = {1, 1, 2, 2, 4, 4, 8, 8};
constexpr int64_t kStageStride[kStages] = {1, 2, 1, 2, 1, 2, 1, 2};

int64_t conv_out(int64_t side, int64_t stride) {
  return (side + 2 - 3) / stride + 1;  // 3x3, padding 1
}

}  // namespace

ConvPReLU::ConvPReLU(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                     int64_t shuffle_, Generator& generator)
    : shuffle(shuffle_) {
  conv = register_module("conv", make_conv(in_channels, out_channels * shuffle_ * shuffle_,
                                           kernel_size, 1, generator));
  prelu = register_module("prelu", std::make_shared<nn::PReLU>(out_channels, kPReLUInit));
}

Tensor ConvPReLU::forward(const Tensor& x) {
  // The PReLU commutes with the shuffle (a permutation) once each slope is repeated for the
  // shuffle^2 conv channels that land in its output channel, so it is fused into the conv
  // either way.
  Tensor slope = prelu->weight;
  if (shuffle > 1) {
    const int64_t c = slope.size(0), r2 = shuffle * shuffle;
    slope = slope.reshape({c, 1}).expand({c, r2}).reshape({c * r2});
  }
  const Tensor y = conv2d_prelu(x, conv->weight, conv->bias, slope, conv->conv);
  return shuffle > 1 ? pixel_shuffle(y, shuffle) : y;
}

SrResidualBlock::SrResidualBlock(int64_t channels, bool batch_norm, Generator& generator) {
  conv1 = register_module("conv1", make_conv(channels, channels, 3, 1, generator));
  if (batch_norm) bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(channels));
  prelu = register_module("prelu", std::make_shared<nn::PReLU>(channels, kPReLUInit));
  conv2 = register_module("conv2", make_conv(channels, channels, 3, 1, generator));
  if (batch_norm) bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(channels));
}

Tensor SrResidualBlock::forward(const Tensor& x) {
  if (!bn1) {
    const Tensor h = conv2d_prelu(x, conv1->weight, conv1->bias, prelu->weight, conv1->conv);
    return x + conv2->forward(h);
  }
  const Tensor h = prelu->forward(bn1->forward(conv1->forward(x)));
  return x + bn2->forward(conv2->forward(h));
}

SrResNetGenerator::SrResNetGenerator(int64_t channels_, int64_t width, int64_t blocks_,
                                     const SrGeneratorOptions& options_, Generator& generator)
    : channels(channels_), num_blocks(blocks_), options(options_) {
  head = register_module("head", std::make_shared<ConvPReLU>(channels, width, 9, 1, generator));
  blocks = register_module("blocks", std::make_shared<nn::Sequential>());
  for (int64_t i = 0; i < num_blocks; ++i)
    blocks->push_back(std::make_shared<SrResidualBlock>(width, options.batch_norm, generator));
  body_conv = register_module("body_conv", make_conv(width, width, 3, 1, generator));
  if (options.batch_norm)
    body_bn = register_module("body_bn", std::make_shared<nn::BatchNorm2d>(width));
  upsample = register_module("upsample", std::make_shared<nn::Sequential>());
  for (int64_t s = 1; s < kSrScale; s *= 2)
    upsample->push_back(std::make_shared<ConvPReLU>(width, width, 3, 2, generator));
  tail = register_module("tail", make_conv(width, channels, 9, 1, generator));
}

Tensor SrResNetGenerator::forward(const Tensor& x) {
  GE_CHECK(x.dim() == 4 && x.size(1) == channels && x.size(2) >= 1 && x.size(3) >= 1,
           "SrResNetGenerator: expected images [N, ", channels, ", h, w], got shape ",
           to_string(x.shape()));
  const Tensor h = head->forward(x);
  Tensor body = body_conv->forward(blocks->forward(h));
  if (body_bn) body = body_bn->forward(body);
  const Tensor out = tail->forward(upsample->forward(h + body));
  if (!options.bicubic_skip) return out;
  BicubicOptions pil;
  pil.antialias = true;  // a = -0.5; upscaling, so no window stretch
  return out + resize_bicubic2d(x, {x.size(2) * kSrScale, x.size(3) * kSrScale}, pil);
}

int64_t SrResNetGenerator::receptive_radius() const {
  // In low-resolution pixels: the 9x9 head (4), two 3x3 per block, the body conv (1), the first
  // sub-pixel conv (1), the second at 2x (1/2), the 9x9 tail at 4x (1); rounded up.
  return 4 + 2 * num_blocks + 1 + 1 + 1 + 1;
}

SrganDiscriminator::SrganDiscriminator(int64_t channels, int64_t width, int64_t resolution_,
                                       Generator& generator)
    : resolution(resolution_) {
  int64_t in = channels, side = resolution;
  for (int64_t i = 0; i < kStages; ++i) {
    const int64_t out = kStageWidth[i] * width;
    auto stage = std::make_shared<nn::Sequential>();
    if (i == 0) {
      stage->push_back(make_conv(in, out, 3, kStageStride[i], generator));
    } else {
      nn::LayerOptions no_bias;
      no_bias.bias = false;  // batch norm follows
      stage->push_back(make_conv(in, out, 3, kStageStride[i], generator, no_bias));
      stage->push_back(std::make_shared<nn::BatchNorm2d>(out));
    }
    stage->push_back(leaky_relu());
    stages.push_back(register_module("stage" + std::to_string(i), stage));
    in = out;
    side = conv_out(side, kStageStride[i]);
  }
  nn::LayerOptions leaky;
  leaky.act.act = Activation::LeakyRelu;
  leaky.act.alpha = kLeakySlope;
  leaky.act.gain = 1.f;
  classifier = register_module(
      "classifier",
      std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
          std::make_shared<nn::Linear>(in * side * side, 16 * width, leaky, &generator),
          std::make_shared<nn::Linear>(16 * width, 1, nn::LayerOptions{}, &generator)}));
}

std::vector<Tensor> SrganDiscriminator::forward_features(const Tensor& x) {
  GE_CHECK(x.dim() == 4 && x.size(2) == resolution && x.size(3) == resolution,
           "SrganDiscriminator: expected images [N, C, ", resolution, ", ", resolution,
           "], got shape ", to_string(x.shape()));
  std::vector<Tensor> out;
  Tensor h = x;
  for (const auto& stage : stages) {
    h = stage->forward(h);
    out.push_back(h);
  }
  out.push_back(classifier->forward(h.flatten(1)));
  return out;
}

Tensor SrganDiscriminator::forward(const Tensor& x) {
  return forward_features(x).back();
}

SrGan::SrGan(const GanOptions& o, Generator& generator) : Model(o) {
  SrGeneratorOptions g;
  g.batch_norm = o.sr_norm == "batch";
  g.bicubic_skip = o.sr_skip == "bicubic";
  g_ = std::make_shared<SrResNetGenerator>(o.channels, o.width, o.sr_blocks, g, generator);
  if (o.arch == "srgan")
    d_ = std::make_shared<SrganDiscriminator>(o.channels, o.width, o.resolution, generator);
  GE_CHECK(o.content_loss == "mse" || d_ != nullptr, "SrGan: content loss \"", o.content_loss,
           "\" needs the discriminator (arch srgan)");
}

Tensor SrGan::upscale(const Tensor& x) {
  return g_->forward(x);
}

Tensor SrGan::downscale(const Tensor& hr) {
  GE_CHECK(hr.dim() == 4 && hr.size(2) % kSrScale == 0 && hr.size(3) % kSrScale == 0,
           "SrGan::downscale: expected images [N, C, H, W] with H and W multiples of ", kSrScale,
           ", got shape ", to_string(hr.shape()));
  BicubicOptions aa;
  aa.antialias = true;
  return resize_bicubic2d(hr, {hr.size(2) / kSrScale, hr.size(3) / kSrScale}, aa);
}

std::vector<std::pair<std::string, nn::Module*>> SrGan::networks() {
  if (!d_) return {{"G", g_.get()}};
  return {{"G", g_.get()}, {"D", d_.get()}};
}

TrainDefaults SrGan::train_defaults() const {
  TrainDefaults t;
  t.g_lr = t.d_lr = 1e-4f;
  t.beta1 = 0.9f;
  t.beta2 = 0.999f;
  t.batch = 16;
  return t;
}

std::vector<OptimizerGroup> SrGan::optimizer_groups(const TrainSettings& s) {
  std::vector<OptimizerGroup> groups = {adam_group("G", "generator", {"G"}, s.g_lr, s)};
  if (d_) groups.push_back(adam_group("D", "discriminator", {"D"}, s.d_lr, s));
  return groups;
}

Tensor SrGan::feature_matching(const std::vector<Tensor>& fake, const Tensor& hr) {
  std::vector<Tensor> real;
  {
    NoGradGuard no_grad;  // the targets
    real = d_->forward_features(hr);
  }
  Tensor loss;
  for (size_t i = 0; i + 1 < fake.size(); ++i) {
    const Tensor term = l1_loss(fake[i], real[i]);
    loss = loss.defined() ? loss + term : term;
  }
  return loss * (1.f / static_cast<float>(fake.size() - 1));
}

std::vector<Phase> SrGan::schedule(const TrainSettings&) {
  Phase g;
  g.group = "G";
  g.draws_batch = true;
  g.loss_name = "g_loss";
  g.loss = [this](StepContext& ctx) {
    const Tensor& hr = ctx.batch("hr").x;
    Tensor lr;
    {
      NoGradGuard no_grad;
      lr = downscale(hr);
    }
    const Tensor sr = g_->forward(lr);
    // The discriminator's features and logits of sr, once for both losses (srgan).
    const std::vector<Tensor> fake = d_ ? d_->forward_features(sr) : std::vector<Tensor>{};
    const bool pixels = options_.content_loss == "mse";
    const Tensor content = pixels ? mse_loss(sr, hr) : feature_matching(fake, hr);
    LossResult r;
    float mse = 0.f;
    if (pixels) {
      mse = content.item();
    } else {
      NoGradGuard no_grad;
      mse = mse_loss(sr, hr).item();
    }
    // PSNR of [-1, 1] images: peak-to-peak 2.
    r.logs["psnr"] = 10.f * std::log10(4.f / std::max(mse, 1e-12f));
    if (!d_) {
      r.loss = content;
      return r;
    }
    const Tensor adv = binary_cross_entropy_with_logits(fake.back(), ctx.real_label);
    r.loss = content + options_.adversarial_weight * adv;
    r.logs["content"] = content.item();
    r.logs["g_adv"] = adv.item();
    sr_ = sr.detach();
    return r;
  };
  if (!d_) return {g};
  Phase d;
  d.group = "D";
  d.loss_name = "d_loss";
  d.loss = [this](StepContext& ctx) {
    GE_CHECK(sr_.defined(), "SrGan: the discriminator phase needs the generator phase's output");
    const Tensor real = binary_cross_entropy_with_logits(d_->forward(ctx.batch("hr").x), 1.f);
    const Tensor fake = binary_cross_entropy_with_logits(d_->forward(sr_), 0.f);
    LossResult r;
    r.loss = real + fake;
    r.logs["d_real"] = real.item();
    r.logs["d_fake"] = fake.item();
    return r;
  };
  return {g, d};
}

std::vector<DataSlot> SrGan::data_slots() const {
  DataSlot hr;
  hr.name = "hr";
  hr.role = "high-resolution images";
  hr.sample_shape = {options_.channels, options_.resolution, options_.resolution};
  hr.crops = true;
  return {hr};
}

namespace {

class SrSampler : public Sampler {
 public:
  static constexpr int64_t kPerRow = 8;

  SrSampler(SrGan& model, const SamplerInputs& in)
      : model_(model), hr_(in.fixed_samples("hr", kPerRow, "SrGan")) {}

  void write(const std::string& path) override {
    NoGradGuard no_grad;
    ModelEvalGuard eval(model_);
    const Tensor lr = SrGan::downscale(hr_);
    BicubicOptions aa;
    aa.antialias = true;
    const Tensor bicubic = resize_bicubic2d(lr, {hr_.size(2), hr_.size(3)}, aa);
    const Tensor rows = cat({upsample_nearest2d(lr, kSrScale), clamp(bicubic, -1.f, 1.f),
                             clamp(model_.upscale(lr), -1.f, 1.f), hr_},
                            0);
    save_image_grid(path, rows, kPerRow);
  }

 private:
  SrGan& model_;
  Tensor hr_;
};

}  // namespace

std::unique_ptr<Sampler> SrGan::make_sampler(const SamplerInputs& inputs) {
  return std::make_unique<SrSampler>(*this, inputs);
}

Tensor upscale_tiled(SrGan& model, const Tensor& x, int64_t tile) {
  GE_CHECK(x.dim() == 4 && x.size(0) == 1,
           "upscale_tiled: expected one image [1, C, h, w], got shape ", to_string(x.shape()));
  NoGradGuard no_grad;
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
  if (tile <= 0 || (tile >= h && tile >= w)) return model.upscale(x);
  const int64_t margin = model.generator().receptive_radius();
  const int64_t oh = h * kSrScale, ow = w * kSrScale;
  std::vector<float> out(static_cast<size_t>(c * oh * ow));
  for (int64_t y0 = 0; y0 < h; y0 += tile) {
    for (int64_t x0 = 0; x0 < w; x0 += tile) {
      const int64_t y1 = std::min(h, y0 + tile), x1 = std::min(w, x0 + tile);
      const int64_t ty0 = std::max<int64_t>(0, y0 - margin), ty1 = std::min(h, y1 + margin);
      const int64_t tx0 = std::max<int64_t>(0, x0 - margin), tx1 = std::min(w, x1 + margin);
      const Tensor part = x.slice(2, ty0, ty1).slice(3, tx0, tx1).contiguous();
      const std::vector<float> up = model.upscale(part).to_vector();
      const int64_t uh = (ty1 - ty0) * kSrScale, uw = (tx1 - tx0) * kSrScale;
      for (int64_t k = 0; k < c; ++k)
        for (int64_t y = y0 * kSrScale; y < y1 * kSrScale; ++y)
          for (int64_t xx = x0 * kSrScale; xx < x1 * kSrScale; ++xx)
            out[static_cast<size_t>((k * oh + y) * ow + xx)] =
                up[static_cast<size_t>((k * uh + y - ty0 * kSrScale) * uw + xx - tx0 * kSrScale)];
    }
  }
  return from_vector(out, {1, c, oh, ow}, x.device());
}

}  // namespace ge::models

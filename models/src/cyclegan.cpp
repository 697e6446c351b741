#include "ganengine/models/cyclegan.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gan_layers.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"
#include "ganengine/models/image_io.h"
#include "ganengine/nn/activation.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/instance_norm.h"
#include "ganengine/nn/padding.h"
#include "ganengine/ops.h"

namespace ge::models {

namespace {

template <class Conv>
std::shared_ptr<Conv> conv(int64_t in, int64_t out, int64_t k, const Conv2dOptions& c,
                           Generator& generator) {
  auto layer = std::make_shared<Conv>(in, out, k, c, nn::LayerOptions{}, &generator);
  detail::dcgan_init(*layer, generator);  // the reference's init_type 'normal', gain 0.02
  return layer;
}

std::shared_ptr<nn::InstanceNorm2d> instance_norm(int64_t channels) {
  return std::make_shared<nn::InstanceNorm2d>(channels);
}

}  // namespace

ResnetBlock::ResnetBlock(int64_t dim, Generator& generator) {
  conv_block = register_module(
      "conv_block",
      std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
          std::make_shared<nn::ReflectionPad2d>(1), conv<nn::Conv2d>(dim, dim, 3, {}, generator),
          instance_norm(dim), detail::relu(), std::make_shared<nn::ReflectionPad2d>(1),
          conv<nn::Conv2d>(dim, dim, 3, {}, generator), instance_norm(dim)}));
}

Tensor ResnetBlock::forward(const Tensor& x) {
  return x + conv_block->forward(x);
}

ResnetGenerator::ResnetGenerator(int64_t in_channels, int64_t out_channels, int64_t ngf,
                                 int64_t n_blocks, Generator& generator)
    : in_channels(in_channels) {
  auto m = std::make_shared<nn::Sequential>();
  m->push_back(std::make_shared<nn::ReflectionPad2d>(3));
  m->push_back(conv<nn::Conv2d>(in_channels, ngf, 7, {}, generator));
  m->push_back(instance_norm(ngf));
  m->push_back(detail::relu());
  int64_t c = ngf;
  for (int i = 0; i < 2; ++i, c *= 2) {
    m->push_back(conv<nn::Conv2d>(c, 2 * c, 3, Conv2dOptions(2, 1), generator));
    m->push_back(instance_norm(2 * c));
    m->push_back(detail::relu());
  }
  for (int64_t i = 0; i < n_blocks; ++i)
    m->push_back(std::make_shared<ResnetBlock>(c, generator));
  for (int i = 0; i < 2; ++i, c /= 2) {
    m->push_back(conv<nn::ConvTranspose2d>(c, c / 2, 3, Conv2dOptions(2, 1, 1), generator));
    m->push_back(instance_norm(c / 2));
    m->push_back(detail::relu());
  }
  m->push_back(std::make_shared<nn::ReflectionPad2d>(3));
  m->push_back(conv<nn::Conv2d>(ngf, out_channels, 7, {}, generator));
  m->push_back(std::make_shared<nn::Tanh>());
  model = register_module("model", m);
}

Tensor ResnetGenerator::forward(const Tensor& x) {
  GE_CHECK(x.dim() == 4 && x.size(1) == in_channels && x.size(2) % 4 == 0 && x.size(3) % 4 == 0,
           "ResnetGenerator: expected images [N, ", in_channels,
           ", H, W] with H and W multiples of 4, got ", to_string(x.shape()));
  return model->forward(x);
}

NLayerDiscriminator::NLayerDiscriminator(int64_t in_channels, int64_t ndf, int64_t n_layers,
                                         Generator& generator)
    : in_channels(in_channels) {
  auto m = std::make_shared<nn::Sequential>();
  m->push_back(conv<nn::Conv2d>(in_channels, ndf, 4, Conv2dOptions(2, 1), generator));
  m->push_back(std::make_shared<nn::LeakyReLU>(0.2f));
  int64_t mult = 1;
  for (int64_t n = 1; n <= n_layers; ++n) {
    const int64_t prev = mult;
    mult = std::min<int64_t>(int64_t{1} << n, 8);
    const int64_t stride = n < n_layers ? 2 : 1;
    m->push_back(conv<nn::Conv2d>(ndf * prev, ndf * mult, 4, Conv2dOptions(stride, 1), generator));
    m->push_back(instance_norm(ndf * mult));
    m->push_back(std::make_shared<nn::LeakyReLU>(0.2f));
  }
  m->push_back(conv<nn::Conv2d>(ndf * mult, 1, 4, Conv2dOptions(1, 1), generator));
  model = register_module("model", m);
}

Tensor NLayerDiscriminator::forward(const Tensor& x) {
  GE_CHECK(x.dim() == 4 && x.size(1) == in_channels, "NLayerDiscriminator: expected images [N, ",
           in_channels, ", H, W], got ", to_string(x.shape()));
  return model->forward(x);
}

int64_t NLayerDiscriminator::receptive_field(int64_t n_layers) {
  // Backwards from one output: two stride-1 4x4 convs, then n_layers stride-2 4x4 convs.
  int64_t r = 1 + 3 + 3;
  for (int64_t i = 0; i < n_layers; ++i)
    r = 2 * r + 2;
  return r;
}

int64_t NLayerDiscriminator::layers_for(int64_t resolution) {
  const double target = 70.0 / 256.0 * static_cast<double>(resolution);
  int64_t best = 1;
  for (int64_t n = 2; n <= 6; ++n)
    if (std::abs(static_cast<double>(receptive_field(n)) - target) <
        std::abs(static_cast<double>(receptive_field(best)) - target))
      best = n;
  return best;
}

CycleGan::CycleGan(const GanOptions& o, Generator& generator)
    : Model(o), pool_a_(o.pool_size), pool_b_(o.pool_size) {
  g_ab_ = std::make_shared<ResnetGenerator>(o.channels, o.channels, o.width, o.resnet_blocks,
                                            generator);
  g_ba_ = std::make_shared<ResnetGenerator>(o.channels, o.channels, o.width, o.resnet_blocks,
                                            generator);
  const int64_t layers =
      o.d_layers > 0 ? o.d_layers : NLayerDiscriminator::layers_for(o.resolution);
  d_a_ = std::make_shared<NLayerDiscriminator>(o.channels, o.width, layers, generator);
  d_b_ = std::make_shared<NLayerDiscriminator>(o.channels, o.width, layers, generator);
}

Tensor CycleGan::translate(const Tensor& x, bool a2b) {
  return a2b ? g_ab_->forward(x) : g_ba_->forward(x);
}

std::vector<std::pair<std::string, nn::Module*>> CycleGan::networks() {
  return {{"G_AB", g_ab_.get()}, {"G_BA", g_ba_.get()}, {"D_A", d_a_.get()}, {"D_B", d_b_.get()}};
}

TrainDefaults CycleGan::train_defaults() const {
  TrainDefaults t;
  t.g_lr = t.d_lr = 2e-4f;
  t.beta1 = 0.5f;
  t.beta2 = 0.999f;
  t.lr_decay_steps = -1;  // n_epochs = n_epochs_decay: constant, then decay over the second half
  t.batch = 1;            // one image pair at a time, as the reference trains
  return t;
}

std::vector<OptimizerGroup> CycleGan::optimizer_groups(const TrainSettings& s) {
  return {adam_group("G", "generators", {"G_AB", "G_BA"}, s.g_lr, s),
          adam_group("D", "discriminators", {"D_A", "D_B"}, s.d_lr, s)};
}

std::vector<Phase> CycleGan::schedule(const TrainSettings&) {
  Phase g;
  g.group = "G";
  g.draws_batch = true;
  g.loss_name = "g_loss";
  g.loss = [this](StepContext& ctx) {
    const Tensor& a = ctx.batch("A").x;
    const Tensor& b = ctx.batch("B").x;
    const float lambda = options_.lambda_cycle, idt = options_.lambda_identity * lambda;
    const Tensor fake_b = g_ab_->forward(a);
    const Tensor fake_a = g_ba_->forward(b);
    const Tensor g_ab = mse_loss(d_b_->forward(fake_b), 1.f);
    const Tensor g_ba = mse_loss(d_a_->forward(fake_a), 1.f);
    // With cycle_noise, the reverse generator sees the translation plus N(0, cycle_noise^2)
    // noise; the adversarial terms judge the clean translation.
    const float noise = options_.cycle_noise;
    auto noisy = [&](const Tensor& t) {
      if (noise <= 0.f) return t;
      return t + noise * detail::shard_rows(ctx, t.size(0), [&](int64_t n) {
                   Shape shape = t.shape();
                   shape[0] = n;
                   return randn(shape, t.device(), ctx.generator);
                 });
    };
    const Tensor cycle_a = l1_loss(g_ba_->forward(noisy(fake_b)), a);
    const Tensor cycle_b = l1_loss(g_ab_->forward(noisy(fake_a)), b);
    LossResult r;
    r.loss = g_ab + g_ba + lambda * (cycle_a + cycle_b);
    if (idt > 0.f) {
      const Tensor idt_a = l1_loss(g_ba_->forward(a), a);
      const Tensor idt_b = l1_loss(g_ab_->forward(b), b);
      r.loss = r.loss + idt * (idt_a + idt_b);
      r.logs["idt_A"] = idt_a.item();
      r.logs["idt_B"] = idt_b.item();
    }
    fake_a_ = fake_a.detach();
    fake_b_ = fake_b.detach();
    r.logs["g_AB"] = g_ab.item();
    r.logs["g_BA"] = g_ba.item();
    r.logs["cycle_A"] = cycle_a.item();
    r.logs["cycle_B"] = cycle_b.item();
    return r;
  };
  Phase d;
  d.group = "D";
  d.loss_name = "d_loss";
  d.loss = [this](StepContext& ctx) {
    GE_CHECK(fake_a_.defined() && fake_b_.defined(),
             "CycleGan: the discriminator phase needs the generator phase's fakes first");
    Generator& rng = *ctx.generator;
    auto lsgan_d = [](nn::Module& net, const Tensor& real, const Tensor& fake) {
      return 0.5f * (mse_loss(net.forward(real), 1.f) + mse_loss(net.forward(fake), 0.f));
    };
    const Tensor d_b = lsgan_d(*d_b_, ctx.batch("B").x, pool_b_.query(fake_b_, rng));
    const Tensor d_a = lsgan_d(*d_a_, ctx.batch("A").x, pool_a_.query(fake_a_, rng));
    LossResult r;
    r.loss = d_a + d_b;
    r.logs["d_A"] = d_a.item();
    r.logs["d_B"] = d_b.item();
    return r;
  };
  return {g, d};
}

std::vector<DataSlot> CycleGan::data_slots() const {
  const Shape shape{options_.channels, options_.resolution, options_.resolution};
  return {{"A", "domain A", shape, false}, {"B", "domain B", shape, false}};
}

std::map<std::string, Tensor> CycleGan::extra_state() const {
  std::map<std::string, Tensor> out = pool_a_.state("pool_A.");
  out.merge(pool_b_.state("pool_B."));
  return out;
}

void CycleGan::load_extra_state(const std::map<std::string, Tensor>& state,
                                const std::string& file) {
  const Shape image{options_.channels, options_.resolution, options_.resolution};
  for (const auto& [key, t] : state)
    GE_CHECK(key.starts_with("pool_A.") || key.starts_with("pool_B."), file,
             ": unexpected tensor 'state.", key, "' (a cyclegan keeps pool_A and pool_B)");
  // Both pools check before either changes.
  ImagePool a = pool_a_, b = pool_b_;
  a.load_state(state, "pool_A.", image, file);
  b.load_state(state, "pool_B.", image, file);
  pool_a_ = std::move(a);
  pool_b_ = std::move(b);
}

namespace {

class CycleGanSampler : public Sampler {
 public:
  static constexpr int64_t kPerRow = 8;

  CycleGanSampler(CycleGan& model, const SamplerInputs& in) : model_(model) {
    a_ = in.fixed_samples("A", kPerRow, "CycleGan");
    b_ = in.fixed_samples("B", kPerRow, "CycleGan");
  }

  void write(const std::string& path) override {
    NoGradGuard no_grad;
    ModelEvalGuard eval(model_);
    const Tensor ab = model_.translate(a_, true), ba = model_.translate(b_, false);
    const Tensor rows =
        cat({a_, ab, model_.translate(ab, false), b_, ba, model_.translate(ba, true)}, 0);
    save_image_grid(path, rows, kPerRow);
  }

 private:
  CycleGan& model_;
  Tensor a_, b_;
};

}  // namespace

std::unique_ptr<Sampler> CycleGan::make_sampler(const SamplerInputs& inputs) {
  return std::make_unique<CycleGanSampler>(*this, inputs);
}

}  // namespace ge::models

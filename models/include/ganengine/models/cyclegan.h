#pragma once
// CycleGAN (Zhu et al. 2017): unpaired translation between image domains A and B, as
// junyanz/pytorch-CycleGAN-and-pix2pix builds it: ResNet generators G_AB: A -> B and
// G_BA: B -> A, PatchGAN discriminators D_A (judges A) and D_B (judges B) with instance norm,
// least-squares GAN losses, L1 cycle and identity losses, pools of past fakes for the
// discriminator updates, Adam 2e-4 / beta1 0.5 with a linear decay over the second half of the
// run, N(0, 0.02) initialisation. State-dict keys follow the reference's modules.
#include <cstdint>
#include <memory>
#include <string>

#include "ganengine/models/image_pool.h"
#include "ganengine/models/model.h"
#include "ganengine/nn/sequential.h"

namespace ge::models {

// The reference's ResnetBlock: x + [reflect pad 1, conv 3x3, IN, ReLU, reflect pad 1,
// conv 3x3, IN](x).
class ResnetBlock : public nn::Module {
 public:
  ResnetBlock(int64_t dim, Generator& generator);
  std::string name() const override { return "ResnetBlock"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> conv_block;
};

// The reference's ResnetGenerator: c7s1-ngf (reflection padding), two stride-2 3x3 convs to
// 4 ngf, n residual blocks, two transposed 3x3 convs back to ngf, c7s1-out and tanh.
// [N, in, H, W] -> [N, out, H, W]; H and W multiples of 4.
class ResnetGenerator : public nn::Module {
 public:
  ResnetGenerator(int64_t in_channels, int64_t out_channels, int64_t ngf, int64_t n_blocks,
                  Generator& generator);
  std::string name() const override { return "ResnetGenerator"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> model;
  const int64_t in_channels;
};

// The reference's NLayerDiscriminator (PatchGAN): a 4x4 stride-2 conv + leaky ReLU 0.2, then
// n_layers - 1 more stride-2 4x4 convs with IN, one stride-1, and a 1-channel stride-1 conv:
// a map of patch scores. n_layers 3 is the 70x70 PatchGAN; 2 sees 34x34 patches, 1 16x16.
class NLayerDiscriminator : public nn::Module {
 public:
  NLayerDiscriminator(int64_t in_channels, int64_t ndf, int64_t n_layers, Generator& generator);
  std::string name() const override { return "NLayerDiscriminator"; }
  Tensor forward(const Tensor& x) override;  // [N, C, H, W] -> [N, 1, h, w]
  std::shared_ptr<nn::Sequential> model;
  const int64_t in_channels;
  // The side of the input window each output score sees: 16, 34, 70, 142, ... for 1, 2, 3, 4, ...
  static int64_t receptive_field(int64_t n_layers);
  // The layer count (1 to 6) whose receptive field is nearest 70/256 of `resolution`: the
  // 70x70 PatchGAN's share of a 256-px image.
  static int64_t layers_for(int64_t resolution);
};

class CycleGan : public Model {
 public:
  CycleGan(const GanOptions& options, Generator& generator);

  // a2b true: G_AB(x), else G_BA(x); x [N, C, R, R] in [-1, 1].
  Tensor translate(const Tensor& x, bool a2b);

  std::vector<std::pair<std::string, nn::Module*>> networks() override;
  TrainDefaults train_defaults() const override;
  // "G" (G_AB and G_BA) and "D" (D_A and D_B), each Adam with the settings' rate, betas and
  // the linear decay.
  std::vector<OptimizerGroup> optimizer_groups(const TrainSettings& settings) override;
  // Each step draws one batch of A and one of B, updates G with
  //   lsgan(D_B(G_AB(a)), 1) + lsgan(D_A(G_BA(b)), 1)
  //   + lambda (|G_BA(G_AB(a) + n) - a| + |G_AB(G_BA(b) + n') - b|)
  //   + lambda lambda_identity (|G_AB(b) - b| + |G_BA(a) - a|),
  // where n and n' are N(0, cycle_noise^2) noise from the trainer's stream (zero by default),
  // then D with 0.5 (lsgan(D(real), 1) + lsgan(D(pool(fake)), 0)) for each domain.
  // Logs g_loss, d_loss, g_AB, g_BA (adversarial), cycle_A, cycle_B, idt_A, idt_B, d_A, d_B.
  std::vector<Phase> schedule(const TrainSettings& settings) override;
  std::vector<DataSlot> data_slots() const override;
  // The fake pools: pool_A.images, pool_A.count, pool_B.images, pool_B.count.
  std::map<std::string, Tensor> extra_state() const override;
  void load_extra_state(const std::map<std::string, Tensor>& state,
                        const std::string& file) override;
  // Rows of 8: real A, G_AB(A), G_BA(G_AB(A)), real B, G_BA(B), G_AB(G_BA(B)) on fixed images
  // of each domain.
  std::unique_ptr<Sampler> make_sampler(const SamplerInputs& inputs) override;

  const ImagePool& pool_a() const { return pool_a_; }
  const ImagePool& pool_b() const { return pool_b_; }

 private:
  std::shared_ptr<ResnetGenerator> g_ab_, g_ba_;
  std::shared_ptr<NLayerDiscriminator> d_a_, d_b_;
  ImagePool pool_a_, pool_b_;  // past fakes of A (for D_A) and of B (for D_B)
  Tensor fake_a_, fake_b_;     // the last generator phase's, detached
};

}  // namespace ge::models

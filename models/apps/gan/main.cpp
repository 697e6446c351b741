// gan: train and sample the classic GANs (DCGAN, cGAN, WGAN-GP, SNGAN) on images and their MLP
// variants on 2-D Gaussian mixtures; train CycleGAN and translate images with it; train SRResNet
// and SRGAN and upscale images with them.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "app_main.h"
#include "app_options.h"
#include "augment_command.h"
#include "classifier_command.h"
#include "eval_commands.h"
#include "ganengine/autograd.h"
#include "ganengine/models/train/trainer.h"
#include "sample_output.h"
#include "training.h"
#include "translate_command.h"
#include "sr_crops_command.h"
#include "upscale_command.h"

namespace {

using namespace ge;

struct GenerateArgs {
  std::string ckpt, out = "samples.png", device = "cpu";
  int64_t n = 64;
  uint64_t seed = 0;
  float truncation = 1.f;
};

void generate(const GenerateArgs& a) {
  const Device device = apps::resolve_device(a.device);
  const auto gan = models::train::load_gan(a.ckpt, device);
  const apps::SampleGrid grid = apps::sample_grid(a.n, gan->options().num_classes, device);
  Generator generator(a.seed);
  NoGradGuard no_grad;
  gan->generator().eval();
  if (auto* ema = gan->generator_ema()) ema->eval();
  const Tensor z = gan->sample_latent(grid.count, generator, device);
  const Tensor samples =
      gan->generate(z, grid.labels, gan->generator_ema() != nullptr, a.truncation);
  apps::save_samples(a.out, samples, grid.nrow);
  std::fprintf(stderr, "%s: %lld samples of %s\n", a.out.c_str(),
               static_cast<long long>(grid.count), a.ckpt.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "gan: DCGAN, cGAN, WGAN, WGAN-GP, SNGAN, Progressive GAN, CycleGAN, SRResNet and SRGAN on "
      "images; MLP GANs on 2-D mixtures"};
  models::GanOptions model;
  std::vector<int64_t> minibatch;  // --minibatch-discrimination B,C
  apps::TrainArgs train;
  train.data = "mnist:data/mnist";
  train.train.out_dir = "runs/gan";
  GenerateArgs gen;
  return apps::run_app(app, argc, argv, [&] {
    CLI::App* t = app.add_subcommand("train", "train a model (resumable)");
    CLI::Option* arch = t->add_option("--arch", model.arch, "architecture")
                            ->capture_default_str()
                            ->check(CLI::IsMember(models::architecture_names()));
    t->add_option("--width", model.width, "base channels (images) or hidden width (MLPs)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    t->add_option("--latent-dim", model.latent_dim, "latent size")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    CLI::Option* resolution =
        t->add_option("--resolution", model.resolution,
                      "image side (a power of two >= 8; super-resolution: the side of the "
                      "high-resolution crops, a multiple of 4, default 96)")
            ->capture_default_str();
    t->add_option("--weight-clip", model.weight_clip,
                  "the critic's weights stay in [-c, c] (wgan, wgan-mlp)")
        ->capture_default_str();
    t->add_option("--loss", model.loss,
                  "generator loss of the logistic GANs (dcgan, cgan, gan-mlp, dcgan-mlp): "
                  "nonsaturating (default) or minimax (the saturating log(1 - D(G(z))))")
        ->check(CLI::IsMember({"nonsaturating", "minimax"}));
    t->add_option("--minibatch-discrimination", minibatch,
                  "B,C: minibatch discrimination with B kernels of C dimensions before D's last "
                  "layer (the paper: 100,5; dcgan, wgan and the MLP GANs)")
        ->delimiter(',')
        ->expected(2);
    t->add_option("--gp-lambda", model.gp_lambda, "gradient penalty weight (wgan-gp)")
        ->capture_default_str();
    t->add_option("--fade-images", model.fade_images,
                  "real images over which each new stage fades in (progan)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    t->add_option("--stable-images", model.stable_images,
                  "real images each stage then trains at full strength (progan)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    t->add_option("--resnet-blocks", model.resnet_blocks,
                  "residual blocks per generator (cyclegan: 6 for 128 px and below, 9 for 256)")
        ->capture_default_str();
    t->add_option("--d-layers", model.d_layers,
                  "PatchGAN stride-2 layers (cyclegan: 3 is the 70x70 PatchGAN; 0 scales its "
                  "receptive field to the image, 1 at 32 px)")
        ->capture_default_str();
    t->add_option("--lambda-cycle", model.lambda_cycle, "cycle-consistency weight (cyclegan)")
        ->capture_default_str();
    t->add_option("--lambda-identity", model.lambda_identity,
                  "identity weight as a fraction of --lambda-cycle (cyclegan)")
        ->capture_default_str();
    t->add_option("--pool-size", model.pool_size, "fake images kept for D updates (cyclegan)")
        ->capture_default_str();
    t->add_option("--cycle-noise", model.cycle_noise,
                  "std of Gaussian noise on a translation before it cycles back (cyclegan; 0: "
                  "none, as the reference)")
        ->capture_default_str();
    t->add_option("--sr-blocks", model.sr_blocks,
                  "residual blocks of the super-resolution generator (srresnet, srgan)")
        ->capture_default_str();
    t->add_option("--sr-norm", model.sr_norm,
                  "normalisation in the super-resolution generator: batch (the paper's) or none "
                  "(EDSR's, MSRResNet's)")
        ->capture_default_str();
    t->add_option("--sr-skip", model.sr_skip,
                  "global skip of the super-resolution generator: none (the paper's) or bicubic "
                  "(it learns the residual over bicubic x4)")
        ->capture_default_str();
    t->add_option("--content-loss", model.content_loss,
                  "srgan's content loss: mse (pixels) or features (the discriminator's)")
        ->capture_default_str();
    t->add_option("--adversarial-weight", model.adversarial_weight,
                  "weight of srgan's adversarial loss beside the content loss")
        ->capture_default_str();
    apps::add_train_options(*t, train);
    t->callback([&] {
      if (resolution->count() == 0) model.resolution = models::default_resolution(model.arch);
      if (minibatch.size() == 2) {
        model.minibatch_kernels = minibatch[0];
        model.minibatch_kernel_dim = minibatch[1];
      }
      model.channels =
          model.arch.ends_with("-mlp")
              ? 0
              : std::max<int64_t>({1, apps::channels_of(train.data),
                                   train.data_b.empty() ? 0 : apps::channels_of(train.data_b)});
      apps::run_training(model, train, arch->count() > 0);
    });

    CLI::App* g = app.add_subcommand("generate", "write a grid of samples from a checkpoint");
    g->add_option("--ckpt", gen.ckpt, "training output directory")->required();
    g->add_option("--n", gen.n, "samples (cgan: rounded up to a full row per class)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    g->add_option("--out", gen.out, "PNG to write")->capture_default_str();
    g->add_option("--seed", gen.seed, "latent seed")->capture_default_str();
    g->add_option("--truncation", gen.truncation, "truncation psi (models that support it)")
        ->capture_default_str();
    apps::add_device_option(*g, gen.device);
    g->callback([&] { generate(gen); });

    apps::add_sample_command(app);
    apps::add_eval_command(app);
    apps::add_classifier_command(app);
    apps::add_augment_command(app);
    apps::add_translate_command(app);
    apps::add_upscale_command(app);
    apps::add_sr_crops_command(app);
  });
}

// stylegan-lite: train StyleGAN-lite, sample it, and draw StyleGAN's style-mixing and
// interpolation figures.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "app_main.h"
#include "app_options.h"
#include "figures.h"
#include "ganengine/autograd.h"
#include "ganengine/models/image_io.h"
#include "ganengine/models/stylegan_lite.h"
#include "ganengine/models/train/trainer.h"
#include "sample_output.h"
#include "training.h"

namespace {

using namespace ge;

// A default `stylegan-lite train` run is sized for a few minutes on a 2-core CPU (the README
// demo): 4000 generator steps of batch 32 at width 32, a 2-layer mapping network, R1 weight 0.5,
// and a discriminator that judges pairs of images (PacGAN): judging one image at a time, the
// generator collapses onto one glyph within a few hundred steps at this scale. The settings and
// their measured effect are in docs/results.md.
constexpr int64_t kDefaultTrainSteps = 4000;
constexpr int64_t kDefaultWidth = 32;
constexpr int64_t kDefaultMappingLayers = 2;
constexpr float kDefaultR1Gamma = 0.5f;
constexpr int64_t kDefaultPack = 2;
constexpr int64_t kDefaultSampleEvery = 500;

struct CkptArgs {
  std::string ckpt = "runs/stylegan-lite", out, device = "cpu";
};

// The checkpoint's model, which must be a StyleGAN-lite, in eval mode.
std::unique_ptr<models::Gan> load_stylegan(const CkptArgs& a, models::StyleGanLite*& sg) {
  auto gan = models::train::load_gan(a.ckpt, apps::resolve_device(a.device));
  sg = dynamic_cast<models::StyleGanLite*>(gan.get());
  GE_CHECK(sg != nullptr, a.ckpt, ": holds a ", gan->options().arch,
           " checkpoint; this command needs stylegan-lite");
  gan->generator().eval();
  if (auto* ema = gan->generator_ema()) ema->eval();
  return gan;
}

void add_ckpt_options(CLI::App& cmd, CkptArgs& a, const std::string& default_out) {
  a.out = default_out;
  cmd.add_option("--ckpt", a.ckpt, "training output directory")->capture_default_str();
  cmd.add_option("--out", a.out, "PNG to write")->capture_default_str();
  apps::add_device_option(cmd, a.device);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "stylegan-lite: a small StyleGAN2 (mapping network, modulated convolutions, "
      "R1, style mixing, EMA)"};
  models::GanOptions model;
  model.arch = "stylegan-lite";
  apps::TrainArgs train;
  train.data = "mnist:data/mnist";
  train.train.out_dir = "runs/stylegan-lite";
  train.train.steps = kDefaultTrainSteps;
  train.train.sample_every = kDefaultSampleEvery;
  model.width = kDefaultWidth;
  model.mapping_layers = kDefaultMappingLayers;
  model.r1_gamma = kDefaultR1Gamma;
  model.pack = kDefaultPack;

  CkptArgs gen_ckpt, mix_ckpt, interp_ckpt;
  int64_t gen_n = 64;
  uint64_t gen_seed = 0;
  float gen_truncation = 1.f;
  apps::StyleMixArgs mix;
  apps::InterpolateArgs interp;

  return apps::run_app(app, argc, argv, [&] {
    CLI::App* t = app.add_subcommand("train", "train a model (resumable)");
    t->add_option("--width", model.width, "feature maps up to 16x16 (halving above)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    t->add_option("--latent-dim", model.latent_dim, "z size")->capture_default_str();
    t->add_option("--w-dim", model.w_dim, "w size")->capture_default_str();
    t->add_option("--mapping-layers", model.mapping_layers, "mapping network depth")
        ->capture_default_str();
    t->add_option("--resolution", model.resolution, "image side (a power of two >= 8)")
        ->capture_default_str();
    t->add_option("--r1-gamma", model.r1_gamma, "R1 weight")->capture_default_str();
    t->add_option("--r1-interval", model.r1_interval, "steps between lazy R1 terms")
        ->capture_default_str();
    t->add_option("--style-mixing-prob", model.style_mixing_prob, "style mixing probability")
        ->capture_default_str();
    t->add_option("--pack", model.pack,
                  "images the discriminator judges together (PacGAN; the batch must be a "
                  "multiple)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    apps::add_train_options(*t, train);
    t->callback([&] {
      model.channels = std::max<int64_t>(1, apps::channels_of(train.data));
      apps::run_training(model, train, false);
    });

    CLI::App* g = app.add_subcommand("generate", "a grid of samples from the EMA generator");
    add_ckpt_options(*g, gen_ckpt, "stylegan-lite-samples.png");
    g->add_option("--n", gen_n, "samples")->capture_default_str()->check(CLI::PositiveNumber);
    g->add_option("--seed", gen_seed, "latent seed")->capture_default_str();
    g->add_option("--truncation", gen_truncation, "truncation psi (1: none)")
        ->capture_default_str();
    g->callback([&] {
      models::StyleGanLite* sg = nullptr;
      const auto gan = load_stylegan(gen_ckpt, sg);
      NoGradGuard no_grad;
      const Device device = gan->generator().device();
      Generator generator(gen_seed);
      const apps::SampleGrid grid = apps::sample_grid(gen_n, 0, device);
      const Tensor z = gan->sample_latent(grid.count, generator, device);
      apps::save_samples(gen_ckpt.out, gan->generate(z, Tensor(), true, gen_truncation), grid.nrow);
      std::fprintf(stderr, "%s: %lld samples\n", gen_ckpt.out.c_str(),
                   static_cast<long long>(grid.count));
    });

    CLI::App* m = app.add_subcommand(
        "style-mix", "style mixing: coarse styles from the row sources, fine from the columns");
    add_ckpt_options(*m, mix_ckpt, "stylegan-lite-style-mix.png");
    m->add_option("--rows", mix.rows, "row sources")->capture_default_str();
    m->add_option("--cols", mix.cols, "column sources")->capture_default_str();
    m->add_option("--coarse-layers", mix.coarse_layers,
                  "ws taken from the row source (the rest from the column source); "
                  "default: half of the model's ws");
    m->add_option("--seed", mix.seed, "latent seed")->capture_default_str();
    m->add_option("--truncation", mix.truncation, "truncation psi (1: none)")
        ->capture_default_str();
    m->callback([&] {
      models::StyleGanLite* sg = nullptr;
      const auto gan = load_stylegan(mix_ckpt, sg);
      models::save_image_grid(mix_ckpt.out, apps::style_mix_figure(*sg, mix), mix.cols + 1);
      std::fprintf(stderr, "%s: %lldx%lld style mixes\n", mix_ckpt.out.c_str(),
                   static_cast<long long>(mix.rows), static_cast<long long>(mix.cols));
    });

    CLI::App* i = app.add_subcommand("interpolate", "rows of w-space interpolations");
    add_ckpt_options(*i, interp_ckpt, "stylegan-lite-interpolate.png");
    i->add_option("--rows", interp.rows, "interpolations")->capture_default_str();
    i->add_option("--steps", interp.steps, "images per interpolation")->capture_default_str();
    i->add_option("--seed", interp.seed, "latent seed")->capture_default_str();
    i->add_option("--truncation", interp.truncation, "truncation psi (1: none)")
        ->capture_default_str();
    i->callback([&] {
      models::StyleGanLite* sg = nullptr;
      const auto gan = load_stylegan(interp_ckpt, sg);
      models::save_image_grid(interp_ckpt.out, apps::interpolation_figure(*sg, interp),
                              interp.steps);
      std::fprintf(stderr, "%s: %lld interpolations of %lld steps\n", interp_ckpt.out.c_str(),
                   static_cast<long long>(interp.rows), static_cast<long long>(interp.steps));
    });
  });
}

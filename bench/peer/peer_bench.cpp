// ganengine-peer-bench: LibTorch (CPU) and ganengine (CPU) timed in one process on the same
// inputs, with the same thread count, for the layers a DCGAN-MNIST / SNGAN / WGAN-GP step spends
// its time in and for a whole DCGAN-MNIST training step (reported in images per second too),
// against the machine's measured FMA peak (fma_peak.h) as the throughput ceiling, with OpenBLAS's
// sgemm beside it for reference. Each case first checks that
// both libraries compute the same result (largest difference relative to the largest value),
// then times each library in its own block (time_both) and reports the median repetition.
//
//   ganengine-peer-bench [--reps N] [--warmup N] [--threads N]
//
// Prints a markdown table; scripts/peer_bench.sh builds and runs it and files the result.
#include <cblas.h>
#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ganengine/bias_act.h"
#include "ganengine/conv.h"
#include "ganengine/ganengine.h"
#include "ganengine/gradient_penalty.h"
#include "ganengine/models/gan.h"
#include "ganengine/optim.h"
#include "fma_peak.h"
#include "ganengine/spectral_norm.h"

namespace {

struct Config {
  int reps = 15;
  int warmup = 3;
  int threads = 0;   // 0: OpenMP's default
  std::string only;  // run only the cases whose name contains this (all when empty)
  bool wants(const std::string& name) const { return name.find(only) != std::string::npos; }
};

struct Row {
  std::string name;
  double torch_ms = NAN;
  double ge_ms = NAN;
  double flops = 0;  // per repetition; 0 where a FLOP count is not meaningful
  double rel_diff = NAN;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

// The libraries take turns in blocks, each block after a pause while the other library is idle:
// after a call, OpenBLAS's worker threads (LibTorch's GEMMs) spin for 2^28 cycles (0.1 to 0.3 s)
// and OpenMP's under the default policy for a while too, and spinning threads would take cores
// from whichever library ran next (a 150 ms pause still left ganengine's small rows up to 4x
// slower). Three rounds of blocks spread slow spells of the machine over both.
// The two share one OpenBLAS and want it set up differently, so each runs under its own setting:
// LibTorch with cfg.threads OpenBLAS threads, ganengine with ge_blas_threads (1 by default; its
// own GEMM does not use OpenBLAS).
constexpr int kRounds = 3;

void time_block(int warmup, int reps, const std::function<void()>& fn, std::vector<double>& t) {
  if (!fn || reps == 0) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < warmup; ++i)
    fn();
  for (int i = 0; i < reps; ++i) {
    const double s = now_ms();
    fn();
    t.push_back(now_ms() - s);
  }
}

std::pair<double, double> time_both(const Config& cfg, const std::function<void()>& torch_fn,
                                    const std::function<void()>& ge_fn, int ge_blas_threads = 1) {
  std::vector<double> t, g;
  for (int round = 0; round < kRounds; ++round) {
    // Repetitions spread over the rounds, cfg.reps in all; the warm-up precedes the first.
    const int reps = cfg.reps * (round + 1) / kRounds - cfg.reps * round / kRounds;
    const int warmup = round == 0 ? cfg.warmup : 1;
    openblas_set_num_threads(cfg.threads);
    time_block(warmup, reps, torch_fn, t);
    openblas_set_num_threads(ge_blas_threads);
    time_block(warmup, reps, ge_fn, g);
  }
  return {t.empty() ? NAN : median(t), g.empty() ? NAN : median(g)};
}

ge::Tensor to_ge(const torch::Tensor& t, bool requires_grad = false) {
  const torch::Tensor c = t.detach().contiguous();
  const float* p = c.data_ptr<float>();
  ge::Tensor out = ge::from_vector(std::vector<float>(p, p + c.numel()),
                                   ge::Shape(c.sizes().begin(), c.sizes().end()));
  if (requires_grad) out.requires_grad_(true);
  return out;
}

// max |a - b| / max |b|: the two libraries agree to float32 rounding when this is ~1e-6.
double rel_diff(const ge::Tensor& a, const torch::Tensor& b) {
  const std::vector<float> av = a.to_vector();
  const torch::Tensor bc = b.detach().contiguous();
  const float* bp = bc.data_ptr<float>();
  if (static_cast<int64_t>(av.size()) != bc.numel()) return INFINITY;
  double diff = 0, scale = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(av[i] - bp[i])));
    scale = std::max(scale, static_cast<double>(std::abs(bp[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// --- convolutions

struct ConvCase {
  const char* name;
  bool transposed;
  int64_t n, cin, cout, h, w, k, stride, pad;
};

Row run_conv(const Config& cfg, const ConvCase& c, bool backward) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({c.n, c.cin, c.h, c.w});
  const torch::Tensor w = c.transposed ? torch::randn({c.cin, c.cout, c.k, c.k}) * 0.05
                                       : torch::randn({c.cout, c.cin, c.k, c.k}) * 0.05;
  const torch::Tensor b = torch::randn({c.cout});
  const auto tfwd = [&](const torch::Tensor& xx, const torch::Tensor& ww, const torch::Tensor& bb) {
    return c.transposed ? torch::conv_transpose2d(xx, ww, bb, c.stride, c.pad)
                        : torch::conv2d(xx, ww, bb, c.stride, c.pad);
  };
  const torch::Tensor y_ref = tfwd(x, w, b);
  const torch::Tensor gy = torch::randn(y_ref.sizes());

  const torch::Tensor tx = x.clone().requires_grad_(backward);
  const torch::Tensor tw = w.clone().requires_grad_(backward);
  const torch::Tensor tb = b.clone().requires_grad_(backward);
  ge::Tensor gx = to_ge(x, backward), gw = to_ge(w, backward), gb = to_ge(b, backward);
  const ge::Tensor ggy = to_ge(gy);
  const ge::Conv2dOptions o(c.stride, c.pad);
  const auto gfwd = [&] {
    return c.transposed ? ge::conv_transpose2d(gx, gw, gb, o) : ge::conv2d(gx, gw, gb, o);
  };

  Row row;
  row.name = std::string(c.name) + (backward ? " fwd+bwd" : " fwd");
  {
    const torch::Tensor yt = tfwd(tx, tw, tb);
    const ge::Tensor yg = gfwd();
    row.rel_diff = rel_diff(yg, yt);
    if (backward) {
      yt.backward(gy);
      yg.backward(ggy);
      row.rel_diff = std::max({row.rel_diff, rel_diff(gx.grad(), tx.grad()),
                               rel_diff(gw.grad(), tw.grad()), rel_diff(gb.grad(), tb.grad())});
    }
  }
  const auto torch_step = [&] {
    torch::Tensor y = tfwd(tx, tw, tb);
    if (backward) {
      y.backward(gy);
      for (const torch::Tensor& t : {tx, tw, tb})
        t.mutable_grad() = torch::Tensor();
    }
  };
  const auto ge_step = [&] {
    ge::Tensor y = gfwd();
    if (backward) {
      y.backward(ggy);
      gx.zero_grad();
      gw.zero_grad();
      gb.zero_grad();
    }
  };
  std::tie(row.torch_ms, row.ge_ms) = time_both(cfg, torch_step, ge_step);
  // One GEMM volume per direction: forward, input gradient, weight gradient.
  const int64_t lo_pixels = c.transposed ? c.h * c.w : y_ref.size(2) * y_ref.size(3);
  const double gemm = 2.0 * c.n * lo_pixels * c.cin * c.cout * c.k * c.k;
  row.flops = gemm * (backward ? 3 : 1);
  return row;
}

// --- bias + leaky ReLU * sqrt(2): ganengine's fused op against the unfused PyTorch expression.

Row run_bias_act(const Config& cfg) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({64, 64, 14, 14});
  const torch::Tensor b = torch::randn({64});
  const torch::Tensor tx = x.clone().requires_grad_(true), tb = b.clone().requires_grad_(true);
  ge::Tensor gx = to_ge(x, true), gb = to_ge(b, true);
  const float gain = std::sqrt(2.f);
  const auto tfwd = [&] { return torch::leaky_relu(tx + tb.view({1, -1, 1, 1}), 0.2) * gain; };
  ge::BiasActOptions o;
  o.act = ge::Activation::LeakyRelu;
  o.alpha = 0.2f;
  const torch::Tensor gy = torch::randn(x.sizes());
  const ge::Tensor ggy = to_ge(gy);
  Row row;
  row.name = "bias_act lrelu [64,64,14,14] fwd+bwd";
  {
    const torch::Tensor yt = tfwd();
    const ge::Tensor yg = ge::bias_act(gx, gb, o);
    row.rel_diff = rel_diff(yg, yt);
    yt.backward(gy);
    yg.backward(ggy);
    row.rel_diff =
        std::max({row.rel_diff, rel_diff(gx.grad(), tx.grad()), rel_diff(gb.grad(), tb.grad())});
  }
  std::tie(row.torch_ms, row.ge_ms) = time_both(
      cfg,
      [&] {
        tfwd().backward(gy);
        tx.mutable_grad() = torch::Tensor();
        tb.mutable_grad() = torch::Tensor();
      },
      [&] {
        ge::bias_act(gx, gb, o).backward(ggy);
        gx.zero_grad();
        gb.zero_grad();
      });
  return row;
}

// One power iteration + W / sigma, forward and backward, as torch.nn.utils.spectral_norm runs
// it in a training forward (written out with LibTorch ops, the same steps as its hook).
Row run_spectral_norm(const Config& cfg, std::vector<int64_t> shape) {
  torch::manual_seed(3);
  const torch::Tensor w = torch::randn(shape) * 0.05;
  const int64_t h = shape[0], wd = w.numel() / h;
  const torch::Tensor u0 = torch::nn::functional::normalize(
      torch::randn({h}), torch::nn::functional::NormalizeFuncOptions().dim(0).eps(1e-12));
  const torch::Tensor v0 = torch::nn::functional::normalize(
      torch::randn({wd}), torch::nn::functional::NormalizeFuncOptions().dim(0).eps(1e-12));
  const torch::Tensor gy = torch::randn(shape);
  const torch::Tensor tw = w.clone().requires_grad_(true);
  torch::Tensor tu = u0.clone(), tv = v0.clone();
  const auto norm = torch::nn::functional::NormalizeFuncOptions().dim(0).eps(1e-12);
  const auto torch_fwd = [&] {
    const torch::Tensor mat = tw.reshape({h, -1});
    {
      torch::NoGradGuard no_grad;
      tv = torch::nn::functional::normalize(torch::mv(mat.t(), tu), norm);
      tu = torch::nn::functional::normalize(torch::mv(mat, tv), norm);
    }
    const torch::Tensor sigma = torch::dot(tu, torch::mv(mat, tv));
    return tw / sigma;
  };
  ge::Tensor gw = to_ge(w, true), gu = to_ge(u0), gv = to_ge(v0);
  const ge::Tensor ggy = to_ge(gy);
  Row row;
  row.name = "spectral_norm " + ge::to_string(ge::Shape(shape)) + " fwd+bwd";
  {
    const torch::Tensor yt = torch_fwd();
    const ge::Tensor yg = ge::spectral_norm(gw, gu, gv);
    row.rel_diff = rel_diff(yg, yt);
    yt.backward(gy);
    yg.backward(ggy);
    row.rel_diff = std::max(row.rel_diff, rel_diff(gw.grad(), tw.grad()));
  }
  std::tie(row.torch_ms, row.ge_ms) = time_both(
      cfg,
      [&] {
        torch_fwd().backward(gy);
        tw.mutable_grad() = torch::Tensor();
      },
      [&] {
        ge::spectral_norm(gw, gu, gv).backward(ggy);
        gw.zero_grad();
      });
  return row;
}

// The WGAN-GP step on the DCGAN-MNIST critic (conv 1->64 k4 s2 p1, lrelu 0.2, conv 64->128 k4 s2
// p1, lrelu 0.2, linear 128*7*7 -> 1), batch 64: interpolate, critic forward, input gradient
// with create_graph, penalty, backward to the critic's parameters.
Row run_gradient_penalty(const Config& cfg) {
  torch::manual_seed(4);
  const int64_t n = 64;
  const torch::Tensor real = torch::randn({n, 1, 28, 28}), fake = torch::randn({n, 1, 28, 28});
  const torch::Tensor alpha = torch::rand({n});
  std::vector<torch::Tensor> params{
      torch::randn({64, 1, 4, 4}) * 0.2,     torch::randn({64}) * 0.1,
      torch::randn({128, 64, 4, 4}) * 0.03,  torch::randn({128}) * 0.1,
      torch::randn({1, 128 * 7 * 7}) * 0.01, torch::randn({1})};
  std::vector<torch::Tensor> tp;
  std::vector<ge::Tensor> gp;
  for (const torch::Tensor& p : params) {
    tp.push_back(p.clone().requires_grad_(true));
    gp.push_back(to_ge(p, true));
  }
  const ge::Tensor greal = to_ge(real), gfake = to_ge(fake), galpha = to_ge(alpha);

  const auto torch_step = [&] {
    const torch::Tensor x_hat =
        (real + alpha.view({-1, 1, 1, 1}) * (fake - real)).requires_grad_(true);
    torch::Tensor h = torch::leaky_relu(torch::conv2d(x_hat, tp[0], tp[1], 2, 1), 0.2);
    h = torch::leaky_relu(torch::conv2d(h, tp[2], tp[3], 2, 1), 0.2);
    const torch::Tensor out = torch::linear(h.flatten(1), tp[4], tp[5]);
    const torch::Tensor g = torch::autograd::grad({out.sum()}, {x_hat}, {}, /*retain_graph=*/true,
                                                  /*create_graph=*/true)[0];
    const torch::Tensor penalty = 10.0 * (g.flatten(1).norm(2, 1) - 1.0).pow(2).mean();
    penalty.backward();
    return penalty;
  };
  const ge::Conv2dOptions o(2, 1);
  const auto ge_step = [&] {
    const ge::Tensor x_hat =
        ge::gradient_penalty_interpolate(greal, gfake, galpha).detach().requires_grad_(true);
    ge::Tensor h = ge::leaky_relu(ge::conv2d(x_hat, gp[0], gp[1], o), 0.2f);
    h = ge::leaky_relu(ge::conv2d(h, gp[2], gp[3], o), 0.2f);
    const ge::Tensor out = ge::linear(h.flatten(1), gp[4], gp[5]);
    const ge::Tensor g = ge::grad({out.sum()}, {x_hat}, {}, /*create_graph=*/true)[0];
    const ge::Tensor penalty = ge::gradient_penalty(g, 10.f);
    penalty.backward();
    return penalty;
  };
  const auto clear = [&] {
    for (torch::Tensor& t : tp)
      t.mutable_grad() = torch::Tensor();
    for (ge::Tensor& t : gp)
      t.zero_grad();
  };
  Row row;
  row.name = "WGAN-GP step, DCGAN-MNIST critic, batch 64";
  {
    const torch::Tensor pt = torch_step();
    const ge::Tensor pg = ge_step();
    row.rel_diff = rel_diff(pg, pt);
    // The bias gradients are zero almost everywhere (the penalty sees the biases only through
    // leaky ReLU's piecewise-constant slope), so the weights carry the comparison.
    for (const size_t i : {size_t{0}, size_t{2}, size_t{4}})
      row.rel_diff = std::max(row.rel_diff, rel_diff(gp[i].grad(), tp[i].grad()));
    clear();
  }
  std::tie(row.torch_ms, row.ge_ms) = time_both(
      cfg,
      [&] {
        torch_step();
        clear();
      },
      [&] {
        ge_step();
        clear();
      });
  return row;
}

// --- one DCGAN-MNIST training step: ganengine's "dcgan" model (make_gan; 32x32x1, the 28x28
// digits padded, width 64, latent 100) against the same network written with torch::nn.
// Both run the step the way ganengine's loss functions define it: D on a real batch and on
// fakes from fresh latents made without a graph, non-saturating BCE, Adam (2e-4, betas 0.5 /
// 0.999); then G on new latents through D, Adam. The check: with identical weights, batch and
// latents, the D and G losses of two steps.

struct TorchDcgan {
  torch::nn::Sequential g{nullptr}, d{nullptr};
};

TorchDcgan torch_dcgan() {
  using namespace torch::nn;
  const auto convt = [](int64_t in, int64_t out, int64_t s, int64_t p) {
    return ConvTranspose2d(ConvTranspose2dOptions(in, out, 4).stride(s).padding(p).bias(false));
  };
  const auto conv = [](int64_t in, int64_t out, int64_t s, int64_t p) {
    return Conv2d(Conv2dOptions(in, out, 4).stride(s).padding(p).bias(false));
  };
  const auto lrelu = [] { return LeakyReLU(LeakyReLUOptions().negative_slope(0.2)); };
  TorchDcgan m;
  m.g = Sequential(convt(100, 256, 1, 0), BatchNorm2d(256), ReLU(), convt(256, 128, 2, 1),
                   BatchNorm2d(128), ReLU(), convt(128, 64, 2, 1), BatchNorm2d(64), ReLU(),
                   convt(64, 1, 2, 1), Tanh());
  m.d = Sequential(conv(1, 64, 2, 1), lrelu(), conv(64, 128, 2, 1), BatchNorm2d(128), lrelu(),
                   conv(128, 256, 2, 1), BatchNorm2d(256), lrelu(), conv(256, 1, 1, 0));
  return m;
}

// ganengine's "main.3.weight" -> torch's "3.weight" (parameters and float buffers).
void copy_into(const std::map<std::string, ge::Tensor>& state, torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  const auto copy = [&](const std::string& name, torch::Tensor& t) {
    const ge::Tensor& src = state.at("main." + name);
    const std::vector<float> v = src.to_vector();
    t.copy_(torch::from_blob(const_cast<float*>(v.data()), t.sizes()).to(t.dtype()));
  };
  for (auto& item : module.named_parameters())
    copy(item.key(), item.value());
  for (auto& item : module.named_buffers())
    copy(item.key(), item.value());
}

struct DcganStepResult {
  Row row;
  double torch_img_s = NAN, ge_img_s = NAN;
};

DcganStepResult run_dcgan_step(const Config& cfg) {
  const int64_t n = 64, nz = 100;
  ge::models::GanOptions o;
  o.arch = "dcgan";
  o.channels = 1;
  o.resolution = 32;
  o.width = 64;
  o.latent_dim = nz;
  ge::Generator init(1);
  const std::unique_ptr<ge::models::Gan> gan = ge::models::make_gan(o, init);
  TorchDcgan t = torch_dcgan();
  copy_into(gan->generator().state_dict(), *t.g);
  copy_into(gan->discriminator().state_dict(), *t.d);

  torch::manual_seed(6);
  const torch::Tensor real_t = torch::rand({n, 1, 32, 32}) * 2 - 1;
  const ge::Tensor real_g = to_ge(real_t);
  const ge::optim::AdamOptions ao{2e-4f, 0.5f, 0.999f};
  ge::optim::Adam adam_gd(gan->discriminator().parameters(), ao);
  ge::optim::Adam adam_gg(gan->generator().parameters(), ao);
  const auto to = torch::optim::AdamOptions(2e-4).betas({0.5, 0.999});
  torch::optim::Adam adam_td(t.d->parameters(), to), adam_tg(t.g->parameters(), to);

  ge::Generator step_gen(2);
  ge::models::StepContext ctx;
  ctx.generator = &step_gen;
  const auto ge_step = [&](float* d_loss, float* g_loss) {
    adam_gd.zero_grad();
    ge::models::LossResult d = gan->discriminator_loss(real_g, ge::Tensor(), ctx);
    d.loss.backward();
    adam_gd.step();
    adam_gg.zero_grad();
    ge::models::LossResult g = gan->generator_loss(n, ge::Tensor(), ctx);
    g.loss.backward();
    adam_gg.step();
    if (d_loss) *d_loss = d.loss.item();
    if (g_loss) *g_loss = g.loss.item();
  };
  namespace F = torch::nn::functional;
  const auto torch_step = [&](const torch::Tensor& z1, const torch::Tensor& z2, float* d_loss,
                              float* g_loss) {
    adam_td.zero_grad();
    torch::Tensor fake;
    {
      torch::NoGradGuard no_grad;
      fake = t.g->forward(z1.view({n, nz, 1, 1}));
    }
    const torch::Tensor real_out = t.d->forward(real_t).view({n});
    const torch::Tensor fake_out = t.d->forward(fake).view({n});
    const torch::Tensor ld =
        F::binary_cross_entropy_with_logits(real_out, torch::ones_like(real_out)) +
        F::binary_cross_entropy_with_logits(fake_out, torch::zeros_like(fake_out));
    ld.backward();
    adam_td.step();
    adam_tg.zero_grad();
    const torch::Tensor out = t.d->forward(t.g->forward(z2.view({n, nz, 1, 1}))).view({n});
    const torch::Tensor lg = F::binary_cross_entropy_with_logits(out, torch::ones_like(out));
    lg.backward();
    adam_tg.step();
    if (d_loss) *d_loss = ld.item<float>();
    if (g_loss) *g_loss = lg.item<float>();
  };

  DcganStepResult r;
  r.row.name = "DCGAN-MNIST 32x32 train step (D + G, Adam), batch 64";
  // Two checked steps on the latents ganengine's losses draw, replayed from a copy of the step
  // generator. The first agrees to float rounding (~1e-7); the second sees both networks after
  // an Adam update, which divides rounding-level gradients by their own tiny RMS, so ~1e-5 there.
  r.row.rel_diff = 0;
  for (int s = 0; s < 2; ++s) {
    ge::Generator replay(step_gen.seed());
    replay.set_offset(step_gen.offset());
    const auto draw = [&] {
      return torch::from_blob(ge::randn({n, nz}, ge::kCPU, &replay).to_vector().data(), {n, nz})
          .clone();
    };
    const torch::Tensor z1 = draw(), z2 = draw();
    float gd = 0, gg = 0, td = 0, tg = 0;
    ge_step(&gd, &gg);
    torch_step(z1, z2, &td, &tg);
    r.row.rel_diff =
        std::max({r.row.rel_diff, static_cast<double>(std::abs(gd - td) / std::abs(td)),
                  static_cast<double>(std::abs(gg - tg) / std::abs(tg))});
  }
  std::tie(r.row.torch_ms, r.row.ge_ms) = time_both(
      cfg,
      [&] {
        torch_step(torch::randn({n, nz}), torch::randn({n, nz}), nullptr, nullptr);
      },
      [&] { ge_step(nullptr, nullptr); });
  r.torch_img_s = n / (r.row.torch_ms * 1e-3);
  r.ge_img_s = n / (r.row.ge_ms * 1e-3);
  return r;
}

// --- GEMM: torch::mm against ge::matmul (the kernels' own SGEMM over their team), and OpenBLAS's
// cblas_sgemm alone, for reference, on the threads LibTorch gets.

Row run_gemm(const Config& cfg, int64_t m, int64_t n, int64_t k, double* openblas_gflops) {
  torch::manual_seed(5);
  const torch::Tensor a = torch::randn({m, k}), b = torch::randn({k, n});
  const ge::Tensor ga = to_ge(a), gb = to_ge(b);
  Row row;
  row.name = "GEMM " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
             " (torch::mm vs ge::matmul)";
  ge::NoGradGuard no_grad;
  row.rel_diff = rel_diff(ge::matmul(ga, gb), torch::mm(a, b));
  std::tie(row.torch_ms, row.ge_ms) = time_both(
      cfg, [&] { torch::mm(a, b); }, [&] { ge::matmul(ga, gb); });
  row.flops = 2.0 * m * n * k;
  torch::Tensor c = torch::empty({m, n});
  const auto sgemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.f, a.data_ptr<float>(), static_cast<int>(k),
                b.data_ptr<float>(), static_cast<int>(n), 0.f, c.data_ptr<float>(),
                static_cast<int>(n));
  };
  const double blas_ms = time_both(cfg, {}, sgemm, cfg.threads).second;
  *openblas_gflops = std::max(*openblas_gflops, row.flops / (blas_ms * 1e-3) * 1e-9);
  return row;
}

std::string fmt(const char* f, double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

Config parse(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (a == "--reps") {
      cfg.reps = std::max(1, value());
    } else if (a == "--warmup") {
      cfg.warmup = std::max(0, value());
    } else if (a == "--threads") {
      cfg.threads = std::max(1, value());
    } else if (a == "--only" && i + 1 < argc) {
      cfg.only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--warmup N] [--threads N] [--only SUBSTRING]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg = parse(argc, argv);
  if (cfg.threads == 0) cfg.threads = omp_get_num_procs();
  // One thread count for everyone: ganengine's OpenMP team, LibTorch's intra-op pool (which
  // also sets OpenMP's) and the OpenBLAS LibTorch calls; ganengine multiplies with its own GEMM
  // on its team.
  omp_set_num_threads(cfg.threads);
  openblas_set_num_threads(cfg.threads);
  torch::set_num_threads(cfg.threads);
  std::printf(
      "threads: ganengine OpenMP %d (its own GEMM), LibTorch %d (OpenBLAS %d) (LibTorch %s)\n",
      omp_get_max_threads(), torch::get_num_threads(), openblas_get_num_threads(), TORCH_VERSION);
  std::printf("median of %d repetitions after %d warm-up, milliseconds\n\n", cfg.reps, cfg.warmup);

  const ge::bench::FmaPeak peak = ge::bench::measure_fma_peak(cfg.threads);
  const bool avx512 = peak.avx512_gflops > 0;
  const double ceiling = avx512 ? peak.avx512_gflops : peak.avx2_gflops;
  std::printf("FMA peak on %d threads: AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s\n", cfg.threads,
              peak.avx512_gflops, peak.avx2_gflops);

  std::vector<Row> rows;
  double openblas_gflops = 0;
  const int64_t gemms[][3] = {
      {512, 512, 512},
      // The transposed DCGAN generator layer's GEMM: [C_out*k*k, C_in] x [C_in, N*H*W].
      {1024, 64 * 49, 128},
  };
  if (cfg.wants("GEMM")) {
    for (const auto& g : gemms)
      rows.push_back(run_gemm(cfg, g[0], g[1], g[2], &openblas_gflops));
    std::printf("OpenBLAS cblas_sgemm on the same GEMMs: %.1f GFLOP/s at best\n", openblas_gflops);
  }

  const ConvCase convs[] = {
      {"conv_transpose2d 128->64 7->14 k4s2p1 b64", true, 64, 128, 64, 7, 7, 4, 2, 1},
      {"conv_transpose2d 64->1 14->28 k4s2p1 b64", true, 64, 64, 1, 14, 14, 4, 2, 1},
      {"conv2d 1->64 28->14 k4s2p1 b64", false, 64, 1, 64, 28, 28, 4, 2, 1},
      {"conv2d 64->128 14->7 k4s2p1 b64", false, 64, 64, 128, 14, 14, 4, 2, 1},
  };
  for (const ConvCase& c : convs) {
    if (!cfg.wants(c.name)) continue;
    rows.push_back(run_conv(cfg, c, false));
    rows.push_back(run_conv(cfg, c, true));
  }
  if (cfg.wants("bias_act")) rows.push_back(run_bias_act(cfg));
  if (cfg.wants("spectral_norm")) {
    rows.push_back(run_spectral_norm(cfg, {128, 64, 4, 4}));
    rows.push_back(run_spectral_norm(cfg, {512, 256, 4, 4}));
  }
  if (cfg.wants("WGAN-GP")) rows.push_back(run_gradient_penalty(cfg));
  DcganStepResult dcgan;
  if (cfg.wants("DCGAN")) {
    dcgan = run_dcgan_step(cfg);
    rows.push_back(dcgan.row);
  }

  std::printf(
      "\n| case | LibTorch ms | ganengine ms | LibTorch / ganengine | ganengine GFLOP/s | "
      "%% of %s peak | max rel diff |\n",
      avx512 ? "AVX-512" : "AVX2");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    const double gflops = r.flops > 0 ? r.flops / (r.ge_ms * 1e-3) * 1e-9 : NAN;
    std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", r.name.c_str(),
                fmt("%.3f", r.torch_ms).c_str(), fmt("%.3f", r.ge_ms).c_str(),
                fmt("%.2f", r.torch_ms / r.ge_ms).c_str(), fmt("%.1f", gflops).c_str(),
                fmt("%.0f%%", gflops / ceiling * 100).c_str(), fmt("%.1e", r.rel_diff).c_str());
  }
  if (cfg.wants("DCGAN")) {
    std::printf(
        "\nDCGAN-MNIST training step (batch 64, real images per second of D + G steps): LibTorch "
        "%.0f img/s, ganengine %.0f img/s\n",
        dcgan.torch_img_s, dcgan.ge_img_s);
  }
  return 0;
}

#include "ganengine/models/losses.h"

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"
#include "ganengine/ops.h"

namespace ge::models {

namespace {

void check_scores(const char* op, const Tensor& real, const Tensor& fake) {
  GE_CHECK(real.defined() && fake.defined(), op,
           ": expected defined real and fake discriminator outputs");
  GE_CHECK(real.device() == fake.device(), op,
           ": expected real and fake outputs on one device, got ", real.device().str(), " and ",
           fake.device().str());
}

void check_scores(const char* op, const Tensor& fake) {
  GE_CHECK(fake.defined(), op, ": expected a defined discriminator output");
}

}  // namespace

Tensor nonsaturating_d_loss(const Tensor& real_logits, const Tensor& fake_logits,
                            float real_label) {
  check_scores("nonsaturating_d_loss", real_logits, fake_logits);
  GE_CHECK(real_label > 0.f && real_label <= 1.f,
           "nonsaturating_d_loss: expected real_label in (0, 1], got ", real_label);
  return binary_cross_entropy_with_logits(real_logits, real_label) +
         softplus_loss(fake_logits, 1.f);
}

Tensor nonsaturating_g_loss(const Tensor& fake_logits) {
  check_scores("nonsaturating_g_loss", fake_logits);
  return softplus_loss(fake_logits, -1.f);
}

Tensor minimax_g_loss(const Tensor& fake_logits) {
  check_scores("minimax_g_loss", fake_logits);
  return -softplus_loss(fake_logits, 1.f);
}

Tensor hinge_d_loss(const Tensor& real_logits, const Tensor& fake_logits) {
  check_scores("hinge_d_loss", real_logits, fake_logits);
  return mean(relu(1.f - real_logits)) + mean(relu(1.f + fake_logits));
}

Tensor hinge_g_loss(const Tensor& fake_logits) {
  check_scores("hinge_g_loss", fake_logits);
  return -mean(fake_logits);
}

Tensor wasserstein_d_loss(const Tensor& real_scores, const Tensor& fake_scores) {
  check_scores("wasserstein_d_loss", real_scores, fake_scores);
  return mean(fake_scores) - mean(real_scores);
}

Tensor wasserstein_g_loss(const Tensor& fake_scores) {
  check_scores("wasserstein_g_loss", fake_scores);
  return -mean(fake_scores);
}

Tensor r1_penalty(const std::function<Tensor(const Tensor&)>& discriminator, const Tensor& real,
                  float gamma) {
  GE_CHECK(real.defined() && real.dim() >= 1 && real.size(0) > 0,
           "r1_penalty: expected a real batch [N, ...] with N > 0");
  GE_CHECK(gamma >= 0.f, "r1_penalty: expected gamma >= 0, got ", gamma);
  // A fresh leaf, so the gradient is taken wrt the images only, never through whatever made them.
  Tensor x = real.detach();
  x.requires_grad_(true);
  const Tensor scores = discriminator(x);
  GE_CHECK(scores.defined(), "r1_penalty: the discriminator returned an undefined tensor");
  const Tensor g = grad({scores.sum()}, {x}, {}, /*create_graph=*/true)[0];
  const Tensor per_sample = sum(square(g.flatten(1)), {1});
  return mean(per_sample) * (0.5f * gamma);
}

}  // namespace ge::models

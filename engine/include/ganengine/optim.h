#pragma once
// Optimizers, weight clipping and parameter averaging: in-place, history-free updates of whole
// parameter lists, one multi-tensor kernel launch per device for a list (a few for lists longer
// than a launch's table). Updated tensors get their version bumped, so a graph that saved one of
// them before the update refuses to run backward through stale values.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/tensor.h"

namespace ge::optim {

struct AdamOptions {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.f;
  bool decoupled_weight_decay = false;  // true: AdamW (param *= 1 - lr*wd), false: L2 into grad
};

// PyTorch's torch.optim.Adam (decoupled_weight_decay false) or AdamW (true) update of every
// param with its grad and moments; `step` is the 1-based step number of the bias corrections
// 1 - beta^step. All four lists: the same length, matching shapes, float32, contiguous, on one
// device. Updates params, exp_avg and exp_avg_sq in place without recording history.
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
               int64_t step, const AdamOptions& options);

// An optimizer over a fixed list of parameters, as the trainer drives any of them: step() reads
// each param's .grad() and skips params without one; its state is named buffers of one tensor
// per param (zeros, allocated up front on each param's device) and two counters, which a
// checkpoint saves and restores.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();  // sets grads to undefined (set_to_none, PyTorch 2's default)
  virtual float lr() const = 0;
  virtual void set_lr(float lr) = 0;
  const std::vector<Tensor>& params() const { return params_; }
  int64_t steps() const { return steps_; }  // calls to step() so far
  // Updates each param has had (Adam's bias corrections count them).
  const std::vector<int64_t>& param_steps() const { return param_steps_; }
  // ("exp_avg", ...), each with one tensor per param, in the order checkpoints list them.
  virtual std::vector<std::pair<std::string, std::vector<Tensor>>> state_buffers() const = 0;
  // Restores the counters of a saved optimizer (a resumed run continues bitwise where it
  // stopped); the buffers are restored by copying into state_buffers().
  void set_counters(int64_t steps, std::vector<int64_t> param_steps);

 protected:
  // Checks that the params are distinct, contiguous float32 leaves; `name` starts the errors.
  Optimizer(std::vector<Tensor> params, const char* name);
  std::vector<Tensor> zeros_like_params() const;
  std::vector<Tensor> params_;
  std::vector<int64_t> param_steps_;
  int64_t steps_ = 0;
  const char* name_;
};

// Adam over a fixed list of parameters, owning their moment buffers; like PyTorch, a param's
// bias corrections count only the steps that updated it.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});

  void step() override;
  float lr() const override { return options_.lr; }
  void set_lr(float lr) override { options_.lr = lr; }
  std::vector<std::pair<std::string, std::vector<Tensor>>> state_buffers() const override;
  const AdamOptions& options() const { return options_; }
  AdamOptions& options() { return options_; }
  const std::vector<Tensor>& exp_avg() const { return exp_avg_; }
  const std::vector<Tensor>& exp_avg_sq() const { return exp_avg_sq_; }

 private:
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  AdamOptions options_;
};

struct RmspropOptions {
  float lr = 1e-2f, alpha = 0.99f, eps = 1e-8f;
  float weight_decay = 0.f;  // L2 into the gradient
};

// PyTorch's torch.optim.RMSprop update (momentum 0, centered false: the WGAN critic's) of every
// param with its grad and running mean of squared gradients. All three lists: the same length,
// matching shapes, float32, contiguous, on one device. Updates params and square_avg in place
// without recording history.
void rmsprop_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& square_avg, const RmspropOptions& options);

// RMSprop over a fixed list of parameters, owning their square_avg buffers.
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RmspropOptions options = {});

  void step() override;
  float lr() const override { return options_.lr; }
  void set_lr(float lr) override { options_.lr = lr; }
  std::vector<std::pair<std::string, std::vector<Tensor>>> state_buffers() const override;
  const RmspropOptions& options() const { return options_; }
  RmspropOptions& options() { return options_; }
  const std::vector<Tensor>& square_avg() const { return square_avg_; }

 private:
  std::vector<Tensor> square_avg_;
  RmspropOptions options_;
};

// params[i] = clamp(params[i], -c, c) for every tensor of the list, in one multi-tensor launch
// per device (the original WGAN's weight clipping of its critic, c = 0.01). c >= 0; float32,
// contiguous, on one device. NaN stays NaN, as torch.clamp_ keeps it. In place, without history.
void clip_weights(const std::vector<Tensor>& params, float c);

// averages[i] = sources[i] + decay * (averages[i] - sources[i]), i.e. lerp(source, average,
// decay) as StyleGAN keeps its generator's EMA. decay in [0, 1]; both lists the same length,
// matching shapes, float32, contiguous averages, on one device. In place, without history.
void ema_update(const std::vector<Tensor>& averages, const std::vector<Tensor>& sources,
                float decay);

}  // namespace ge::optim

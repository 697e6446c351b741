// clip_weights: list validation, then one multi-tensor clamp per device; the versions of the
// clipped params are bumped.
#include "dispatch.h"
#include "ganengine/error.h"
#include "ganengine/kernels/optim.h"
#include "ganengine/optim.h"
#include "list_checks.h"
#include "tensor_impl.h"

namespace ge::optim {

void clip_weights(const std::vector<Tensor>& params, float c) {
  const char* op = "clip_weights";
  GE_CHECK(c >= 0.f, op, ": expected c >= 0 (params are clipped to [-c, c]), got ", c);
  if (params.empty()) return;
  GE_CHECK(params[0].defined(), op, ": expected params[0] to be a defined tensor, got undefined");
  const Device device = params[0].device();
  std::vector<kernels::InPlaceTensor> table;
  table.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    checks::check_entry(op, params[i], "params", i, params[i], "params", device, true);
    table.push_back({params[i].data_ptr(), params[i].numel()});
  }
  const auto count = static_cast<int64_t>(table.size());
  detail::run_kernel(device, kernels::cpu::clamp, kernels::cuda::clamp, -c, c, table.data(), count);
  for (const Tensor& p : params)
    detail::bump_version(p);
}

}  // namespace ge::optim

// Linked into every engine, nn and model test binary: they compute on the exact FP32 path, as
// PyTorch's own suite keeps TF32 off, because gradcheck and the references assume FP32
// arithmetic. A test of the TF32 path turns the policy on itself and restores it.
#include "ganengine/precision.h"

namespace {

[[maybe_unused]] const bool exact_fp32 = (ge::set_allow_tf32(false), true);

}  // namespace

// Linked into every engine, nn and model test binary: they compute on the exact FP32 path, as
// PyTorch's own suite keeps TF32 off, because gradcheck and the references assume FP32
// arithmetic (for convolutions and matmul alike, whatever GE_ALLOW_TF32 and
// GE_ALLOW_TF32_MATMUL say). A test of a TF32 path turns its policy on itself and restores it.
#include "ganengine/precision.h"

namespace {

[[maybe_unused]] const bool exact_fp32 =
    (ge::set_allow_tf32(false), ge::set_allow_tf32_matmul(false), true);

}  // namespace

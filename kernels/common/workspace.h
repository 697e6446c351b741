#pragma once
// The launchers' workspace check: they allocate nothing, so a caller that passes less than the
// size function asked for gets an error naming the op, what was needed and what came.
#include <cstdint>

#include "ganengine/error.h"

namespace ge::kernels {

// `what` describes the shape, e.g. " for [2, 3, 4]" (may be empty).
template <typename... What>
void check_workspace(const char* op, int64_t need, const void* workspace, int64_t workspace_size,
                     const What&... what) {
  GE_CHECK(workspace_size >= need && (need == 0 || workspace != nullptr), op,
           ": expected a workspace of at least ", need, " floats", what..., ", got ",
           workspace_size, workspace == nullptr ? " (null)" : "");
}

}  // namespace ge::kernels

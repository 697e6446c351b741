#pragma once
// The public API in one include.
#include "ganengine/allocator.h"
#include "ganengine/autograd.h"
#include "ganengine/device.h"
#include "ganengine/dtype.h"
#include "ganengine/error.h"
#include "ganengine/gradcheck.h"
#include "ganengine/ops.h"
#include "ganengine/random.h"
#include "ganengine/shape.h"
#include "ganengine/tensor.h"
#include "ganengine/tensor_options.h"
#include "ganengine/version.h"

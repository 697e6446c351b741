// cuDNN convolutions, the baseline the native kernels are measured against (and an algorithm
// users may pick). Only nvcc builds have cuDNN; the emulator build keeps the entry points so the
// engine links the same way, and they say why they cannot run.
//
// Per shape and device, the calling thread keeps a plan: descriptors plus the algorithm cuDNN's
// heuristics rank first (preferring deterministic ones), chosen once. The plan fixes the
// workspace size reported to the caller, so the size query and the call always agree.
#include <cstddef>
#include <cstdint>

#include "ganengine/error.h"
#include "ganengine/kernels/bias_act.h"
#include "ganengine/kernels/conv.h"

#if defined(GE_CUDA_NVCC)
#include <cudnn.h>

#include <array>
#include <map>
#include <memory>
#include <vector>

#include "cuda/launch.cuh"
#endif

namespace ge::kernels::cuda {

#if defined(GE_CUDA_NVCC)
namespace {

void check(cudnnStatus_t status, const char* op, const char* call) {
  GE_CHECK(status == CUDNN_STATUS_SUCCESS, op, ": ", call,
           " failed: ", cudnnGetErrorString(status));
}

const char* op_name(CudnnConvOp op) {
  switch (op) {
    case CudnnConvOp::Forward:
      return "cudnn_conv2d_forward";
    case CudnnConvOp::TransposeForward:
      return "cudnn_conv_transpose2d_forward";
    case CudnnConvOp::Weight:
      return "cudnn_conv2d_weight";
  }
  return "cudnn_conv";
}

struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = 0;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t, per the plan's op
  size_t bytes = 0;

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    // Destruction at thread exit may follow driver shutdown; failures are of no use then.
    if (conv != nullptr) cudnnDestroyConvolutionDescriptor(conv);
    if (w != nullptr) cudnnDestroyFilterDescriptor(w);
    if (y != nullptr) cudnnDestroyTensorDescriptor(y);
    if (x != nullptr) cudnnDestroyTensorDescriptor(x);
  }
};

using PlanKey = std::array<int64_t, 17>;

// One handle per device and the plans made with it, per host thread (cuDNN handles must not be
// shared between concurrently calling threads).
class State {
 public:
  ~State() {
    plans_.clear();
    for (cudnnHandle_t h : handles_) {
      if (h != nullptr) cudnnDestroy(h);
    }
  }
  int device() const {
    int d = 0;
    GE_CUDA_CHECK(cudaGetDevice(&d));
    return d;
  }
  cudnnHandle_t handle(int d, const char* op) {
    if (static_cast<size_t>(d) >= handles_.size()) handles_.resize(static_cast<size_t>(d) + 1);
    if (handles_[static_cast<size_t>(d)] == nullptr)
      check(cudnnCreate(&handles_[static_cast<size_t>(d)]), op, "cudnnCreate");
    return handles_[static_cast<size_t>(d)];
  }
  Plan& plan(CudnnConvOp op, const ConvShape& s, ConvMath math);

 private:
  std::vector<cudnnHandle_t> handles_;
  std::map<PlanKey, std::unique_ptr<Plan>> plans_;
};

State& state() {
  thread_local State s;
  return s;
}

int as_int(int64_t v) {
  return static_cast<int>(v);
}

void describe(Plan& p, const ConvShape& s, ConvMath math, const char* op) {
  check(cudnnCreateTensorDescriptor(&p.x), op, "cudnnCreateTensorDescriptor");
  check(cudnnCreateTensorDescriptor(&p.y), op, "cudnnCreateTensorDescriptor");
  check(cudnnCreateFilterDescriptor(&p.w), op, "cudnnCreateFilterDescriptor");
  check(cudnnCreateConvolutionDescriptor(&p.conv), op, "cudnnCreateConvolutionDescriptor");
  check(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, as_int(s.batch),
                                   as_int(s.in_c), as_int(s.in_h), as_int(s.in_w)),
        op, "cudnnSetTensor4dDescriptor(x)");
  check(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, as_int(s.batch),
                                   as_int(s.out_c), as_int(s.out_h), as_int(s.out_w)),
        op, "cudnnSetTensor4dDescriptor(y)");
  check(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, as_int(s.out_c),
                                   as_int(s.in_c / s.groups), as_int(s.kh), as_int(s.kw)),
        op, "cudnnSetFilter4dDescriptor");
  check(cudnnSetConvolution2dDescriptor(p.conv, as_int(s.pad_h), as_int(s.pad_w),
                                        as_int(s.stride_h), as_int(s.stride_w), 1, 1,
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        op, "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionGroupCount(p.conv, as_int(s.groups)), op,
        "cudnnSetConvolutionGroupCount");
  // Fp32: FMA only, the exact baseline. Tf32: cuDNN's default math, which on sm_80+ lets it run
  // FP32 data on the TF32 tensor cores (what PyTorch selects when allow_tf32 is set).
  check(cudnnSetConvolutionMathType(p.conv,
                                    math == ConvMath::Tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH),
        op, "cudnnSetConvolutionMathType");
}

// The first successful result of a heuristic ranking, a deterministic one if any succeeded.
template <typename Perf>
int pick(const Perf* perf, int count, const char* op) {
  int chosen = -1;
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (perf[i].determinism == CUDNN_DETERMINISTIC) return static_cast<int>(perf[i].algo);
    if (chosen < 0) chosen = static_cast<int>(perf[i].algo);
  }
  GE_CHECK(chosen >= 0, op, ": cuDNN offers no algorithm for this shape");
  return chosen;
}

// Sets p's algorithm from cuDNN's ranking, find(count, &returned, perf), and its workspace size,
// size(algo, &bytes); find_name and size_name are the cuDNN calls they make, for errors.
template <typename Perf, int kCount, typename Find, typename Size>
void choose(Plan& p, const char* op, const char* find_name, const char* size_name, Find&& find,
            Size&& size) {
  Perf perf[kCount];
  int returned = 0;
  check(find(kCount, &returned, perf), op, find_name);
  p.algo = pick(perf, returned, op);
  check(size(p.algo, &p.bytes), op, size_name);
}

Plan& State::plan(CudnnConvOp op, const ConvShape& s, ConvMath math) {
  const char* name = op_name(op);
  const int d = device();
  const PlanKey key{static_cast<int64_t>(op),
                    d,
                    s.batch,
                    s.in_c,
                    s.in_h,
                    s.in_w,
                    s.out_c,
                    s.out_h,
                    s.out_w,
                    s.kh,
                    s.kw,
                    s.stride_h,
                    s.stride_w,
                    s.pad_h,
                    s.pad_w,
                    s.groups,
                    static_cast<int64_t>(math)};
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;
  cudnnHandle_t h = handle(d, name);
  auto p = std::make_unique<Plan>();
  describe(*p, s, math, name);
  switch (op) {
    case CudnnConvOp::Forward:
      choose<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT>(
          *p, name, "cudnnGetConvolutionForwardAlgorithm_v7",
          "cudnnGetConvolutionForwardWorkspaceSize",
          [&](int count, int* returned, cudnnConvolutionFwdAlgoPerf_t* perf) {
            return cudnnGetConvolutionForwardAlgorithm_v7(h, p->x, p->w, p->conv, p->y, count,
                                                          returned, perf);
          },
          [&](int algo, size_t* bytes) {
            return cudnnGetConvolutionForwardWorkspaceSize(
                h, p->x, p->w, p->conv, p->y, static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
          });
      break;
    case CudnnConvOp::TransposeForward:
      choose<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT>(
          *p, name, "cudnnGetConvolutionBackwardDataAlgorithm_v7",
          "cudnnGetConvolutionBackwardDataWorkspaceSize",
          [&](int count, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
            return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w, p->y, p->conv, p->x, count,
                                                               returned, perf);
          },
          [&](int algo, size_t* bytes) {
            return cudnnGetConvolutionBackwardDataWorkspaceSize(
                h, p->w, p->y, p->conv, p->x, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo),
                bytes);
          });
      break;
    case CudnnConvOp::Weight:
      choose<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT>(
          *p, name, "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
          "cudnnGetConvolutionBackwardFilterWorkspaceSize",
          [&](int count, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
            return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->x, p->y, p->conv, p->w,
                                                                 count, returned, perf);
          },
          [&](int algo, size_t* bytes) {
            return cudnnGetConvolutionBackwardFilterWorkspaceSize(
                h, p->x, p->y, p->conv, p->w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo),
                bytes);
          });
      break;
  }
  return *plans_.emplace(key, std::move(p)).first->second;
}

void check_sizes(const ConvShape& s, const char* op) {
  check_conv_shape(s, op);
  constexpr int64_t kIntMax = 0x7fffffff;
  for (int64_t v : {s.batch * s.in_c * s.in_h * s.in_w, s.batch * s.out_c * s.out_h * s.out_w}) {
    GE_CHECK(v <= kIntMax, op, ": expected tensors of fewer than 2^31 elements, got ", v);
  }
}

// The plan for a call, after checking the caller's workspace covers it; null when there is no
// work (an empty batch).
Plan* prepare(CudnnConvOp op, const ConvShape& s, ConvMath math, const void* workspace,
              size_t bytes, cudnnHandle_t* h, Stream stream) {
  const char* name = op_name(op);
  check_sizes(s, name);
  if (s.batch == 0) return nullptr;
  State& st = state();
  Plan& p = st.plan(op, s, math);
  GE_CHECK(bytes >= p.bytes && (p.bytes == 0 || workspace != nullptr), name,
           ": expected a workspace of at least ", p.bytes, " bytes (cudnn_workspace_bytes), got ",
           bytes, workspace == nullptr ? " (null)" : "");
  *h = st.handle(st.device(), name);
  check(cudnnSetStream(*h, stream), name, "cudnnSetStream");
  return &p;
}

// Runs call(handle, plan, &alpha, &beta) (alpha 1, beta 0: the output is overwritten) with the
// plan for op; false, running nothing, when there is no work.
template <typename Call>
bool run(CudnnConvOp op, const ConvShape& s, ConvMath math, void* workspace, size_t bytes,
         Stream stream, const char* call_name, Call&& call) {
  cudnnHandle_t h = nullptr;
  const Plan* p = prepare(op, s, math, workspace, bytes, &h, stream);
  if (p == nullptr) return false;
  const float one = 1.f, zero = 0.f;
  check(call(h, *p, &one, &zero), op_name(op), call_name);
  return true;
}

bool is_identity(const ConvEpilogue& e) {
  return e.bias == nullptr && e.act.act == BiasActFn::Linear && e.act.gain == 1.f &&
         e.act.clamp < 0.f;
}

// out [batch, channels, plane] = epilogue(out), in place.
void apply_epilogue(const ConvEpilogue& e, float* out, int64_t batch, int64_t channels,
                    int64_t plane, Stream stream) {
  if (is_identity(e)) return;
  BiasActArgs a;
  a.x = out;
  a.bias = e.bias;
  a.out = out;
  a.n = batch * channels * plane;
  a.channels = channels;
  a.inner = plane;
  bias_act(BiasActMode::Forward, e.act, a, stream);
}

}  // namespace

bool cudnn_available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();  // leave no sticky error behind for the next runtime call
    return false;
  }
  try {
    State& st = state();
    st.handle(st.device(), "cudnn_available");
    return true;
  } catch (const Error&) {
    return false;
  }
}

size_t cudnn_workspace_bytes(CudnnConvOp op, const ConvShape& s, ConvMath math) {
  check_sizes(s, op_name(op));
  if (s.batch == 0) return 0;
  return state().plan(op, s, math).bytes;
}

void cudnn_conv2d_forward(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& e,
                          float* y, void* workspace, size_t workspace_bytes, Stream stream,
                          ConvMath math) {
  // The engine runs PReLU after cuDNN as a pass of its own.
  check_prelu_epilogue(e, "cudnn_conv2d_forward", false);
  const bool ran = run(
      CudnnConvOp::Forward, s, math, workspace, workspace_bytes, stream, "cudnnConvolutionForward",
      [&](cudnnHandle_t h, const Plan& p, const float* one, const float* zero) {
        return cudnnConvolutionForward(h, one, p.x, x, p.w, w, p.conv,
                                       static_cast<cudnnConvolutionFwdAlgo_t>(p.algo), workspace,
                                       workspace_bytes, zero, p.y, y);
      });
  if (ran) apply_epilogue(e, y, s.batch, s.out_c, s.out_h * s.out_w, stream);
}

void cudnn_conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                                    const ConvEpilogue& e, float* x, void* workspace,
                                    size_t workspace_bytes, Stream stream, ConvMath math) {
  check_prelu_epilogue(e, "cudnn_conv_transpose2d_forward", false);
  const bool ran =
      run(CudnnConvOp::TransposeForward, s, math, workspace, workspace_bytes, stream,
          "cudnnConvolutionBackwardData",
          [&](cudnnHandle_t h, const Plan& p, const float* one, const float* zero) {
            return cudnnConvolutionBackwardData(h, one, p.w, w, p.y, y, p.conv,
                                                static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algo),
                                                workspace, workspace_bytes, zero, p.x, x);
          });
  if (ran) apply_epilogue(e, x, s.batch, s.in_c, s.in_h * s.in_w, stream);
}

void cudnn_conv2d_weight(const ConvShape& s, const float* x, const float* dy, float* dw,
                         void* workspace, size_t workspace_bytes, Stream stream, ConvMath math) {
  const bool ran = run(CudnnConvOp::Weight, s, math, workspace, workspace_bytes, stream,
                       "cudnnConvolutionBackwardFilter",
                       [&](cudnnHandle_t h, const Plan& p, const float* one, const float* zero) {
                         return cudnnConvolutionBackwardFilter(
                             h, one, p.x, x, p.y, dy, p.conv,
                             static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algo), workspace,
                             workspace_bytes, zero, p.w, dw);
                       });
  if (!ran) {
    // No samples: the gradient is zero.
    GE_CUDA_CHECK(cudaMemsetAsync(
        dw, 0, static_cast<size_t>(s.out_c * (s.in_c / s.groups) * s.kh * s.kw) * sizeof(float),
        stream));
  }
}

#else  // the emulator build

namespace {
[[noreturn]] void unavailable(const char* op) {
  fail(op, ": cuDNN is not available in this build (emulator)");
}
}  // namespace

bool cudnn_available() {
  return false;
}

size_t cudnn_workspace_bytes(CudnnConvOp, const ConvShape&, ConvMath) {
  unavailable("cudnn_workspace_bytes");
}

void cudnn_conv2d_forward(const ConvShape&, const float*, const float*, const ConvEpilogue&, float*,
                          void*, size_t, Stream, ConvMath) {
  unavailable("cudnn_conv2d_forward");
}

void cudnn_conv_transpose2d_forward(const ConvShape&, const float*, const float*,
                                    const ConvEpilogue&, float*, void*, size_t, Stream, ConvMath) {
  unavailable("cudnn_conv_transpose2d_forward");
}

void cudnn_conv2d_weight(const ConvShape&, const float*, const float*, float*, void*, size_t,
                         Stream, ConvMath) {
  unavailable("cudnn_conv2d_weight");
}

#endif

}  // namespace ge::kernels::cuda

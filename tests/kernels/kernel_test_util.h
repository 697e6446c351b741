#pragma once
// Helpers for the kernel launcher tests: a device parameter, a buffer that lives on the CPU or
// (through the CUDA runtime or its emulator) on the GPU, and a double-precision comparison.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#if defined(GE_CUDA_EMULATOR)
#include "ganengine/emu/cuda.h"
#elif defined(GE_CUDA_OFF)
#include "kernels/cuda_absent.h"
#else
#include <cuda_runtime.h>
#endif

#include "cpu/cpu_isa.h"
#include "ganengine/error.h"

// Not cuda/launch.cuh: that header holds a <<<>>> launch, which only nvcc parses, and these tests
// are host C++ in every build.
#define GE_TEST_CUDA(expr)                                                 \
  do {                                                                     \
    const cudaError_t ge_test_err_ = (expr);                               \
    if (ge_test_err_ != cudaSuccess)                                       \
      ::ge::fail(#expr, " failed: ", cudaGetErrorName(ge_test_err_), ": ", \
                 cudaGetErrorString(ge_test_err_));                        \
  } while (0)

namespace ge::kernels::testing {

// f(isa) with the CPU kernels switched to each instruction set this machine runs (scalar, AVX2,
// AVX-512, in that order), under a trace naming it; the active set is restored after.
template <typename F>
void on_each_cpu_isa(F&& f) {
  for (cpu::CpuIsa isa : {cpu::CpuIsa::scalar, cpu::CpuIsa::avx2, cpu::CpuIsa::avx512}) {
    if (!cpu::isa_supported(isa)) continue;
    SCOPED_TRACE(cpu::isa_name(isa));
    const cpu::CpuIsa before = cpu::set_cpu_isa(isa);
    f(isa);
    cpu::set_cpu_isa(before);
  }
}

enum class Dev { Cpu, Cuda };

inline void PrintTo(Dev dev, std::ostream* out) {
  *out << (dev == Dev::Cpu ? "cpu" : "cuda");
}

inline std::string dev_name(const ::testing::TestParamInfo<Dev>& info) {
  return info.param == Dev::Cpu ? "cpu" : "cuda";
}

class KernelTest : public ::testing::TestWithParam<Dev> {
 protected:
  void SetUp() override {
    int count = 0;
    if (cuda() && (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)) {
      GTEST_SKIP() << "no CUDA device (nor the emulator) in this build";
    }
  }
  bool cuda() const { return GetParam() == Dev::Cuda; }
  // Calls the launch for this test's device; a CUDA one is synchronized so that its results
  // (and its asynchronous errors) are there when it returns.
  template <typename CudaLaunch, typename CpuLaunch>
  void launch(CudaLaunch&& on_cuda, CpuLaunch&& on_cpu) const {
    if (cuda()) {
      on_cuda();
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      on_cpu();
    }
  }
};

#define GE_INSTANTIATE_KERNEL_TEST(fixture)                                                   \
  INSTANTIATE_TEST_SUITE_P(                                                                   \
      Devices, fixture,                                                                       \
      ::testing::Values(::ge::kernels::testing::Dev::Cpu, ::ge::kernels::testing::Dev::Cuda), \
      ::ge::kernels::testing::dev_name)

// n floats plus 4 of slack, so that a view at base + shift (shift < 4) is misaligned.
class Buffer {
 public:
  Buffer(Dev dev, int64_t n) : dev_(dev), n_(n) {
    const size_t bytes = static_cast<size_t>(n + 4) * sizeof(float);
    if (dev_ == Dev::Cpu) {
      host_.assign(static_cast<size_t>(n + 4), 0.f);
    } else {
      GE_TEST_CUDA(cudaMalloc(reinterpret_cast<void**>(&device_), bytes));
      GE_TEST_CUDA(cudaMemset(device_, 0, bytes));
    }
  }
  Buffer(Dev dev, const std::vector<float>& values, int64_t shift = 0)
      : Buffer(dev, static_cast<int64_t>(values.size()) + shift) {
    upload(values, shift);
  }
  ~Buffer() {
    if (device_ != nullptr) cudaFree(device_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  float* data(int64_t shift = 0) { return (dev_ == Dev::Cpu ? host_.data() : device_) + shift; }
  void upload(const std::vector<float>& values, int64_t shift = 0) {
    if (dev_ == Dev::Cpu) {
      std::copy(values.begin(), values.end(), host_.begin() + shift);
    } else {
      GE_TEST_CUDA(cudaMemcpy(device_ + shift, values.data(), values.size() * sizeof(float),
                              cudaMemcpyHostToDevice));
    }
  }
  std::vector<float> download(int64_t count, int64_t shift = 0) const {
    std::vector<float> out(static_cast<size_t>(count));
    if (dev_ == Dev::Cpu) {
      std::copy(host_.begin() + shift, host_.begin() + shift + count, out.begin());
    } else if (count > 0) {
      GE_TEST_CUDA(cudaMemcpy(out.data(), device_ + shift, out.size() * sizeof(float),
                              cudaMemcpyDeviceToHost));
    }
    return out;
  }
  std::vector<float> download() const { return download(n_); }

 private:
  Dev dev_;
  int64_t n_;
  std::vector<float> host_;
  float* device_ = nullptr;
};

// Deterministic values in [lo, hi) from a small LCG, independent of the engine's Philox.
inline std::vector<float> lcg(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> out(static_cast<size_t>(n));
  uint32_t state = seed * 2654435761u + 12345u;
  for (float& v : out) {
    state = state * 1664525u + 1013904223u;
    v = lo + (hi - lo) * static_cast<float>(state >> 8) / 16777216.f;
  }
  return out;
}

// |got - want| <= atol + rtol * |want| everywhere; NaN matches NaN, inf matches the same inf.
inline ::testing::AssertionResult close(const std::vector<float>& got,
                                        const std::vector<double>& want, double atol = 1e-6,
                                        double rtol = 2e-6) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: got " << got.size() << ", expected " << want.size();
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (std::isnan(w) && std::isnan(g)) continue;
    if (std::isinf(w) && g == static_cast<float>(w)) continue;
    if (!(std::fabs(g - w) <= atol + rtol * std::fabs(w))) {
      return ::testing::AssertionFailure() << "element " << i << ": got " << g << ", expected " << w
                                           << " (atol " << atol << ", rtol " << rtol << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// Runs f and returns the ge::Error message it throws ("" if it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ::ge::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace ge::kernels::testing

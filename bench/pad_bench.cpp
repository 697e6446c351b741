// reflection_pad2d and replication_pad2d by 1 on a CycleGAN ResNet-block activation
// [8, 256, 64, 64] ([1, 16, 64, 64] under the emulator), forward and forward + backward. Bytes
// counted are the compulsory traffic: the forward reads x and writes the padded map; the
// backward reads the padded gradient and writes dx.
#include <array>
#include <cstdint>
#include <vector>

#include "bench_util.h"
#include "ganengine/pad.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(8, 1);
constexpr int64_t kChannels = ge::bench::gpu_or_emulated(256, 16);
constexpr int64_t kSide = 64, kPad = 1;
constexpr int64_t kIn = kBatch * kChannels * kSide * kSide;
constexpr int64_t kOut = kBatch * kChannels * (kSide + 2 * kPad) * (kSide + 2 * kPad);
constexpr int64_t kFloat = sizeof(float);
constexpr std::array<int64_t, 4> kPads = {kPad, kPad, kPad, kPad};

void run(benchmark::State& state, ge::Device device, bool reflect, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x = ge::randn({kBatch, kChannels, kSide, kSide},
                                 ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor dy = ge::randn({kBatch, kChannels, kSide + 2 * kPad, kSide + 2 * kPad}, device);
  for (auto _ : state) {
    const ge::Tensor y = reflect ? ge::reflection_pad2d(x, kPads) : ge::replication_pad2d(x, kPads);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x}, {dy});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * (kIn + kOut) * (backward ? 2 : 1) * kFloat);
}

void BM_reflection_pad2d(benchmark::State& state, ge::Device device) {
  run(state, device, true, false);
}
void BM_reflection_pad2d_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true, true);
}
void BM_replication_pad2d(benchmark::State& state, ge::Device device) {
  run(state, device, false, false);
}
void BM_replication_pad2d_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, false, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_reflection_pad2d, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_reflection_pad2d_fwd_bwd, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_replication_pad2d, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_replication_pad2d_fwd_bwd, ->Unit(benchmark::kMicrosecond));

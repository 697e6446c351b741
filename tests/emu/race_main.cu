// Runs the block reduction that lacks its __syncthreads once; under ThreadSanitizer the emulator's
// fiber annotations must make it report a data race on the shared memory.
#include <cstdio>
#include <vector>

#include "ganengine/emu/emulator.h"
#include "reduce_kernels.h"

int main() {
  std::vector<float> values(256, 1.0f);
  const float sum = ge::emu_test::block_sum(values, 64, ge::emu_test::Barriers::missing);
  std::printf("sum without barriers: %g (expected 256)\n", sum);
  return 0;
}

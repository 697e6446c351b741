// Strided copy launcher on cpu and cuda against a naive index loop.
#include "ganengine/kernels/copy.h"

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct View {
  std::vector<int64_t> strides;
  int64_t offset = 0;
};

StridedShape make_shape(const std::vector<int64_t>& dims) {
  StridedShape s;
  s.ndim = static_cast<int>(dims.size());
  for (size_t d = 0; d < dims.size(); ++d)
    s.shape[d] = dims[d];
  return s;
}

Strides make_strides(const std::vector<int64_t>& v) {
  Strides s;
  for (size_t d = 0; d < v.size(); ++d)
    s.v[d] = v[d];
  return s;
}

class CopyTest : public KernelTest {
 protected:
  // Copies src_len floats viewed through `src` into a dst buffer of dst_len floats (initially
  // -1) viewed through `dst`, and compares the whole dst buffer with a naive loop.
  void check(const std::vector<int64_t>& dims, int64_t src_len, const View& src, int64_t dst_len,
             const View& dst) {
    const StridedShape shape = make_shape(dims);
    const Strides ss = make_strides(src.strides), ds = make_strides(dst.strides);
    const std::vector<float> x = lcg(src_len, 31);
    std::vector<float> want_f(static_cast<size_t>(dst_len), -1.f);
    for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
      int64_t so = src.offset, d_o = dst.offset, rest = i;
      for (int d = shape.ndim - 1; d >= 0; --d) {
        so += (rest % dims[d]) * ss.v[d];
        d_o += (rest % dims[d]) * ds.v[d];
        rest /= dims[d];
      }
      want_f[d_o] = x[so];
    }
    Buffer sb(GetParam(), x), db(GetParam(), std::vector<float>(dst_len, -1.f));
    if (cuda()) {
      cuda::strided_copy(sb.data(src.offset), ss, db.data(dst.offset), ds, shape, nullptr);
    } else {
      cpu::strided_copy(sb.data(src.offset), ss, db.data(dst.offset), ds, shape);
    }
    EXPECT_EQ(db.download(dst_len), want_f);
  }
};

TEST_P(CopyTest, ContiguousFastPath) {
  check({3, 5, 7}, 106, {{35, 7, 1}, 1}, 107, {{35, 7, 1}, 2});
  check({1001}, 1001, {{1}}, 1001, {{1}});
}

TEST_P(CopyTest, Transpose) {
  check({53, 37}, 53 * 37, {{1, 53}}, 53 * 37, {{37, 1}});  // contiguous() of a.t()
  check({4, 6, 5}, 120, {{5, 20, 1}}, 120, {{30, 5, 1}});   // permute(1, 0, 2)
  check({4, 6, 5}, 120, {{1, 4, 24}}, 120, {{30, 5, 1}});   // full reversal of dims
}

TEST_P(CopyTest, SliceWithStepAndNegativeStride) {
  check({5, 4}, 100, {{20, 3}, 7}, 20, {{4, 1}});  // x[::2, 7::3] of a [10, 20] buffer
  check({9}, 9, {{-1}, 8}, 9, {{1}});              // flip
}

TEST_P(CopyTest, BroadcastSourceAndWritesIntoSlice) {
  check({4, 6}, 6, {{0, 1}}, 24, {{6, 1}});           // expand a row
  check({3, 1, 5}, 1, {{0, 0, 0}}, 15, {{5, 5, 1}});  // a scalar everywhere
  // Write a [3, 4] block into columns 2..5 of a [5, 8] destination.
  check({3, 4}, 12, {{4, 1}}, 40, {{8, 1}, 10});
}

TEST_P(CopyTest, LargeStrided) {
  const int64_t rows = cuda() ? 300 : 3000, cols = 129;
  check({rows, cols}, rows * cols, {{1, rows}}, rows * cols, {{cols, 1}});
}

TEST_P(CopyTest, EmptyAndInvalid) {
  StridedShape empty = make_shape({3, 0});
  float v = 0.f;
  auto copy = [&](const float* s, const Strides& ss, float* d, const Strides& ds,
                  const StridedShape& shape) {
    if (cuda()) {
      cuda::strided_copy(s, ss, d, ds, shape, nullptr);
    } else {
      cpu::strided_copy(s, ss, d, ds, shape);
    }
  };
  copy(nullptr, {}, nullptr, {}, empty);
  StridedShape big;
  big.ndim = 9;
  EXPECT_THAT(error_of([&] { copy(&v, {}, &v, {}, big); }),
              HasSubstr("strided_copy: expected ndim in [0, 8], got 9"));
  const StridedShape s = make_shape({2, 3});
  EXPECT_THAT(error_of([&] {
                copy(&v, make_strides({3, 1}), &v, make_strides({0, 1}), s);
              }),
              HasSubstr("strided_copy: expected a non-zero destination stride at dim 0"));
  EXPECT_THAT(error_of([&] {
                copy(nullptr, make_strides({3, 1}), &v, make_strides({3, 1}), s);
              }),
              HasSubstr("strided_copy: expected non-null src and dst"));
}

GE_INSTANTIATE_KERNEL_TEST(CopyTest);

}  // namespace
}  // namespace ge::kernels::testing

// spectral_norm and spectral_norm_buffers on every device: the forward and the in-place buffer
// update against a power iteration in double (support/spectral_norm_reference.h; dim 0,
// conv_transpose's dim 1, a negative dim, several iterations, non-contiguous weight and buffers),
// eval leaving the buffers alone, the backward against the closed form with u, v constant (and
// independent of later buffer updates), gradcheck and gradgradcheck, a third-order check, and the
// argument errors.
#include "ganengine/spectral_norm.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "support/spectral_norm_reference.h"

namespace ge::optest {
namespace {

class SpectralNormTest : public DeviceTest {};

// The weight as the matrix [shape[dim], rest], rest enumerated in row-major order of the other
// dims; index[k] is where matrix element k sits in the weight.
struct Matrix {
  int64_t h = 0, w = 0;
  std::vector<double> values;
  std::vector<int64_t> index;
};

Matrix matrix_of(const std::vector<float>& weight, const Shape& shape, int64_t dim) {
  Matrix m;
  m.h = shape[static_cast<size_t>(dim)];
  m.w = count(shape) / m.h;
  m.values.assign(static_cast<size_t>(count(shape)), 0.0);
  m.index.assign(m.values.size(), 0);
  std::vector<int64_t> col_of_rest(static_cast<size_t>(count(shape)), 0);
  for (int64_t k = 0; k < count(shape); ++k) {
    const std::vector<int64_t> idx = unravel(k, shape);
    int64_t col = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (static_cast<int64_t>(d) != dim) col = col * shape[d] + idx[d];
    const int64_t at = idx[static_cast<size_t>(dim)] * m.w + col;
    m.values[static_cast<size_t>(at)] = weight[static_cast<size_t>(k)];
    m.index[static_cast<size_t>(at)] = k;
  }
  return m;
}

struct Expected {
  std::vector<float> u, v, out;
  double sigma = 0.0;
};

Expected spectral_ref(const std::vector<float>& weight, const Shape& shape, int64_t dim,
                      const std::vector<float>& u0, const std::vector<float>& v0, int iterations) {
  const Matrix m = matrix_of(weight, shape, dim);
  const testing::PowerIteration p =
      testing::power_iteration_ref(m.values, m.h, m.w, u0, v0, iterations);
  Expected e;
  e.sigma = p.sigma;
  e.u.assign(p.u.begin(), p.u.end());
  e.v.assign(p.v.begin(), p.v.end());
  for (float x : weight)
    e.out.push_back(static_cast<float>(x / e.sigma));
  return e;
}

// The backward for u, v held constant, in the weight's layout.
std::vector<float> grad_ref(const std::vector<float>& weight, const Shape& shape, int64_t dim,
                            const std::vector<float>& g, const std::vector<float>& u,
                            const std::vector<float>& v) {
  const Matrix m = matrix_of(weight, shape, dim);
  const std::vector<double> ud(u.begin(), u.end()), vd(v.begin(), v.end());
  std::vector<double> gm(g.size());
  for (size_t at = 0; at < gm.size(); ++at)
    gm[at] = g[static_cast<size_t>(m.index[at])];
  const std::vector<double> dw_m = testing::spectral_norm_grad_ref(
      m.values, gm, m.h, m.w, ud, vd, testing::sigma_ref(m.values, m.h, m.w, ud, vd));
  std::vector<float> dw(g.size());
  for (size_t at = 0; at < dw_m.size(); ++at)
    dw[static_cast<size_t>(m.index[at])] = static_cast<float>(dw_m[at]);
  return dw;
}

std::vector<float> unit(int64_t n, uint32_t seed) {
  return testing::unit_length(lcg_values(n, seed));
}

SpectralNormOptions opts(int64_t dim, int iterations = 1, bool training = true) {
  SpectralNormOptions o;
  o.dim = dim;
  o.n_power_iterations = iterations;
  o.training = training;
  return o;
}

constexpr double kTol = 2e-5, kRel = 1e-4;

void expect_forward(Device device, const Shape& shape, int64_t dim, int iterations) {
  SCOPED_TRACE("shape " + to_string(shape) + " dim " + std::to_string(dim) + " iterations " +
               std::to_string(iterations));
  const int64_t wd = dim < 0 ? dim + static_cast<int64_t>(shape.size()) : dim;
  const int64_t h = shape[static_cast<size_t>(wd)], w = count(shape) / h;
  const std::vector<float> wv = lcg_values(count(shape), 41), u0 = unit(h, 42), v0 = unit(w, 43);
  const Expected e = spectral_ref(wv, shape, wd, u0, v0, iterations);
  const Tensor u = make(u0, {h}, device), v = make(v0, {w}, device);
  const Tensor y = spectral_norm(make(wv, shape, device), u, v, opts(dim, iterations));
  EXPECT_EQ(y.shape(), shape);
  EXPECT_EQ(y.device(), device);
  EXPECT_TRUE(all_close(y, e.out, kTol, kRel));
  EXPECT_TRUE(all_close(u, e.u, kTol, kRel)) << "u updated in place";
  EXPECT_TRUE(all_close(v, e.v, kTol, kRel)) << "v updated in place";
}

TEST_P(SpectralNormTest, TrainingMatchesPowerIteration) {
  expect_forward(device(), {6, 3, 2, 2}, 0, 1);   // conv weight
  expect_forward(device(), {7, 10}, 0, 3);        // linear weight, several iterations
  expect_forward(device(), {3, 5, 2, 2}, 1, 1);   // conv_transpose weight: dim 1
  expect_forward(device(), {3, 5, 2, 2}, -3, 2);  // the same dim counted from the end
  expect_forward(device(), {2, 3, 4}, 2, 1);      // the last dim
  expect_forward(device(), {9}, 0, 1);            // a 1-D weight: [9, 1]
}

// Repeated calls keep iterating from the updated buffers, as PyTorch's module does per forward.
TEST_P(SpectralNormTest, RepeatedCallsContinueTheIteration) {
  const Shape shape = {5, 8};
  const std::vector<float> wv = lcg_values(40, 44), u0 = unit(5, 45), v0 = unit(8, 46);
  const Tensor weight = make(wv, shape, device());
  const Tensor u = make(u0, {5}, device()), v = make(v0, {8}, device());
  const uint64_t u_version = u.version();
  for (int call = 0; call < 3; ++call)
    spectral_norm(weight, u, v);
  const Expected e = spectral_ref(wv, shape, 0, u0, v0, 3);
  EXPECT_TRUE(all_close(u, e.u, kTol, kRel));
  EXPECT_TRUE(all_close(v, e.v, kTol, kRel));
  EXPECT_GT(u.version(), u_version) << "an in-place update bumps the buffer's version";
}

TEST_P(SpectralNormTest, EvalUsesStoredBuffersUnchanged) {
  const Shape shape = {3, 4, 3, 3};
  const std::vector<float> wv = lcg_values(count(shape), 47), u0 = unit(4, 48), v0 = unit(27, 49);
  const Tensor u = make(u0, {4}, device()), v = make(v0, {27}, device());
  const uint64_t u_version = u.version();
  const Tensor y = spectral_norm(make(wv, shape, device()), u, v, opts(1, 5, false));
  EXPECT_TRUE(all_close(y, spectral_ref(wv, shape, 1, u0, v0, 0).out, kTol, kRel));
  EXPECT_EQ(u.to_vector(), u0);
  EXPECT_EQ(v.to_vector(), v0);
  EXPECT_EQ(u.version(), u_version);
}

TEST_P(SpectralNormTest, NonContiguousWeightAndBuffers) {
  // A transposed linear weight, and u, v as every other element of larger buffers.
  const std::vector<float> base = lcg_values(24, 50);
  const Tensor weight = make(base, {4, 6}, device()).t();  // [6, 4]
  ASSERT_FALSE(weight.is_contiguous());
  const std::vector<float> wv = permuted(base, {4, 6}, {1, 0});
  const std::vector<float> u0 = unit(6, 51), v0 = unit(4, 52);
  std::vector<float> ubig(12, 9.f), vbig(8, 9.f);
  for (size_t i = 0; i < 6; ++i)
    ubig[2 * i] = u0[i];
  for (size_t i = 0; i < 4; ++i)
    vbig[2 * i] = v0[i];
  const Tensor ub = make(ubig, {12}, device()), vb = make(vbig, {8}, device());
  const Tensor u = ub.slice(0, 0, 12, 2), v = vb.slice(0, 0, 8, 2);
  ASSERT_FALSE(u.is_contiguous());
  const Tensor y = spectral_norm(weight, u, v, opts(0, 2));
  const Expected e = spectral_ref(wv, {6, 4}, 0, u0, v0, 2);
  EXPECT_TRUE(all_close(y, e.out, kTol, kRel));
  EXPECT_TRUE(all_close(u, e.u, kTol, kRel));
  EXPECT_TRUE(all_close(v, e.v, kTol, kRel));
  const std::vector<float> ub_after = ub.to_vector();
  for (size_t i = 1; i < 12; i += 2)
    EXPECT_EQ(ub_after[i], 9.f) << "elements between the view's are left alone";
}

// The gradient treats u and v as constants (the values after the update), does not reach the
// buffers, and survives later updates of the buffers.
TEST_P(SpectralNormTest, BackwardHoldsBuffersConstant) {
  for (int64_t dim : {int64_t{0}, int64_t{1}}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const Shape shape = {3, 4, 2, 2};
    const int64_t h = shape[static_cast<size_t>(dim)], w = count(shape) / h;
    const std::vector<float> wv = lcg_values(count(shape), 53), g = lcg_values(count(shape), 54);
    const std::vector<float> u0 = unit(h, 55), v0 = unit(w, 56);
    const Tensor weight = make(wv, shape, device(), true);
    const Tensor u = make(u0, {h}, device()), v = make(v0, {w}, device());
    const Tensor y = spectral_norm(weight, u, v, opts(dim));
    ASSERT_TRUE(y.requires_grad());
    const std::vector<float> u1 = u.to_vector(), v1 = v.to_vector();
    spectral_norm(weight.detach(), u, v, opts(dim, 4));  // moves the buffers on
    EXPECT_FALSE(u.requires_grad());
    EXPECT_FALSE(v.requires_grad());
    y.backward(make(g, shape, device()));
    EXPECT_TRUE(all_close(weight.grad(), grad_ref(wv, shape, dim, g, u1, v1), kTol, kRel));
    EXPECT_FALSE(u.grad().defined());
  }
}

TEST_P(SpectralNormTest, NoHistoryWithoutGrad) {
  const Tensor weight = make(lcg_values(12, 57), {3, 4}, device());
  const Tensor y =
      spectral_norm(weight, make(unit(3, 58), {3}, device()), make(unit(4, 59), {4}, device()));
  EXPECT_FALSE(y.requires_grad());
}

// Eval mode: the buffers are fixed, so the op is a function of the weight alone and finite
// differences see the same u, v as the analytical gradient.
TEST_P(SpectralNormTest, FirstAndSecondOrderGradients) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  for (const Case& c : {Case{{3, 4}, 0}, Case{{2, 3, 2, 2}, 1}, Case{{3, 2, 2}, 0}}) {
    SCOPED_TRACE("shape " + to_string(c.shape) + " dim " + std::to_string(c.dim));
    const int64_t h = c.shape[static_cast<size_t>(c.dim)], w = count(c.shape) / h;
    // Start from converged vectors, as a trained module has them.
    const Tensor u = make(unit(h, 60), {h}, device()), v = make(unit(w, 61), {w}, device());
    const Tensor w0 = make(lcg_values(count(c.shape), 62), c.shape, device());
    spectral_norm(w0, u, v, opts(c.dim, 20));
    const auto fn = [&](const std::vector<Tensor>& in) {
      return spectral_norm(in[0], u, v, opts(c.dim, 1, false));
    };
    const Tensor weight = make(lcg_values(count(c.shape), 62), c.shape, device(), true);
    EXPECT_TRUE(grad_ok(fn, {weight}));
    EXPECT_TRUE(gradgrad_ok(fn, {weight}));
  }
}

// The second-order backward is itself differentiable: gradgradcheck of the first-order gradient
// built with create_graph checks third derivatives.
TEST_P(SpectralNormTest, ThirdOrderThroughCreateGraph) {
  const Shape shape = {3, 4};
  const Tensor u = make(unit(3, 63), {3}, device()), v = make(unit(4, 64), {4}, device());
  const Tensor probe = make(lcg_values(12, 65), shape, device());
  const auto first = [&](const std::vector<Tensor>& in) {
    EnableGradGuard enable;
    const Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
    const Tensor y = spectral_norm(x, u, v, opts(0, 1, false));
    return grad({sum(y * y * probe)}, {x}, {}, /*create_graph=*/true)[0];
  };
  EXPECT_TRUE(gradgrad_ok(first, {make(lcg_values(12, 66), shape, device(), true)}));
}

TEST_P(SpectralNormTest, BuffersAreUnitVectors) {
  Generator gen(123);
  const Tensor weight = make(lcg_values(2 * 5 * 3 * 3, 67), {2, 5, 3, 3}, device());
  const auto [u, v] = spectral_norm_buffers(weight, 1, &gen);
  EXPECT_EQ(u.shape(), Shape({5}));
  EXPECT_EQ(v.shape(), Shape({18}));
  EXPECT_EQ(u.device(), device());
  EXPECT_FALSE(u.requires_grad());
  for (const Tensor& t : {u, v}) {
    double ss = 0.0;
    for (float e : t.to_vector())
      ss += static_cast<double>(e) * e;
    EXPECT_NEAR(std::sqrt(ss), 1.0, 1e-5);
  }
  Generator again(123);
  const auto [u2, v2] = spectral_norm_buffers(weight, 1, &again);
  EXPECT_EQ(u2.to_vector(), u.to_vector()) << "same seed, same buffers";
  EXPECT_EQ(v2.to_vector(), v.to_vector());
  const auto [u0, v0] = spectral_norm_buffers(weight);
  EXPECT_EQ(u0.shape(), Shape({2}));
  EXPECT_EQ(v0.shape(), Shape({45}));
}

TEST_P(SpectralNormTest, Errors) {
  using ge::testing::error_of;
  const Tensor weight = make(lcg_values(24, 68), {4, 3, 2}, device());
  const Tensor u = make(unit(4, 69), {4}, device()), v = make(unit(6, 70), {6}, device());
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, make(unit(3, 1), {3}, device()), v); }),
                       "spectral_norm: expected u of shape [4] (weight.size(0) of weight [4, 3, "
                       "2]), got shape [3]"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, u, make(unit(5, 1), {5}, device())); }),
                       "spectral_norm: expected v of shape [6] (numel / weight.size(0)"));
  EXPECT_TRUE(contains(error_of([&] {
                         spectral_norm(weight, make(unit(4, 1), {2, 2}, device()), v);
                       }),
                       "got shape [2, 2]"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, v, u, opts(1)); }),
                       "expected u of shape [3] (weight.size(1)"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, u, v, opts(3)); }),
                       "spectral_norm: expected dim in [-3, 3) for a weight of shape [4, 3, 2], "
                       "got 3"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, u, v, opts(0, 0)); }),
                       "spectral_norm: expected n_power_iterations >= 1 in training, got 0"));
  SpectralNormOptions bad_eps;
  bad_eps.eps = -1.f;
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, u, v, bad_eps); }),
                       "spectral_norm: expected a finite eps >= 0, got -1"));
  const Tensor ug = make(unit(4, 71), {4}, device(), true);
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, ug, v); }),
                       "expected u and v buffers that do not require grad"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(scalar_tensor(1.f, device()), u, v); }),
                       "spectral_norm: expected a weight with at least 1 dim, got shape []"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm(Tensor(), u, v); }),
                       "spectral_norm: expected a defined tensor"));
  EXPECT_TRUE(contains(error_of([&] { spectral_norm_buffers(weight, -4); }),
                       "spectral_norm_buffers: expected dim in [-3, 3)"));
  if (cuda_is_available()) {
    const Tensor uo = make(unit(4, 72), {4}, other_device(device()));
    EXPECT_TRUE(contains(error_of([&] { spectral_norm(weight, uo, v); }),
                         "spectral_norm: expected all tensors on the same device"));
  }
}

GE_INSTANTIATE_DEVICE_TEST(SpectralNormTest);

}  // namespace
}  // namespace ge::optest

// Shape ops on every device: view metadata (shape, strides, storage offset, shared storage),
// values against index arithmetic on the host, copies where a view is impossible, cat/stack,
// and first/second order gradients.
#include <string>
#include <vector>

#include "engine/op_test_util.h"

namespace ge::optest {
namespace {

class ShapeTest : public DeviceTest {};

std::vector<float> iota(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<float>(i);
  return v;
}

// A view's metadata and contents, with the contents derived from the expected strides/offset
// over the base's row-major values: one check covers both layout and data.
void expect_view(const Tensor& v, const Tensor& base, const std::vector<float>& base_values,
                 const Shape& shape, const Shape& strides, int64_t offset) {
  EXPECT_EQ(v.shape(), shape);
  EXPECT_EQ(v.strides(), strides);
  EXPECT_EQ(v.storage_offset(), offset);
  EXPECT_EQ(v.device(), base.device());
  // Shares storage: same allocation, first element `offset` elements in.
  EXPECT_EQ(v.data_ptr(), base.data_ptr() + offset);
  EXPECT_TRUE(all_close(v, gather_strided(base_values, shape, strides, offset), 0, 0));
}

TEST_P(ShapeTest, View) {
  const auto v = iota(12);
  const Tensor x = make(v, {3, 4}, device());
  EXPECT_EQ(x.strides(), Shape({4, 1}));
  expect_view(x.view({4, 3}), x, v, {4, 3}, {3, 1}, 0);
  expect_view(x.view({-1}), x, v, {12}, {1}, 0);
  expect_view(x.view({2, -1, 3}), x, v, {2, 2, 3}, {6, 3, 1}, 0);
  expect_view(view(x, {6, 2}), x, v, {6, 2}, {2, 1}, 0);
  // A contiguous slice of rows is still viewable.
  expect_view(x.slice(0, 1, 3).view({8}), x, v, {8}, {1}, 4);
}

TEST_P(ShapeTest, WritesThroughViewsReachTheBase) {
  Tensor base = zeros({3, 4}, device());
  {
    NoGradGuard no_grad;
    Tensor row = base.select(0, 1);
    row.copy_(make({1, 2, 3, 4}, {4}, device()));
    Tensor col = base.select(1, 2);         // non-contiguous destination
    col.copy_(make({7, 8, 9}, {3}, kCPU));  // from the host, whatever the base's device
    Tensor stepped = base.view({12}).slice(0, 0, 12, 5);  // elements 0, 5, 10
    stepped.fill_(-1.f);
  }
  EXPECT_TRUE(all_close(base,
                        std::vector<float>{-1, 0, 7, 0,   //
                                           1, -1, 8, 4,   //
                                           0, 0, -1, 0},  //
                        0, 0));
}

TEST_P(ShapeTest, ReshapeViewsWhenPossibleAndCopiesOtherwise) {
  const auto v = iota(12);
  Tensor x = make(v, {3, 4}, device());
  const Tensor r = x.reshape({2, 6});
  expect_view(r, x, v, {2, 6}, {6, 1}, 0);

  const Tensor c = x.t().reshape({12});  // transposed: no strides express this, so a copy
  EXPECT_EQ(c.shape(), Shape({12}));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.data_ptr(), x.data_ptr());
  const auto expected = permuted(v, {3, 4}, {1, 0});
  EXPECT_TRUE(all_close(c, expected, 0, 0));
  {
    NoGradGuard no_grad;
    x.fill_(0.f);
  }
  EXPECT_TRUE(all_close(c, expected, 0, 0));  // the copy does not alias the base
  EXPECT_TRUE(all_close(reshape(make(v, {3, 4}, device()).t(), {2, 6}), expected, 0, 0));
}

TEST_P(ShapeTest, PermuteAndTranspose) {
  const auto v = iota(24);
  const Tensor x = make(v, {2, 3, 4}, device());
  expect_view(x.permute({2, 0, 1}), x, v, {4, 2, 3}, {1, 12, 4}, 0);
  expect_view(permute(x, {-1, 0, 1}), x, v, {4, 2, 3}, {1, 12, 4}, 0);
  expect_view(x.permute({0, 1, 2}), x, v, {2, 3, 4}, {12, 4, 1}, 0);
  expect_view(x.transpose(0, 2), x, v, {4, 3, 2}, {1, 4, 12}, 0);
  expect_view(transpose(x, -1, -2), x, v, {2, 4, 3}, {12, 1, 4}, 0);
  EXPECT_FALSE(x.permute({2, 0, 1}).is_contiguous());
  const Tensor m = make(iota(12), {3, 4}, device());
  expect_view(m.t(), m, iota(12), {4, 3}, {1, 4}, 0);
  // A permutation of a permutation composes strides.
  expect_view(x.permute({2, 0, 1}).permute({1, 2, 0}), x, v, {2, 3, 4}, {12, 4, 1}, 0);
}

TEST_P(ShapeTest, SliceAndSelect) {
  const auto v = iota(30);
  const Tensor x = make(v, {5, 6}, device());
  expect_view(x.slice(0, 1, 4), x, v, {3, 6}, {6, 1}, 6);
  expect_view(x.slice(1, 0, 6, 2), x, v, {5, 3}, {6, 2}, 0);
  expect_view(slice(x, 1, 1, 6, 3), x, v, {5, 2}, {6, 3}, 1);  // elements 1 and 4
  expect_view(x.slice(-1, 2, 5), x, v, {5, 3}, {6, 1}, 2);     // negative dim
  expect_view(x.slice(0, 1, 5).slice(1, 2, 6, 2), x, v, {4, 2}, {6, 2}, 8);
  expect_view(x.slice(0, 4, 5), x, v, {1, 6}, {6, 1}, 24);
  expect_view(x.select(0, 2), x, v, {6}, {1}, 12);
  expect_view(x.select(1, 1), x, v, {5}, {6}, 1);
  expect_view(x.select(-1, 5), x, v, {5}, {6}, 5);
  expect_view(x.slice(1, 1, 6, 2).select(0, 3), x, v, {3}, {2}, 19);
}

TEST_P(ShapeTest, ExpandSqueezeUnsqueezeFlatten) {
  const auto v = iota(3);
  const Tensor c = make(v, {3, 1}, device());
  expect_view(c.expand({3, 4}), c, v, {3, 4}, {1, 0}, 0);
  expect_view(expand(c, {2, 3, 5}), c, v, {2, 3, 5}, {0, 1, 0}, 0);
  expect_view(c.expand({-1, 4}), c, v, {3, 4}, {1, 0}, 0);
  const Tensor r = make(v, {3}, device());
  expect_view(r.expand({2, 3}), r, v, {2, 3}, {0, 1}, 0);

  const auto w = iota(12);
  const Tensor x = make(w, {3, 1, 4}, device());
  for (const Tensor& s : {x.squeeze(1), squeeze(x, -2)}) {
    EXPECT_EQ(s.shape(), Shape({3, 4}));
    EXPECT_EQ(s.strides(), Shape({4, 1}));
    EXPECT_EQ(s.data_ptr(), x.data_ptr());
    EXPECT_TRUE(all_close(s, w, 0, 0));
  }
  const Tensor m = make(w, {3, 4}, device());
  // The stride of an inserted size-1 dim is arbitrary, so only shapes and values are checked.
  const std::vector<std::pair<int64_t, Shape>> unsq = {
      {0, {1, 3, 4}}, {1, {3, 1, 4}}, {2, {3, 4, 1}}, {-1, {3, 4, 1}}, {-3, {1, 3, 4}}};
  for (const auto& [dim, shape] : unsq) {
    SCOPED_TRACE("unsqueeze " + std::to_string(dim));
    const Tensor u = dim == 1 ? unsqueeze(m, dim) : m.unsqueeze(dim);
    EXPECT_EQ(u.shape(), shape);
    EXPECT_EQ(u.data_ptr(), m.data_ptr());
    EXPECT_TRUE(all_close(u, w, 0, 0));
  }

  const auto f = iota(24);
  const Tensor t = make(f, {2, 3, 4}, device());
  expect_view(t.flatten(), t, f, {24}, {1}, 0);
  expect_view(t.flatten(1), t, f, {2, 12}, {12, 1}, 0);
  expect_view(flatten(t, 0, 1), t, f, {6, 4}, {4, 1}, 0);
  expect_view(t.flatten(-2, -1), t, f, {2, 12}, {12, 1}, 0);
  // Flattening a transposed tensor needs a copy in logical order.
  const Tensor ft = t.transpose(0, 2).flatten();
  EXPECT_EQ(ft.shape(), Shape({24}));
  EXPECT_TRUE(all_close(ft, permuted(f, {2, 3, 4}, {2, 1, 0}), 0, 0));
}

TEST_P(ShapeTest, RankZeroAndSizeOne) {
  const Tensor s = scalar_tensor(3.f, device());
  const Tensor e = s.expand({2, 3});
  EXPECT_EQ(e.shape(), Shape({2, 3}));
  EXPECT_EQ(e.strides(), Shape({0, 0}));
  EXPECT_TRUE(all_close(e, std::vector<float>(6, 3.f), 0, 0));
  const Tensor u = s.unsqueeze(0);
  EXPECT_EQ(u.shape(), Shape({1}));
  EXPECT_EQ(u.squeeze(0).dim(), 0);
  EXPECT_EQ(s.reshape({1, 1}).shape(), Shape({1, 1}));
  EXPECT_EQ(make({5.f}, {1, 1}, device()).reshape({}).dim(), 0);
  EXPECT_EQ(make({5.f}, {1}, device()).select(0, 0).dim(), 0);
  EXPECT_EQ(make({5.f}, {1}, device()).select(0, 0).item(), 5.f);
}

TEST_P(ShapeTest, ContiguousCloneDetach) {
  const auto v = iota(12);
  const Tensor x = make(v, {3, 4}, device());
  EXPECT_EQ(x.contiguous().data_ptr(), x.data_ptr());  // already contiguous: *this
  const Tensor c = x.t().contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), Shape({3, 1}));
  EXPECT_TRUE(all_close(c, permuted(v, {3, 4}, {1, 0}), 0, 0));
  const Tensor k = x.clone();
  EXPECT_NE(k.data_ptr(), x.data_ptr());
  EXPECT_TRUE(all_close(k, v, 0, 0));
  const Tensor g = make(v, {3, 4}, device(), true);
  const Tensor dt = g.detach();
  EXPECT_EQ(dt.data_ptr(), g.data_ptr());
  EXPECT_FALSE(dt.requires_grad());
  EXPECT_EQ(dt.grad_fn(), nullptr);
}

// Host reference for cat: walks the output and finds the owning input along `dim`.
std::vector<float> cat_ref(const std::vector<std::vector<float>>& values,
                           const std::vector<Shape>& shapes, int64_t dim, Shape* out_shape) {
  Shape os = shapes[0];
  os[static_cast<size_t>(dim)] = 0;
  for (const Shape& s : shapes)
    os[static_cast<size_t>(dim)] += s[static_cast<size_t>(dim)];
  *out_shape = os;
  std::vector<float> out;
  for (int64_t i = 0; i < count(os); ++i) {
    std::vector<int64_t> idx = unravel(i, os);
    size_t which = 0;
    while (idx[static_cast<size_t>(dim)] >= shapes[which][static_cast<size_t>(dim)]) {
      idx[static_cast<size_t>(dim)] -= shapes[which][static_cast<size_t>(dim)];
      ++which;
    }
    const Shape st = row_major_strides(shapes[which]);
    int64_t at = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      at += idx[d] * st[d];
    out.push_back(values[which][static_cast<size_t>(at)]);
  }
  return out;
}

void check_cat(Device device, const std::vector<Shape>& shapes, int64_t dim, int64_t resolved) {
  std::string names;
  for (const Shape& s : shapes)
    names += to_string(s) + " ";
  SCOPED_TRACE("cat dim " + std::to_string(dim) + " of " + names);
  std::vector<std::vector<float>> values;
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < shapes.size(); ++i) {
    values.push_back(lcg_values(count(shapes[i]), static_cast<uint32_t>(i + 1)));
    tensors.push_back(make(values.back(), shapes[i], device));
  }
  Shape os;
  const auto ref = cat_ref(values, shapes, resolved, &os);
  const Tensor y = cat(tensors, dim);
  EXPECT_EQ(y.shape(), os);
  EXPECT_TRUE(all_close(y, ref, 0, 0));
}

TEST_P(ShapeTest, Cat) {
  const Device d = device();
  check_cat(d, {{1, 3, 4}, {2, 3, 4}}, 0, 0);
  check_cat(d, {{2, 1, 4}, {2, 3, 4}, {2, 2, 4}}, 1, 1);
  check_cat(d, {{2, 3, 4}, {2, 3, 1}}, 2, 2);
  check_cat(d, {{2, 3, 5}, {2, 3, 2}}, -1, 2);
  check_cat(d, {{7}, {33}}, 0, 0);
  check_cat(d, {{2, 3}}, 1, 1);  // a single input is a copy
  {
    SCOPED_TRACE("non-contiguous inputs");
    const auto a = lcg_values(12, 5);
    const auto b = lcg_values(6, 6);
    const Tensor y = cat({make(a, {4, 3}, d).t(), make(b, {3, 2}, d)}, 1);  // [3, 4] ++ [3, 2]
    Shape os;
    const auto ref = cat_ref({permuted(a, {4, 3}, {1, 0}), b}, {{3, 4}, {3, 2}}, 1, &os);
    EXPECT_EQ(y.shape(), os);
    EXPECT_TRUE(all_close(y, ref, 0, 0));
  }
}

TEST_P(ShapeTest, Stack) {
  const Device d = device();
  const auto a = lcg_values(6, 7);
  const auto b = lcg_values(6, 8);
  const auto c = lcg_values(6, 9);
  const std::vector<Tensor> ts = {make(a, {2, 3}, d), make(b, {2, 3}, d), make(c, {2, 3}, d)};
  // stack(dim) == cat of inputs unsqueezed at dim; the reference uses that identity on the host.
  const std::vector<std::pair<int64_t, int64_t>> dims = {{0, 0}, {1, 1}, {2, 2}, {-1, 2}, {-3, 0}};
  for (const auto& [dim, resolved] : dims) {
    SCOPED_TRACE("stack dim " + std::to_string(dim));
    Shape unsq = {2, 3};
    unsq.insert(unsq.begin() + resolved, 1);
    Shape os;
    const auto ref = cat_ref({a, b, c}, {unsq, unsq, unsq}, resolved, &os);
    const Tensor y = stack(ts, dim);
    EXPECT_EQ(y.shape(), os);
    EXPECT_TRUE(all_close(y, ref, 0, 0));
  }
}

TEST_P(ShapeTest, Gradients) {
  const Device d = device();
  const Tensor x = make(lcg_values(24, 11), {2, 3, 4}, d, true);
  using Fn = DifferentiableFn;
  struct Case {
    const char* name;
    Fn fn;
    bool second_order;
  };
  const std::vector<Case> cases = {
      {"reshape (view)",
       [](const std::vector<Tensor>& in) {
         return reshape(in[0], {6, 4});
       },
       true},
      {"reshape (copy of a transposed input)",
       [](const std::vector<Tensor>& in) { return in[0].transpose(0, 2).reshape({24}); }, true},
      {"view",
       [](const std::vector<Tensor>& in) {
         return view(in[0], {4, 6});
       },
       false},
      {"permute",
       [](const std::vector<Tensor>& in) {
         return permute(in[0], {2, 0, 1});
       },
       true},
      {"transpose", [](const std::vector<Tensor>& in) { return transpose(in[0], 0, 1); }, false},
      {"slice with step", [](const std::vector<Tensor>& in) { return slice(in[0], 2, 1, 4, 2); },
       true},
      {"select", [](const std::vector<Tensor>& in) { return in[0].select(1, 2); }, false},
      {"expand",
       [](const std::vector<Tensor>& in) {
         return expand(in[0].slice(0, 0, 1), {3, 3, 4});
       },
       true},
      {"squeeze/unsqueeze",
       [](const std::vector<Tensor>& in) { return squeeze(unsqueeze(in[0], 1), 1); }, false},
      {"flatten", [](const std::vector<Tensor>& in) { return flatten(in[0], 1); }, false},
      {"contiguous",
       [](const std::vector<Tensor>& in) { return in[0].transpose(0, 2).contiguous(); }, false},
      {"clone", [](const std::vector<Tensor>& in) { return in[0].clone(); }, false},
      // A nonlinear function of a view: second derivatives flow through the view's backward.
      {"square of a permuted slice",
       [](const std::vector<Tensor>& in) {
         return square(in[0].slice(1, 0, 3, 2).permute({2, 0, 1}));
       },
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(grad_ok(c.fn, {x}));
    if (c.second_order) {
      EXPECT_TRUE(gradgrad_ok(c.fn, {x}));
    }
  }
  const Tensor m = make(lcg_values(6, 12), {2, 3}, d, true);
  const Tensor n = make(lcg_values(4, 13), {2, 2}, d, true);
  const auto fcat = [](const std::vector<Tensor>& in) { return cat({in[0], in[1]}, 1); };
  EXPECT_TRUE(grad_ok(fcat, {m, n}));
  EXPECT_TRUE(gradgrad_ok(fcat, {m, n}));
  const Tensor p = make(lcg_values(6, 14), {2, 3}, d, true);
  const auto fstack = [](const std::vector<Tensor>& in) { return stack({in[0], in[1]}, 1); };
  EXPECT_TRUE(grad_ok(fstack, {m, p}));
  EXPECT_TRUE(gradgrad_ok(fstack, {m, p}));
}

TEST_P(ShapeTest, ExpandGradientSumsOverBroadcastDims) {
  // Hand-computed: each source element was read 4 times.
  const Tensor c = make({1.f, 2.f, 3.f}, {3, 1}, device(), true);
  c.expand({3, 4}).sum().backward();
  EXPECT_EQ(c.grad().shape(), Shape({3, 1}));
  EXPECT_TRUE(all_close(c.grad(), std::vector<float>{4, 4, 4}, 0, 0));
  // Overlapping views of one leaf accumulate: x[1:3] is read by both slices.
  const Tensor x = make({1.f, 2.f, 3.f, 4.f}, {4}, device(), true);
  (x.slice(0, 0, 3).sum() + x.slice(0, 1, 4).sum()).backward();
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>{1, 2, 2, 1}, 0, 0));
}

GE_INSTANTIATE_DEVICE_TEST(ShapeTest);

}  // namespace
}  // namespace ge::optest

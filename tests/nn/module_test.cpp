// nn::Module: PyTorch's naming and order of parameters, buffers and state dict keys for a nested
// module (the expected names written out by hand), registration errors, load_state_dict's
// validation (missing, unexpected, wrong shape; nothing copied on error), safetensors round
// trip, to(device), train/eval, copy_from, zero_grad and requires_grad_.
#include "ganengine/nn/module.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/nn/activation.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/sequential.h"
#include "ganengine/safetensors.h"
#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

using nn::BatchNorm2d;
using nn::Conv2d;
using nn::LayerOptions;
using nn::Linear;
using nn::Module;
using nn::Sequential;

// A child registered before the block's own parameter: PyTorch still lists own tensors first.
class Block : public Module {
 public:
  explicit Block(Generator* gen) {
    conv = register_module(
        "conv", std::make_shared<Conv2d>(2, 3, 3, Conv2dOptions(1, 1), LayerOptions{}, gen));
    scale = ones({3});
    register_parameter("scale", scale);
    bn = register_module("bn", std::make_shared<BatchNorm2d>(3));
    cache = zeros({3});
    register_buffer("cache", cache, /*persistent=*/false);
  }
  std::string name() const override { return "Block"; }
  Tensor forward(const Tensor& x) override {
    return bn->forward(conv->forward(x)) * scale.view({1, 3, 1, 1});
  }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
  Tensor scale, cache;
};

class Net : public Module {
 public:
  explicit Net(uint64_t seed) : gen(seed) {
    alpha = zeros({2});
    register_parameter("alpha", alpha);
    block0 = register_module("block0", std::make_shared<Block>(&gen));
    head = register_module(
        "head",
        std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
            std::make_shared<nn::Flatten>(), std::make_shared<Linear>(48, 5, LayerOptions{}, &gen),
            std::make_shared<nn::LeakyReLU>(0.2f),
            nn::spectral_norm(std::make_shared<Linear>(5, 2, LayerOptions{}, &gen), {}, &gen)}));
  }
  std::string name() const override { return "Net"; }
  Tensor forward(const Tensor& x) override { return head->forward(block0->forward(x)); }
  Generator gen;
  Tensor alpha;
  std::shared_ptr<Block> block0;
  std::shared_ptr<Sequential> head;
};

// Exposes the protected registration API.
class Open : public Module {
 public:
  std::string name() const override { return "Open"; }
  using Module::register_buffer;
  using Module::register_module;
  using Module::register_parameter;
  using Module::rename_tensor;
  int train_hook_calls = 0;
  bool last_hook = true;

 protected:
  void on_train(bool on) override {
    ++train_hook_calls;
    last_hook = on;
  }
};

const std::vector<std::string> kParameterNames = {"alpha",
                                                  "block0.scale",
                                                  "block0.conv.weight",
                                                  "block0.conv.bias",
                                                  "block0.bn.weight",
                                                  "block0.bn.bias",
                                                  "head.1.weight",
                                                  "head.1.bias",
                                                  "head.3.bias",
                                                  "head.3.weight_orig"};
const std::vector<std::string> kBufferNames = {
    "block0.cache",          "block0.bn.running_mean",
    "block0.bn.running_var", "block0.bn.num_batches_tracked",
    "head.3.weight_u",       "head.3.weight_v"};

TEST(NnModule, NamesFollowPyTorchOrder) {
  Net net(1);
  EXPECT_EQ(names_of(net.named_parameters()), kParameterNames);
  EXPECT_EQ(names_of(net.named_buffers()), kBufferNames);
  EXPECT_EQ(names_of(net.named_children()), (std::vector<std::string>{"block0", "head"}));
  EXPECT_EQ(names_of(net.head->named_children()), (std::vector<std::string>{"0", "1", "2", "3"}));

  // The state dict: parameters and persistent buffers (block0.cache is not persistent).
  std::vector<std::string> expected = kParameterNames;
  for (const std::string& b : kBufferNames)
    if (b != "block0.cache") expected.push_back(b);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names_of(net.state_dict()), expected);

  const auto sd = net.state_dict();
  EXPECT_EQ(sd.at("block0.conv.weight").shape(), (Shape{3, 2, 3, 3}));
  EXPECT_EQ(sd.at("head.3.weight_orig").shape(), (Shape{2, 5}));
  EXPECT_EQ(sd.at("head.3.weight_u").shape(), (Shape{2}));
  EXPECT_EQ(sd.at("head.3.weight_v").shape(), (Shape{5}));
  EXPECT_EQ(sd.at("block0.bn.num_batches_tracked").shape(), (Shape{}));
}

TEST(NnModule, CountsParameters) {
  Net net(1);
  // alpha 2, scale 3, conv 3*2*9 + 3, bn 3 + 3, head.1 48*5 + 5, head.3 5*2 + 2.
  EXPECT_EQ(net.num_parameters(), 2 + 3 + 57 + 6 + 245 + 12);
  EXPECT_EQ(net.parameters().size(), kParameterNames.size());
  for (const Tensor& p : net.parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
}

TEST(NnModule, StateDictSharesStorageWithoutHistory) {
  Net net(1);
  Tensor alpha = net.state_dict().at("alpha");
  EXPECT_FALSE(alpha.requires_grad());
  alpha.fill_(3.f);  // allowed: the entry carries no grad
  EXPECT_TRUE(all_close(net.alpha, std::vector<float>{3.f, 3.f}));
}

TEST(NnModule, RegistrationRejectsBadNames) {
  Open m;
  Tensor a = zeros({2}), b = zeros({2}), undefined;
  m.register_parameter("a", a);
  EXPECT_TRUE(a.requires_grad());
  EXPECT_TRUE(
      contains(error_of([&] { m.register_buffer("a", b); }), "\"a\" is already registered"));
  EXPECT_TRUE(contains(error_of([&] { m.register_parameter("x.y", b); }), "must not contain '.'"));
  EXPECT_TRUE(contains(error_of([&] { m.register_parameter("", b); }), "non-empty"));
  EXPECT_TRUE(contains(error_of([&] { m.register_parameter("u", undefined); }), "undefined"));
  m.register_module("child", std::make_shared<Open>());
  EXPECT_TRUE(contains(error_of([&] { m.register_module("child", std::make_shared<Open>()); }),
                       "\"child\" is already registered as a child module"));
  EXPECT_TRUE(contains(error_of([&] { m.register_buffer("child", b); }), "child module"));
  EXPECT_TRUE(contains(error_of([&] { m.register_module("nil", std::shared_ptr<Open>()); }),
                       "null module"));
  EXPECT_TRUE(contains(error_of([&] { m.rename_tensor("missing", "z"); }), "\"missing\""));
  m.register_buffer("b", b);
  EXPECT_TRUE(contains(error_of([&] { m.rename_tensor("a", "b"); }), "already registered"));
  // A failed rename leaves the order as it was; a successful one moves the tensor last.
  EXPECT_EQ(names_of(m.state_dict()), (std::vector<std::string>{"a", "b"}));
  m.rename_tensor("a", "a_orig");
  EXPECT_EQ(names_of(m.named_parameters()), (std::vector<std::string>{"a_orig"}));
}

TEST(NnModule, DefaultForwardNamesTheModule) {
  Open m;
  EXPECT_TRUE(contains(error_of([&] { m.forward(zeros({1})); }), "Open: forward(x)"));
}

TEST(NnModule, LoadStateDictRejectsMissingKeysAndCopiesNothing) {
  Net net(1), other(2);
  auto state = other.state_dict();
  state.erase("head.1.bias");
  state.erase("block0.bn.running_var");
  const std::vector<float> before = net.block0->conv->weight.to_vector();
  const std::string msg = error_of([&] { net.load_state_dict(state); });
  EXPECT_TRUE(contains(msg, "Net: load_state_dict")) << msg;
  EXPECT_TRUE(contains(msg, "missing key(s)")) << msg;
  EXPECT_TRUE(contains(msg, "\"head.1.bias\"")) << msg;
  EXPECT_TRUE(contains(msg, "\"block0.bn.running_var\"")) << msg;
  EXPECT_TRUE(all_close(net.block0->conv->weight, before, 0, 0));
}

TEST(NnModule, LoadStateDictRejectsUnexpectedKeys) {
  Net net(1), other(2);
  auto state = other.state_dict();
  state["head.9.weight"] = zeros({1});
  const std::vector<float> before = net.head->operator[](1)->state_dict().at("weight").to_vector();
  const std::string msg = error_of([&] { net.load_state_dict(state); });
  EXPECT_TRUE(contains(msg, "unexpected key(s)")) << msg;
  EXPECT_TRUE(contains(msg, "\"head.9.weight\"")) << msg;
  EXPECT_FALSE(contains(msg, "missing")) << msg;
  EXPECT_TRUE(all_close(net.state_dict().at("head.1.weight"), before, 0, 0));
}

TEST(NnModule, LoadStateDictRejectsWrongShapesNamingBoth) {
  Net net(1), other(2);
  auto state = other.state_dict();
  state["block0.conv.weight"] = zeros({3, 2, 5, 5});
  const std::vector<float> alpha_before = net.alpha.to_vector();
  const std::string msg = error_of([&] { net.load_state_dict(state, /*strict=*/false); });
  EXPECT_TRUE(contains(msg, "size mismatch for \"block0.conv.weight\"")) << msg;
  EXPECT_TRUE(contains(msg, "expected shape [3, 2, 3, 3]")) << msg;
  EXPECT_TRUE(contains(msg, "got [3, 2, 5, 5]")) << msg;
  EXPECT_TRUE(all_close(net.alpha, alpha_before, 0, 0));
}

TEST(NnModule, NonStrictLoadSkipsMissingAndUnexpected) {
  Net net(1), other(2);
  set_values(other.alpha, {5.f, 6.f});
  auto state = other.state_dict();
  state.erase("head.1.weight");
  state["extra"] = zeros({1});
  const std::vector<float> kept = net.state_dict().at("head.1.weight").to_vector();
  net.load_state_dict(state, /*strict=*/false);
  EXPECT_TRUE(all_close(net.alpha, std::vector<float>{5.f, 6.f}, 0, 0));
  EXPECT_TRUE(all_close(net.state_dict().at("head.1.weight"), kept, 0, 0));
  EXPECT_TRUE(all_close(net.state_dict().at("head.3.weight_u"),
                        other.state_dict().at("head.3.weight_u"), 0, 0));
  // Loading copies: the module keeps its own storage and its parameters stay leaves.
  EXPECT_NE(net.alpha.impl(), other.alpha.impl());
  EXPECT_TRUE(net.alpha.requires_grad());
  EXPECT_TRUE(net.alpha.is_leaf());
}

TEST(NnModule, SaveLoadRoundTrip) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "ge_nn_module.safetensors").string();
  Net a(1), b(2);
  set_values(a.block0->bn->running_mean, {0.5f, -1.f, 2.f});
  set_values(a.block0->bn->num_batches_tracked, {7.f});
  a.save(path, {{"step", "42"}});
  EXPECT_EQ(load_safetensors_metadata(path).at("step"), "42");
  b.load(path);
  const auto sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(names_of(sa), names_of(sb));
  for (const auto& [key, t] : sa)
    EXPECT_TRUE(all_close(sb.at(key), t, 0, 0)) << key;
  std::filesystem::remove(path);
}

TEST(NnModule, LoadErrorNamesTheFile) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "ge_nn_block.safetensors").string();
  Generator gen(3);
  Block block(&gen);
  block.save(path);
  Net net(1);
  const std::string msg = error_of([&] { net.load(path); });
  EXPECT_TRUE(contains(msg, path)) << msg;
  EXPECT_TRUE(contains(msg, "missing key(s)")) << msg;
  EXPECT_TRUE(contains(msg, "\"alpha\"")) << msg;
  std::filesystem::remove(path);
}

TEST(NnModule, TrainEvalRecurseAndCallTheHook) {
  Net net(1);
  EXPECT_TRUE(net.is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net.block0->bn->is_training());
  EXPECT_FALSE(net.head->operator[](3)->is_training());
  net.train();
  EXPECT_TRUE(net.block0->conv->is_training());

  Open parent;
  auto child = parent.register_module("child", std::make_shared<Open>());
  parent.eval();
  EXPECT_EQ(child->train_hook_calls, 1);
  EXPECT_FALSE(child->last_hook);
  parent.train(true);
  EXPECT_EQ(parent.train_hook_calls, 2);
  EXPECT_TRUE(child->last_hook);
}

TEST(NnModule, CopyFromCopiesValuesNotStorage) {
  Net a(1), b(2);
  set_values(a.block0->cache, {1.f, 2.f, 3.f});
  b.copy_from(a);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(all_close(pb[i].second, pa[i].second, 0, 0)) << pa[i].first;
    EXPECT_NE(pb[i].second.impl(), pa[i].second.impl());
  }
  // Non-persistent buffers too (an EMA copy must behave like its source).
  EXPECT_TRUE(all_close(b.block0->cache, std::vector<float>{1.f, 2.f, 3.f}, 0, 0));
  set_values(a.alpha, {9.f, 9.f});
  EXPECT_TRUE(all_close(b.alpha, std::vector<float>{0.f, 0.f}, 0, 0));

  Generator gen(3);
  Block block(&gen);
  const std::string msg = error_of([&] { b.copy_from(block); });
  EXPECT_TRUE(contains(msg, "Net: copy_from")) << msg;
  EXPECT_TRUE(contains(msg, "Block")) << msg;
}

TEST(NnModule, CopyFromRejectsOtherShapes) {
  Linear a(3, 2), b(4, 2);
  const std::string msg = error_of([&] { a.copy_from(b); });
  EXPECT_TRUE(contains(msg, "\"weight\": expected shape [2, 3], got [2, 4]")) << msg;
}

TEST(NnModule, ZeroGradAndRequiresGrad) {
  Net net(1);
  net.requires_grad_(false);
  for (const Tensor& p : net.parameters())
    EXPECT_FALSE(p.requires_grad());
  net.requires_grad_(true);
  Tensor x = from_vector(lcg_values(2 * 2 * 4 * 4, 7), {2, 2, 4, 4});
  net.forward(x).sum().backward();
  for (const auto& [name, p] : net.named_parameters())
    EXPECT_EQ(p.grad().defined(), name != "alpha") << name;  // alpha takes no part
  net.zero_grad();
  for (const Tensor& p : net.parameters())
    EXPECT_FALSE(p.grad().defined());
}

class NnModuleDeviceTest : public DeviceTest {};

TEST_P(NnModuleDeviceTest, ToDeviceKeepsValuesAndRequiresGrad) {
  Net net(1);
  net.block0->scale.requires_grad_(false);
  net.alpha.set_grad(from_vector({1.f, 2.f}, {2}));
  const auto before = net.state_dict();
  std::map<std::string, std::vector<float>> values;
  for (const auto& [k, t] : before)
    values[k] = t.to_vector();

  net.to(device());
  EXPECT_EQ(net.device(), device());
  for (const auto& [name, p] : net.named_parameters()) {
    EXPECT_EQ(p.device(), device()) << name;
    EXPECT_TRUE(p.is_leaf()) << name;
    EXPECT_EQ(p.requires_grad(), name != "block0.scale") << name;
  }
  for (const auto& [name, b] : net.named_buffers())
    EXPECT_EQ(b.device(), device()) << name;
  for (const auto& [k, t] : net.state_dict())
    EXPECT_TRUE(all_close(t, values.at(k), 0, 0)) << k;
  ASSERT_TRUE(net.alpha.grad().defined());
  EXPECT_EQ(net.alpha.grad().device(), device());
  EXPECT_TRUE(all_close(net.alpha.grad(), std::vector<float>{1.f, 2.f}, 0, 0));

  // The members are the slots: the layer computes on the device and gradients reach them.
  Tensor x = from_vector(lcg_values(2 * 2 * 4 * 4, 9), {2, 2, 4, 4}, device());
  Tensor y = net.forward(x);
  EXPECT_EQ(y.device(), device());
  y.sum().backward();
  EXPECT_TRUE(net.block0->conv->weight.grad().defined());
  EXPECT_EQ(net.block0->conv->weight.grad().device(), device());

  // Back to the host, and a state dict from the device loads into a host module.
  net.to(kCPU);
  EXPECT_EQ(net.device(), kCPU);
  Net host(5);
  Net moved(1);
  moved.to(device());
  host.load_state_dict(moved.state_dict());
  for (const auto& [k, t] : host.state_dict())
    EXPECT_TRUE(all_close(t, values.at(k), 0, 0)) << k;
}

GE_INSTANTIATE_DEVICE_TEST(NnModuleDeviceTest);

}  // namespace
}  // namespace ge::nntest

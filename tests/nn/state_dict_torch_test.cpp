// State dicts across ganengine and PyTorch, through scripts/check_torch_state_dict.py: a model
// with Conv2d, BatchNorm2d, ConvTranspose2d, Linear (spectral norm on both convolutions) and PReLU
// saved here loads into the same torch.nn.Sequential with strict=True, with the names and
// shapes written out below and the same eval-mode output; a file written by PyTorch (int64
// num_batches_tracked) loads here strictly and gives PyTorch's output; and the script fails on
// a model that does not match. Skipped where /usr/bin/python3 has no torch.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ganengine/nn/activation.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/prelu.h"
#include "ganengine/nn/sequential.h"
#include "ganengine/safetensors.h"
#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

namespace fs = std::filesystem;

const char* kPython = "/usr/bin/python3";

fs::path script_path() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "scripts" /
         "check_torch_state_dict.py";
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool torch_available() {
  return run(std::string(kPython) + " -c 'import torch' > /dev/null 2>&1") == 0;
}

std::shared_ptr<nn::Sequential> make_model(Generator* gen) {
  using nn::LayerOptions;
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(nn::spectral_norm(
      std::make_shared<nn::Conv2d>(3, 4, 3, Conv2dOptions(1, 1), LayerOptions{}, gen), {}, gen));
  model->push_back(std::make_shared<nn::BatchNorm2d>(4));
  model->push_back(std::make_shared<nn::LeakyReLU>(0.2f));
  model->push_back(nn::spectral_norm(
      std::make_shared<nn::ConvTranspose2d>(4, 2, 4, Conv2dOptions(2, 1), LayerOptions{}, gen), {},
      gen));
  model->push_back(std::make_shared<nn::Tanh>());
  model->push_back(std::make_shared<nn::Flatten>());
  model->push_back(std::make_shared<nn::Linear>(128, 3, LayerOptions{}, gen));
  model->push_back(std::make_shared<nn::PReLU>(3));
  return model;
}

// The torch.nn.Sequential equivalent, for the script; `linear_out` lets a test break it.
std::string layers_json(int linear_out = 3) {
  std::ostringstream s;
  s << R"([{"type": "Conv2d", "in": 3, "out": 4, "kernel": 3, "stride": 1, "padding": 1,)"
    << R"( "spectral_norm": true},)"
    << R"( {"type": "BatchNorm2d", "features": 4}, {"type": "LeakyReLU", "slope": 0.2},)"
    << R"( {"type": "ConvTranspose2d", "in": 4, "out": 2, "kernel": 4, "stride": 2,)"
    << R"( "padding": 1, "spectral_norm": true}, {"type": "Tanh"}, {"type": "Flatten"},)"
    << R"( {"type": "Linear", "in": 128, "out": )" << linear_out << "},"
    << R"( {"type": "PReLU", "parameters": 3}])";
  return s.str();
}

// What PyTorch names these tensors (torch.nn.utils.spectral_norm renames weight).
const std::map<std::string, Shape> kExpectedKeys = {
    {"0.bias", {4}},
    {"0.weight_orig", {4, 3, 3, 3}},
    {"0.weight_u", {4}},
    {"0.weight_v", {27}},
    {"1.weight", {4}},
    {"1.bias", {4}},
    {"1.running_mean", {4}},
    {"1.running_var", {4}},
    {"1.num_batches_tracked", {}},
    {"3.bias", {2}},
    {"3.weight_orig", {4, 2, 4, 4}},
    {"3.weight_u", {2}},
    {"3.weight_v", {64}},
    {"6.weight", {3, 128}},
    {"6.bias", {3}},
    {"7.weight", {3}},
};

std::string json_list(const std::vector<float>& values) {
  std::ostringstream s;
  s << std::setprecision(9) << '[';
  for (size_t i = 0; i < values.size(); ++i)
    s << (i ? ", " : "") << values[i];
  s << ']';
  return s.str();
}

std::string json_shape(const Shape& shape) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i)
    s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

std::string spec_json(const std::string& layers, const std::map<std::string, Shape>& keys,
                      const std::vector<float>& input, const Shape& input_shape,
                      const std::vector<float>& output, const Shape& output_shape) {
  std::ostringstream s;
  s << "{\"layers\": " << layers << ", \"keys\": {";
  bool first = true;
  for (const auto& [k, shape] : keys) {
    s << (first ? "" : ", ") << '"' << k << "\": " << json_shape(shape);
    first = false;
  }
  s << "}, \"input\": {\"shape\": " << json_shape(input_shape)
    << ", \"values\": " << json_list(input) << "}";
  if (!output.empty())
    s << ", \"output\": {\"shape\": " << json_shape(output_shape)
      << ", \"values\": " << json_list(output) << "}";
  s << ", \"atol\": 1e-4}";
  return s.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// The "values" list of the output file the script's --export writes.
std::vector<float> read_values(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const size_t at = text.find("\"values\"");
  std::vector<float> values;
  if (at == std::string::npos) return values;
  const char* p = text.c_str() + text.find('[', at) + 1;
  while (*p && *p != ']') {
    char* end = nullptr;
    values.push_back(std::strtof(p, &end));
    p = end;
    while (*p == ',' || *p == ' ')
      ++p;
  }
  return values;
}

class NnStateDictTorchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(script_path())) GTEST_SKIP() << "no " << script_path();
    if (!torch_available()) GTEST_SKIP() << kPython << " cannot import torch";
    // One directory per test: CTest runs the cases in parallel.
    dir_ = fs::path(::testing::TempDir()) /
           ("ge_state_dict_torch_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  int check(const fs::path& file, const fs::path& spec, const std::string& extra = "") {
    return run(std::string(kPython) + " " + script_path().string() + " " + file.string() + " " +
               spec.string() + extra);
  }
  fs::path dir_;
  const Shape input_shape_ = {2, 3, 4, 4};
  const std::vector<float> input_ = lcg_values(2 * 3 * 4 * 4, 77);
};

TEST_F(NnStateDictTorchTest, SavedHereLoadsIntoTorch) {
  Generator gen(1);
  auto model = make_model(&gen);
  // A training step moves the statistics and the power-iteration vectors off their defaults.
  model->forward(from_vector(input_, input_shape_));
  model->eval();
  const Tensor y = model->forward(from_vector(input_, input_shape_));

  std::map<std::string, Shape> saved;
  for (const auto& [k, t] : model->state_dict())
    saved[k] = t.shape();
  EXPECT_EQ(saved, kExpectedKeys);

  const fs::path file = dir_ / "model.safetensors", spec = dir_ / "spec.json";
  model->save(file.string());
  write_file(spec, spec_json(layers_json(), kExpectedKeys, input_, input_shape_, y.to_vector(),
                             y.shape()));
  EXPECT_EQ(check(file, spec), 0);

  // The checker can fail: a different torch model, and a different expected output.
  write_file(spec, spec_json(layers_json(4), kExpectedKeys, input_, input_shape_, {}, {}));
  EXPECT_EQ(check(file, spec), 1);
  std::vector<float> wrong = y.to_vector();
  wrong[0] += 0.01f;
  write_file(spec, spec_json(layers_json(), kExpectedKeys, input_, input_shape_, wrong, y.shape()));
  EXPECT_EQ(check(file, spec), 1);
}

TEST_F(NnStateDictTorchTest, SavedByTorchLoadsHere) {
  Generator gen(2);
  auto model = make_model(&gen);
  model->save((dir_ / "model.safetensors").string());
  const fs::path spec = dir_ / "spec.json", exported = dir_ / "torch.safetensors";
  write_file(spec, spec_json(layers_json(), kExpectedKeys, input_, input_shape_, {}, {}));
  ASSERT_EQ(check(dir_ / "model.safetensors", spec, " --export " + exported.string()), 0);

  auto loaded = make_model(&gen);
  loaded->load(exported.string(), /*strict=*/true);
  EXPECT_TRUE(
      all_close(loaded->state_dict().at("1.num_batches_tracked"), std::vector<float>{1.f}, 0, 0));
  loaded->eval();
  const std::vector<float> expected = read_values(exported.string() + ".json");
  ASSERT_EQ(expected.size(), 6u);
  EXPECT_TRUE(all_close(loaded->forward(from_vector(input_, input_shape_)), expected, 1e-4, 1e-4));
}

}  // namespace
}  // namespace ge::nntest

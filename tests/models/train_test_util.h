#pragma once
// Files and comparisons for the trainer, checkpoint and app tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/models/data/loader.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/tensor.h"

namespace ge::testing {

// Removes the directories fresh_dir made when the test program exits.
struct TempDirs {
  std::vector<std::filesystem::path> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (const auto& d : dirs)
      std::filesystem::remove_all(d, ec);
  }
};
inline TempDirs temp_dirs;

// An empty directory for one test, under the system's temporary directory.
inline std::string fresh_dir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : test)
    if (c == '/') c = '_';
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ge_" + test + "_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  temp_dirs.dirs.push_back(dir);
  return dir.string();
}

// A quiet short run into `dir`: no sample grids, small grids at the end, no progress bar.
inline models::train::TrainOptions quiet_run(const std::string& dir, int64_t steps, int64_t batch,
                                             uint64_t seed, Device device = kCPU) {
  models::train::TrainOptions o;
  o.out_dir = dir;
  o.steps = steps;
  o.batch = batch;
  o.seed = seed;
  o.device = device;
  o.sample_every = 0;
  o.grid_size = 4;
  o.progress = false;
  return o;
}

// A quiet run of `model` on `data` into `dir` up to `steps` (batch `batch`, seed 5, its loader
// on `device`), continuing dir's checkpoint when `resume`; `edit` adjusts the options first.
inline void run_quiet(models::Model& model, std::shared_ptr<models::data::Dataset> data,
                      const std::string& dir, int64_t steps, int64_t batch, Device device,
                      bool resume,
                      const std::function<void(models::train::TrainOptions&)>& edit = nullptr) {
  models::data::DataLoader loader(std::move(data), batch, 5, device);
  models::train::TrainOptions t = quiet_run(dir, steps, batch, 5, device);
  t.resume = resume;
  if (edit) edit(t);
  models::train::Trainer trainer(model, loader, t);
  trainer.run();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Width and height from a PNG's IHDR chunk; {0, 0} when the file is not a PNG.
inline std::pair<int, int> png_size(const std::string& path) {
  const std::string b = read_text(path);
  static const char kSig[] = "\x89PNG\r\n\x1a\n";
  if (b.size() < 24 || b.compare(0, 8, kSig, 8) != 0 || b.compare(12, 4, "IHDR") != 0)
    return {0, 0};
  auto be32 = [&](size_t at) {
    return static_cast<int>(
        (static_cast<unsigned char>(b[at]) << 24) | (static_cast<unsigned char>(b[at + 1]) << 16) |
        (static_cast<unsigned char>(b[at + 2]) << 8) | static_cast<unsigned char>(b[at + 3]));
  };
  return {be32(16), be32(20)};
}

// Same keys, shapes and bit patterns.
inline ::testing::AssertionResult bitwise_equal(const std::map<std::string, Tensor>& a,
                                                const std::map<std::string, Tensor>& b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " tensors";
  for (const auto& [key, t] : a) {
    auto it = b.find(key);
    if (it == b.end()) return ::testing::AssertionFailure() << "'" << key << "' missing";
    if (t.shape() != it->second.shape())
      return ::testing::AssertionFailure() << "'" << key << "' shapes differ";
    const auto x = t.to_vector(), y = it->second.to_vector();
    if (std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "'" << key << "' differs";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ge::testing

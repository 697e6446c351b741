// .npy files: the exact bytes numpy writes, round trips, refused corruptions, and numpy itself
// reading what we write (when the system Python has numpy).
#include "ganengine/models/npy.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "ganengine/ops.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::models {
namespace {

using datatest::ScratchDir;
using ge::testing::error_of;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Quarter steps: exact in float32, so sums compare exactly.
std::vector<float> quarters(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<float>(i % 37) * 0.25f - 4.f;
  return v;
}

// The 10-byte preamble, the dict as numpy's repr writes it, and space padding to 128 bytes in
// all (64-byte alignment with room for a 21-digit first dimension) ending in '\n'.
std::string numpy_header(const std::string& shape) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  std::string h = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
  h += std::string(127 - h.size(), ' ');
  return h + "\n";
}

// A valid file of shape (2, 3) with the header text replaced.
std::string with_header(const std::string& dict) {
  std::string body = dict;
  body += std::string((64 - (10 + body.size() + 1) % 64) % 64, ' ') + "\n";
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(body.size() & 0xff);
  out += static_cast<char>(body.size() >> 8);
  out += body;
  const std::vector<float> v = quarters(6);
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  return out;
}

class NpyTest : public DeviceTest {};

TEST_P(NpyTest, RoundTripsEveryRank) {
  ScratchDir dir;
  for (const Shape& shape : {Shape{7}, Shape{3, 4}, Shape{2, 1, 8, 8}, Shape{2, 3, 0}}) {
    const std::vector<float> v = quarters(ge::numel(shape));
    const std::string path = dir.file("x.npy");
    save_npy(path, from_vector(v, shape, device()));
    const Tensor back = load_npy(path);
    EXPECT_EQ(back.shape(), shape);
    EXPECT_EQ(back.device(), kCPU);
    EXPECT_EQ(back.to_vector(), v) << to_string(shape);
    EXPECT_EQ(read_all(path).size(), 128 + 4 * v.size());
  }
  // A non-contiguous view is written in its logical (row-major) order.
  const Tensor t = from_vector(quarters(12), {3, 4}, device()).t();
  save_npy(dir.file("t.npy"), t);
  EXPECT_EQ(load_npy(dir.file("t.npy")).to_vector(), t.contiguous().to_vector());
}

TEST(NpyFormatTest, HeaderBytesAsNumpyWritesThem) {
  ScratchDir dir;
  const struct {
    Shape shape;
    std::string repr;
  } cases[] = {{{5}, "(5,)"}, {{3, 4}, "(3, 4)"}, {{2, 1, 32, 32}, "(2, 1, 32, 32)"}};
  for (const auto& c : cases) {
    const std::vector<float> v = quarters(ge::numel(c.shape));
    save_npy(dir.file("h.npy"), from_vector(v, c.shape));
    const std::string bytes = read_all(dir.file("h.npy"));
    const std::string expected = numpy_header(c.repr);
    ASSERT_EQ(expected.size(), 128u);
    ASSERT_GE(bytes.size(), 128u);
    EXPECT_EQ(bytes.substr(0, 128), expected) << c.repr;
    std::vector<float> data(v.size());
    std::memcpy(data.data(), bytes.data() + 128, data.size() * sizeof(float));
    EXPECT_EQ(data, v);
  }
}

TEST(NpyFormatTest, ReadsWhatOtherWritersMayWrite) {
  ScratchDir dir;
  // Keys in another order, double quotes, no trailing comma, no growth padding.
  write_all(dir.file("a.npy"),
            with_header("{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": '<f4'}"));
  const Tensor a = load_npy(dir.file("a.npy"));
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.to_vector(), quarters(6));
  // Format 2.0: a 4-byte header length.
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  std::string body = dict + std::string((64 - (12 + dict.size() + 1) % 64) % 64, ' ') + "\n";
  for (int i = 0; i < 4; ++i)
    v2 += static_cast<char>((body.size() >> (8 * i)) & 0xff);
  v2 += body;
  const std::vector<float> three = {1.5f, -2.f, 0.25f};
  v2.append(reinterpret_cast<const char*>(three.data()), 12);
  write_all(dir.file("v2.npy"), v2);
  EXPECT_EQ(load_npy(dir.file("v2.npy")).to_vector(), three);
}

TEST(NpyFormatTest, RefusesCorruptFiles) {
  ScratchDir dir;
  save_npy(dir.file("good.npy"), from_vector(quarters(6), {2, 3}));
  const std::string good = read_all(dir.file("good.npy"));
  const auto refused = [&](const std::string& bytes, const std::string& what) {
    const std::string path = dir.file("bad.npy");
    write_all(path, bytes);
    const std::string msg = error_of([&] { load_npy(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "expected \"" << what << "\" in: " << msg;
  };
  std::string bad_magic = good;
  bad_magic[1] = 'X';
  refused(bad_magic, "bad magic");
  std::string bad_version = good;
  bad_version[6] = 9;
  refused(bad_version, "unsupported format version 9.0");
  refused(good.substr(0, good.size() - 1), "truncated");
  refused(good.substr(0, 40), "truncated");
  refused(good.substr(0, 7), "bad magic");
  refused(good + "x", "unexpected bytes");
  refused(with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"),
          "unsupported dtype '<f8'");
  refused(with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }"),
          "unsupported dtype '>f4'");
  refused(with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"),
          "Fortran-order");
  refused(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }"),
          "malformed header");
  refused(with_header("{'descr': '<f4', 'fortran_order': False, }"), "'shape'");
  refused(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}"),
          "unexpected key 'x'");
  refused(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)"),
          "malformed header");
  const std::string missing = dir.file("missing.npy");
  EXPECT_NE(error_of([&] { load_npy(missing); }).find("cannot open '" + missing),
            std::string::npos);
}

TEST(NpyFormatTest, FailedWriteKeepsTheOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("keep.npy");
  save_npy(path, from_vector({1.f, 2.f}, {2}));
  const std::string before = read_all(path);
  const std::string into_missing_dir = dir.file("no/such/dir/x.npy");
  EXPECT_NE(
      error_of([&] { save_npy(into_missing_dir, from_vector({1.f}, {1})); }).find(into_missing_dir),
      std::string::npos);
  EXPECT_NE(error_of([&] { save_npy(path, Tensor()); }).find("undefined"), std::string::npos);
  EXPECT_EQ(read_all(path), before);
  // Only the target remains: no temporary file left behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.str()))
    files += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1);
}

bool python_has_numpy() {
  return std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") == 0;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr)
    out += buf.data();
  ::pclose(pipe);
  return out;
}

TEST(NpyFormatTest, NumpyReadsOurFilesAndWritesTheSameBytes) {
  if (!python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  ScratchDir dir;
  const Shape shape = {2, 3, 4, 5};
  const std::vector<float> v = quarters(ge::numel(shape));
  double sum = 0;
  for (float x : v)
    sum += x;
  const std::string ours = dir.file("ours.npy"), theirs = dir.file("theirs.npy");
  save_npy(ours, from_vector(v, shape));
  const std::string out = run("/usr/bin/python3 -c \"import numpy as np; a = np.load('" + ours +
                              "'); print(a.dtype, a.shape, int(a.astype(np.float64).sum() * 4)); "
                              "print(hasattr(np.lib.format, 'GROWTH_AXIS_MAX_DIGITS')); np.save('" +
                              theirs + "', a)\"");
  const std::string expected =
      "float32 (2, 3, 4, 5) " + std::to_string(static_cast<int64_t>(sum * 4)) + "\n";
  ASSERT_EQ(out.substr(0, expected.size()), expected) << out;
  const std::string a = read_all(ours), b = read_all(theirs);
  if (out.substr(expected.size()) == "True\n") {
    // numpy re-saving the array it read gives our file byte for byte (the same layout).
    EXPECT_EQ(b, a);
  } else {
    // numpy before 1.24 leaves no room to grow the shape: only the data must agree.
    ASSERT_GE(b.size(), 4 * v.size());
    EXPECT_EQ(b.substr(b.size() - 4 * v.size()), a.substr(a.size() - 4 * v.size()));
  }
  EXPECT_EQ(load_npy(theirs).to_vector(), v);
}

GE_INSTANTIATE_DEVICE_TEST(NpyTest);

}  // namespace
}  // namespace ge::models

// safetensors I/O: round trips from every device (strided views, scalars, empty tensors,
// metadata), files assembled byte by byte here (every dtype the reader converts, padded
// headers), atomic saves (a failed validation and a failed write both leave the old file and no
// temporary behind), and one test per kind of corrupt file, each checking the message names the
// file and the defect.
#include "ganengine/safetensors.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test; parallel ctest runs each test in its own process.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("ge_st_") + info->test_suite_name() + "_" + info->name() + "_" +
                       std::to_string(::getpid());
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = fs::temp_directory_path() / name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_))
      out.push_back(e.path().filename().string());
    return out;
  }

 private:
  fs::path dir_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A file as the format defines it: length, header text, data.
std::string st_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

class SafetensorsTest : public DeviceTest {};

TEST_P(SafetensorsTest, RoundTripKeepsValuesShapesAndMetadata) {
  TempDir dir;
  const std::vector<float> a = lcg_values(24, 1);
  const std::vector<float> b = lcg_values(6, 2);
  const Tensor ta = make(a, {2, 3, 4}, device());
  const Tensor tb = make(b, {2, 3}, device(), /*requires_grad=*/true);
  std::map<std::string, Tensor> tensors{
      {"gen.conv.weight", ta},
      {"b", tb},
      {"transposed", tb.detach().t()},  // non-contiguous: written in logical row-major order
      {"scalar", make({3.5f}, {}, device())},
      {"empty", make({}, {0, 5}, device())},
  };
  const std::string path = dir.file("ckpt.safetensors");
  save_safetensors(path, tensors, {{"step", "1200"}, {"format", "pt"}});

  const auto loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), 5u);
  for (const auto& [name, t] : loaded) {
    EXPECT_TRUE(t.device().is_cpu()) << name;
    EXPECT_TRUE(t.is_contiguous()) << name;
    EXPECT_FALSE(t.requires_grad()) << name;
  }
  EXPECT_EQ(loaded.at("gen.conv.weight").shape(), (Shape{2, 3, 4}));
  EXPECT_TRUE(all_close(loaded.at("gen.conv.weight"), a, 0, 0));
  EXPECT_TRUE(all_close(loaded.at("b"), b, 0, 0));
  EXPECT_EQ(loaded.at("transposed").shape(), (Shape{3, 2}));
  EXPECT_TRUE(all_close(loaded.at("transposed"), {b[0], b[3], b[1], b[4], b[2], b[5]}, 0, 0));
  EXPECT_EQ(loaded.at("scalar").shape(), Shape{});
  EXPECT_EQ(loaded.at("scalar").item(), 3.5f);
  EXPECT_EQ(loaded.at("empty").shape(), (Shape{0, 5}));

  const auto meta = load_safetensors_metadata(path);
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"step", "1200"}, {"format", "pt"}}));
}

TEST_P(SafetensorsTest, WrittenLayoutFollowsTheFormat) {
  TempDir dir;
  const std::string path = dir.file("layout.safetensors");
  save_safetensors(path, {{"w", make({1.f, -2.f, 0.25f}, {3}, device())}});
  const std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ(n % 8, 0u) << "data must start 8-byte aligned";
  ASSERT_EQ(bytes.size(), 8 + n + 12);
  const std::string header = bytes.substr(8, n);
  EXPECT_TRUE(contains(header, "\"w\":{\"data_offsets\":[0,12],\"dtype\":\"F32\",\"shape\":[3]}"))
      << header;
  EXPECT_EQ(bytes.substr(8 + n), raw<float>({1.f, -2.f, 0.25f}));
}

TEST(Safetensors, OverwriteReplacesTheFile) {
  TempDir dir;
  const std::string path = dir.file("x.safetensors");
  save_safetensors(path, {{"a", make({1.f, 2.f}, {2}, kCPU)}});
  save_safetensors(path, {{"b", make({3.f}, {1}, kCPU)}});
  const auto loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded.at("b").item(), 3.f);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"x.safetensors"});
}

TEST(Safetensors, EmptyMapRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("none.safetensors");
  save_safetensors(path, {});
  EXPECT_TRUE(load_safetensors(path).empty());
  EXPECT_TRUE(load_safetensors_metadata(path).empty());
}

// Every dtype the reader converts, with the header padded by spaces as Python's writer does and
// entries out of offset order.
TEST(Safetensors, ReadsEveryConvertedDtype) {
  TempDir dir;
  std::string data;
  std::string header = "{";
  auto add = [&](const std::string& name, const char* dtype, const std::string& shape,
                 const std::string& bytes) {
    const size_t begin = data.size();
    data += bytes;
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
              ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) +
              "]}";
  };
  add("f32", "F32", "[2]", raw<float>({1.5f, -3.f}));
  add("f64", "F64", "[2]", raw<double>({0.1, -1e10}));
  // 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), -0.0, +inf in IEEE half.
  add("f16", "F16", "[6]", raw<uint16_t>({0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00}));
  add("bf16", "BF16", "[2]", raw<uint16_t>({0x3f80, 0xc0a0}));  // 1.0, -5.0
  add("i64", "I64", "[]", raw<int64_t>({12345}));
  add("i32", "I32", "[3]", raw<int32_t>({-7, 0, 1 << 20}));
  add("i16", "I16", "[1]", raw<int16_t>({-300}));
  add("i8", "I8", "[2]", raw<int8_t>({-128, 127}));
  add("u8", "U8", "[2]", raw<uint8_t>({0, 255}));
  add("bool", "BOOL", "[2]", raw<uint8_t>({1, 0}));
  header += ",\"__metadata__\":{\"format\":\"pt\"}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string path = dir.file("all.safetensors");
  write_bytes(path, st_file(header, data));

  const auto t = load_safetensors(path);
  ASSERT_EQ(t.size(), 10u);
  EXPECT_EQ(t.at("f32").to_vector(), (std::vector<float>{1.5f, -3.f}));
  EXPECT_EQ(t.at("f64").to_vector(), (std::vector<float>{0.1f, -1e10f}));
  const std::vector<float> h = t.at("f16").to_vector();
  EXPECT_EQ(h[0], 1.f);
  EXPECT_EQ(h[1], -2.f);
  EXPECT_EQ(h[2], 65504.f);
  EXPECT_EQ(h[3], std::ldexp(1.f, -24));
  EXPECT_EQ(std::bit_cast<uint32_t>(h[4]), 0x80000000u);
  EXPECT_TRUE(std::isinf(h[5]) && h[5] > 0);
  EXPECT_EQ(t.at("bf16").to_vector(), (std::vector<float>{1.f, -5.f}));
  EXPECT_EQ(t.at("i64").shape(), Shape{});
  EXPECT_EQ(t.at("i64").item(), 12345.f);
  EXPECT_EQ(t.at("i32").to_vector(), (std::vector<float>{-7.f, 0.f, 1048576.f}));
  EXPECT_EQ(t.at("i16").to_vector(), (std::vector<float>{-300.f}));
  EXPECT_EQ(t.at("i8").to_vector(), (std::vector<float>{-128.f, 127.f}));
  EXPECT_EQ(t.at("u8").to_vector(), (std::vector<float>{0.f, 255.f}));
  EXPECT_EQ(t.at("bool").to_vector(), (std::vector<float>{1.f, 0.f}));
  EXPECT_EQ(load_safetensors_metadata(path).at("format"), "pt");
}

// --- atomicity

TEST(Safetensors, FailedValidationLeavesTheOldFile) {
  TempDir dir;
  const std::string path = dir.file("keep.safetensors");
  save_safetensors(path, {{"a", make({1.f, 2.f}, {2}, kCPU)}});
  const std::string before = read_bytes(path);
  const std::string msg = error_of([&] {
    save_safetensors(path, {{"a", make({5.f}, {1}, kCPU)}, {"b", Tensor()}});
  });
  EXPECT_TRUE(contains(msg, "save_safetensors")) << msg;
  EXPECT_TRUE(contains(msg, path)) << msg;
  EXPECT_TRUE(contains(msg, "tensor 'b' is undefined")) << msg;
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.safetensors"});
}

// A write that fails half way (the file size limit is hit while the data goes out): the old
// file keeps its contents and the temporary file is removed.
TEST(Safetensors, FailedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("keep.safetensors");
  save_safetensors(path, {{"a", make({1.f, 2.f}, {2}, kCPU)}});
  const std::string before = read_bytes(path);

  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const Tensor big = ge::zeros({256, 256});  // 256 KiB of data, far past the limit
  const std::string msg = error_of([&] { save_safetensors(path, {{"big", big}}); });
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);

  EXPECT_TRUE(contains(msg, "save_safetensors")) << msg;
  EXPECT_TRUE(contains(msg, path)) << msg;
  EXPECT_TRUE(contains(msg, "File too large")) << msg;
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.safetensors"});
}

TEST(Safetensors, SaveErrors) {
  TempDir dir;
  const Tensor x = make({1.f}, {1}, kCPU);
  const std::string path = dir.file("e.safetensors");
  EXPECT_TRUE(contains(error_of([&] { save_safetensors(path, {{"", x}}); }), "non-empty"));
  EXPECT_TRUE(contains(error_of([&] {
                         save_safetensors(path, {{"__metadata__", x}});
                       }),
                       "\"__metadata__\" is reserved"));
  const std::string missing_dir = dir.file("no/such/dir/e.safetensors");
  const std::string msg = error_of([&] { save_safetensors(missing_dir, {{"x", x}}); });
  EXPECT_TRUE(contains(msg, missing_dir)) << msg;
  EXPECT_TRUE(contains(msg, "cannot create a temporary file")) << msg;
  EXPECT_TRUE(contains(msg, "No such file or directory")) << msg;
  EXPECT_TRUE(contains(error_of([] { save_safetensors("", {}); }), "empty string"));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{});
}

// --- corrupt files: each message names the file and the defect.

class CorruptFile : public ::testing::Test {
 protected:
  // Writes `bytes`, loads it, returns the error message (checked to name the file).
  std::string load_error(const std::string& bytes) {
    const std::string path = dir_.file("bad.safetensors");
    write_bytes(path, bytes);
    const std::string msg = error_of([&] { load_safetensors(path); });
    EXPECT_TRUE(contains(msg, "load_safetensors: '" + path + "'")) << msg;
    return msg;
  }
  std::string header_error(const std::string& header, const std::string& data = "") {
    return load_error(st_file(header, data));
  }
  TempDir dir_;
};

TEST_F(CorruptFile, MissingFileAndDirectory) {
  const std::string path = dir_.file("absent.safetensors");
  std::string msg = error_of([&] { load_safetensors(path); });
  EXPECT_TRUE(contains(msg, path) && contains(msg, "no such file")) << msg;
  const std::string d = dir_.file("");
  msg = error_of([&] { load_safetensors(d); });
  EXPECT_TRUE(contains(msg, "not a file")) << msg;
}

TEST_F(CorruptFile, ShorterThanTheLengthField) {
  EXPECT_TRUE(contains(load_error(""), "0 bytes, shorter than the 8-byte header length"));
  EXPECT_TRUE(contains(load_error("abc"), "3 bytes, shorter than the 8-byte header length"));
}

TEST_F(CorruptFile, HeaderLongerThanTheFile) {
  const std::string msg = load_error(le64(100) + "{}");
  EXPECT_TRUE(contains(msg, "header length field says 100 bytes but only 2 bytes follow")) << msg;
  EXPECT_TRUE(contains(load_error(le64(~0ull) + "{}"), "more than the"));
}

TEST_F(CorruptFile, HeaderNotJson) {
  EXPECT_TRUE(contains(header_error("{\"a\": "), "header is not valid JSON"));
  EXPECT_TRUE(contains(header_error("[1, 2]"), "header is not a JSON object, got array"));
}

TEST_F(CorruptFile, EntryFieldsMissingOrMistyped) {
  EXPECT_TRUE(contains(header_error("{\"a\":3}"), "entry 'a' is not a JSON object"));
  EXPECT_TRUE(contains(header_error("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "xxxx"),
                       "entry 'a' has no string \"dtype\""));
  EXPECT_TRUE(contains(header_error("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "xxxx"),
                       "entry 'a' has no array \"shape\""));
  EXPECT_TRUE(contains(header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],"
                                    "\"data_offsets\":[0,4]}}",
                                    "xxxx"),
                       "expected non-negative integers"));
  EXPECT_TRUE(contains(header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "xxxx"),
                       "entry 'a' has no \"data_offsets\""));
  EXPECT_TRUE(contains(header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                                    "\"data_offsets\":[0]}}",
                                    "xxxx"),
                       "entry 'a' has no \"data_offsets\""));
  EXPECT_TRUE(contains(header_error("{\"__metadata__\":{\"k\":1}}"),
                       "metadata value of 'k' is not a string"));
}

TEST_F(CorruptFile, UnknownDtype) {
  const std::string msg =
      header_error("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x");
  EXPECT_TRUE(contains(msg, "entry 'a' has dtype 'F8_E4M3', expected one of F32")) << msg;
}

TEST_F(CorruptFile, SizeDisagreesWithShape) {
  const std::string msg = header_error(
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", std::string(24, 'x'));
  EXPECT_TRUE(contains(msg,
                       "entry 'w' has 20 bytes of data, expected 24 for dtype F32 and "
                       "shape [2,3]"))
      << msg;
}

TEST_F(CorruptFile, ShapeOverflows) {
  const std::string msg = header_error(
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
      "\"data_offsets\":[0,4]}}",
      "xxxx");
  EXPECT_TRUE(contains(msg, "overflows")) << msg;
}

TEST_F(CorruptFile, OffsetsOutOfRange) {
  const std::string msg = header_error(
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", std::string(8, 'x'));
  EXPECT_TRUE(contains(msg, "entry 'w' has data_offsets [4, 12] beyond the 8-byte data region"))
      << msg;
  EXPECT_TRUE(contains(header_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],"
                                    "\"data_offsets\":[8,4]}}",
                                    std::string(8, 'x')),
                       "begin after end"));
}

TEST_F(CorruptFile, OverlappingRanges) {
  const std::string msg = header_error(
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
      std::string(12, 'x'));
  EXPECT_TRUE(contains(msg, "entries 'a' [0, 8) and 'b' [4, 12) overlap")) << msg;
}

GE_INSTANTIATE_DEVICE_TEST(SafetensorsTest);

}  // namespace
}  // namespace ge::optest

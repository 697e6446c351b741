#pragma once
// Helpers for the data and image tests: scratch directories, IDX files written byte by byte,
// and stb compiled privately into the test (static), so PNGs are written and decoded without the
// library's own image code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace ge::datatest {

// A fresh directory under the system temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("ge_") + info->test_suite_name() + "_" + info->name() + "_" +
                       std::to_string(::getpid()) + "_" + std::to_string(counter()++);
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

inline void put_be32(std::vector<unsigned char>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<unsigned char>(v >> shift));
}

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// IDX images [n, rows, cols] (magic 2051) and labels [n] (magic 2049), as the format specifies.
inline std::vector<unsigned char> idx_images(const std::vector<unsigned char>& pixels, uint32_t n,
                                             uint32_t rows = 28, uint32_t cols = 28,
                                             uint32_t magic = 2051) {
  std::vector<unsigned char> out;
  put_be32(out, magic);
  put_be32(out, n);
  put_be32(out, rows);
  put_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

inline std::vector<unsigned char> idx_labels(const std::vector<unsigned char>& labels,
                                             uint32_t magic = 2049) {
  std::vector<unsigned char> out;
  put_be32(out, magic);
  put_be32(out, static_cast<uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// MNIST IDX files <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte in `dir`: image i is
// a bright block whose place and size follow (i, seed) over faint noise, so the features (and the
// classes a random classifier reads) differ from image to image; label i % 10.
inline void write_block_mnist(const std::string& dir, const std::string& prefix, int n,
                              uint32_t seed) {
  std::vector<unsigned char> pixels, labels;
  uint32_t s = seed;
  for (int i = 0; i < n; ++i) {
    const int k = i * 7 + static_cast<int>(seed) * 3;
    const int top = (k * 5) % 20, left = (k * 3) % 20, side = 4 + k % 5;
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        s = s * 1664525u + 1013904223u;
        const bool block = y >= top && y < top + side && x >= left && x < left + side;
        pixels.push_back(block ? 255 : static_cast<unsigned char>(s >> 28));
      }
    labels.push_back(static_cast<unsigned char>(i % 10));
  }
  write_bytes(dir + "/" + prefix + "-images-idx3-ubyte",
              idx_images(pixels, static_cast<uint32_t>(n)));
  write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", idx_labels(labels));
}
inline void write_block_mnist(const ScratchDir& dir, const std::string& prefix, int n,
                              uint32_t seed) {
  write_block_mnist(dir.str(), prefix, n, seed);
}

struct Decoded {
  int width = 0, height = 0, channels = 0;
  std::vector<unsigned char> pixels;  // interleaved, as stored in the file
};

inline Decoded decode_png(const std::string& path) {
  Decoded d;
  unsigned char* p = stbi_load(path.c_str(), &d.width, &d.height, &d.channels, 0);
  if (p == nullptr) {
    ADD_FAILURE() << "cannot decode " << path << ": " << stbi_failure_reason();
    return d;
  }
  d.pixels.assign(p, p + static_cast<size_t>(d.width) * d.height * d.channels);
  stbi_image_free(p);
  return d;
}

}  // namespace ge::datatest

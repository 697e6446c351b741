// safetensors reading and atomic writing. The header is validated in full before any tensor is
// allocated, so a corrupt file fails fast with the defect named and allocates nothing.
#include "ganengine/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/ops.h"

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader copies bytes as they are");

namespace ge {
namespace {

using nlohmann::json;

// The reference implementation's limit: a larger header is a corrupt length field, not a
// plausible file, and must not turn into a huge allocation.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr const char* kMetadataKey = "__metadata__";

enum class FileDtype { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool };

struct DtypeInfo {
  const char* name;
  FileDtype dtype;
  uint64_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", FileDtype::F32, 4},   {"F64", FileDtype::F64, 8}, {"F16", FileDtype::F16, 2},
    {"BF16", FileDtype::BF16, 2}, {"I64", FileDtype::I64, 8}, {"I32", FileDtype::I32, 4},
    {"I16", FileDtype::I16, 2},   {"I8", FileDtype::I8, 1},   {"U8", FileDtype::U8, 1},
    {"BOOL", FileDtype::Bool, 1},
};

struct Entry {
  std::string name;
  DtypeInfo dtype;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // file offset of byte 0 of the data region
};

template <typename... Parts>
[[noreturn]] void corrupt(const char* op, const std::string& path, Parts&&... parts) {
  fail(op, ": '", path, "': ", std::forward<Parts>(parts)...);
}

uint64_t read_le_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

// A JSON integer that is >= 0, or nullopt-like failure reported by the caller.
bool as_index(const json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

Entry parse_entry(const char* op, const std::string& path, const std::string& name, const json& j) {
  if (!j.is_object())
    corrupt(op, path, "entry '", name, "' is not a JSON object, got ", j.type_name());
  Entry e;
  e.name = name;
  const auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string())
    corrupt(op, path, "entry '", name, "' has no string \"dtype\"");
  const std::string dname = dt->get<std::string>();
  const auto known = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                                  [&](const DtypeInfo& d) { return dname == d.name; });
  if (known == std::end(kDtypes))
    corrupt(op, path, "entry '", name, "' has dtype '", dname,
            "', expected one of F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL");
  e.dtype = *known;

  const auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array())
    corrupt(op, path, "entry '", name, "' has no array \"shape\"");
  uint64_t elements = 1;
  for (const json& d : *sh) {
    uint64_t size = 0;
    if (!as_index(d, &size) || size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      corrupt(op, path, "entry '", name, "' has shape ", sh->dump(),
              ", expected non-negative integers");
    if (__builtin_mul_overflow(elements, size, &elements))
      corrupt(op, path, "entry '", name, "' has shape ", sh->dump(), " whose size overflows");
    e.shape.push_back(static_cast<int64_t>(size));
  }
  // Strides are products of the dimensions (a zero counted as one), so they must fit in int64
  // even when a zero dimension leaves the tensor empty.
  int64_t extent = 1;
  for (int64_t d : e.shape)
    if (__builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent))
      corrupt(op, path, "entry '", name, "' has shape ", sh->dump(),
              " whose nonzero dimensions multiply past int64");
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, e.dtype.size, &bytes))
    corrupt(op, path, "entry '", name, "' has shape ", sh->dump(), " whose size overflows");

  const auto off = j.find("data_offsets");
  if (off == j.end() || !off->is_array() || off->size() != 2 || !as_index((*off)[0], &e.begin) ||
      !as_index((*off)[1], &e.end))
    corrupt(op, path, "entry '", name,
            "' has no \"data_offsets\" [begin, end] of non-negative integers");
  if (e.begin > e.end)
    corrupt(op, path, "entry '", name, "' has data_offsets [", e.begin, ", ", e.end,
            "] with begin after end");
  if (e.end - e.begin != bytes)
    corrupt(op, path, "entry '", name, "' has ", e.end - e.begin, " bytes of data, expected ",
            bytes, " for dtype ", e.dtype.name, " and shape ", sh->dump());
  return e;
}

// The bytes of a safetensors file: an open file read piece by piece (tensors are read straight
// into their storage), or a buffer already in memory.
class Source {
 public:
  // Opens `path`; errors name `op`.
  Source(const char* op, const std::string& path) : path_(path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) corrupt(op, path, "cannot open: no such file");
    if (!std::filesystem::is_regular_file(status)) corrupt(op, path, "cannot open: not a file");
    size_ = std::filesystem::file_size(path, ec);
    if (ec) corrupt(op, path, "cannot read the file size: ", ec.message());
    in_.open(path, std::ios::binary);
    if (!in_) corrupt(op, path, "cannot open: ", std::strerror(errno));
  }
  Source(const void* data, uint64_t size, const std::string& name)
      : path_(name), data_(static_cast<const unsigned char*>(data)), size_(size) {}

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Copies bytes [offset, offset + n) to `dst`; false when they cannot be read.
  bool read(uint64_t offset, void* dst, uint64_t n) {
    if (offset > size_ || n > size_ - offset) return false;
    if (data_ != nullptr) {
      if (n > 0) std::memcpy(dst, data_ + offset, n);
      return true;
    }
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    return static_cast<bool>(in_);
  }

 private:
  std::string path_;
  std::ifstream in_;
  const unsigned char* data_ = nullptr;  // the in-memory bytes, or null for a file
  uint64_t size_ = 0;
};

Header read_header(const char* op, Source& src) {
  const std::string& path = src.path();
  const uint64_t file_size = src.size();
  if (file_size < 8)
    corrupt(op, path, "file is ", file_size, " bytes, shorter than the 8-byte header length field");
  unsigned char len_bytes[8];
  if (!src.read(0, len_bytes, 8)) corrupt(op, path, "cannot read the header length");
  const uint64_t header_len = read_le_u64(len_bytes);
  if (header_len > kMaxHeaderBytes)
    corrupt(op, path, "header length field says ", header_len, " bytes, more than the ",
            kMaxHeaderBytes, "-byte limit");
  if (header_len > file_size - 8)
    corrupt(op, path, "header length field says ", header_len, " bytes but only ", file_size - 8,
            " bytes follow it (truncated file?)");
  std::string text(header_len, '\0');
  if (!src.read(8, text.data(), header_len))
    corrupt(op, path, "cannot read the ", header_len, "-byte header");

  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    corrupt(op, path, "header is not valid JSON: ", e.what());
  }
  if (!j.is_object()) corrupt(op, path, "header is not a JSON object, got ", j.type_name());

  Header h;
  h.data_start = 8 + header_len;
  const uint64_t data_size = file_size - h.data_start;
  for (const auto& [key, value] : j.items()) {
    if (key == kMetadataKey) {
      if (!value.is_object())
        corrupt(op, path, "\"__metadata__\" is not a JSON object, got ", value.type_name());
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          corrupt(op, path, "metadata value of '", mk, "' is not a string, got ", mv.type_name());
        h.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    Entry e = parse_entry(op, path, key, value);
    if (e.end > data_size)
      corrupt(op, path, "entry '", key, "' has data_offsets [", e.begin, ", ", e.end,
              "] beyond the ", data_size, "-byte data region (truncated file?)");
    h.entries.push_back(std::move(e));
  }

  // Empty ranges cannot overlap anything; the rest, sorted by start, must not intersect.
  std::vector<const Entry*> ranges;
  for (const Entry& e : h.entries)
    if (e.end > e.begin) ranges.push_back(&e);
  std::sort(ranges.begin(), ranges.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i]->begin < ranges[i - 1]->end)
      corrupt(op, path, "entries '", ranges[i - 1]->name, "' [", ranges[i - 1]->begin, ", ",
              ranges[i - 1]->end, ") and '", ranges[i]->name, "' [", ranges[i]->begin, ", ",
              ranges[i]->end, ") overlap");
  return h;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half: exactly representable as a normal float
      const float v = std::ldexp(static_cast<float>(mant), -24);
      return sign ? -v : v;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

template <typename T>
T load_as(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

void convert(FileDtype dtype, const unsigned char* src, float* dst, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case FileDtype::F32:
        dst[i] = load_as<float>(src + 4 * i);
        break;
      case FileDtype::F64:
        dst[i] = static_cast<float>(load_as<double>(src + 8 * i));
        break;
      case FileDtype::F16:
        dst[i] = half_to_float(load_as<uint16_t>(src + 2 * i));
        break;
      case FileDtype::BF16:
        dst[i] = std::bit_cast<float>(static_cast<uint32_t>(load_as<uint16_t>(src + 2 * i)) << 16);
        break;
      case FileDtype::I64:
        dst[i] = static_cast<float>(load_as<int64_t>(src + 8 * i));
        break;
      case FileDtype::I32:
        dst[i] = static_cast<float>(load_as<int32_t>(src + 4 * i));
        break;
      case FileDtype::I16:
        dst[i] = static_cast<float>(load_as<int16_t>(src + 2 * i));
        break;
      case FileDtype::I8:
        dst[i] = static_cast<float>(load_as<int8_t>(src + i));
        break;
      case FileDtype::U8:
        dst[i] = static_cast<float>(src[i]);
        break;
      case FileDtype::Bool:
        dst[i] = src[i] != 0 ? 1.f : 0.f;
        break;
    }
  }
}

// --- writing

// Closes and removes the temporary file unless committed: every failure path leaves the
// directory as it was.
class TempFile {
 public:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void commit() { committed_ = true; }

 private:
  std::string path_;
  int fd_;
  bool committed_ = false;
};

// O_EXCL with a name no other writer (thread or process) picks: pid, a process-wide counter
// and random bits. Created 0666 & ~umask, so the final file gets the usual permissions.
TempFile create_temp(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    // detail::concat rather than string operator+, which trips GCC 12's -Wrestrict at -O3.
    const std::string name = detail::concat(".", target.filename().string(), ".tmp-", ::getpid(),
                                            "-", counter++, "-", rd());
    const std::string tmp = (dir / name).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return TempFile(tmp, fd);
    if (errno != EEXIST)
      fail("save_safetensors: '", path, "': cannot create a temporary file in '", dir.string(),
           "': ", std::strerror(errno));
  }
  fail("save_safetensors: '", path, "': cannot create a unique temporary file in '", dir.string(),
       "'");
}

void write_all(const TempFile& f, const std::string& path, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(f.fd(), p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("save_safetensors: '", path, "': writing '", f.path(),
           "' failed: ", std::strerror(errno));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::map<std::string, Tensor> load_tensors(const char* op, Source& src) {
  const Header h = read_header(op, src);
  std::map<std::string, Tensor> out;
  std::vector<unsigned char> buffer;
  for (const Entry& e : h.entries) {
    Tensor t = ge::empty(e.shape);
    const uint64_t bytes = e.end - e.begin;
    if (bytes > 0) {
      const uint64_t offset = h.data_start + e.begin;
      bool ok;
      if (e.dtype.dtype == FileDtype::F32) {
        ok = src.read(offset, t.data_ptr(), bytes);
      } else {
        buffer.resize(bytes);
        ok = src.read(offset, buffer.data(), bytes);
        if (ok) convert(e.dtype.dtype, buffer.data(), t.data_ptr(), bytes / e.dtype.size);
      }
      if (!ok) corrupt(op, src.path(), "cannot read the data of entry '", e.name, "'");
    }
    out.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace

std::map<std::string, Tensor> load_safetensors(const std::string& path) {
  constexpr const char* op = "load_safetensors";
  Source src(op, path);
  return load_tensors(op, src);
}

std::map<std::string, Tensor> load_safetensors_from_memory(const void* data, size_t size,
                                                           const std::string& name) {
  GE_CHECK(data != nullptr || size == 0, "load_safetensors_from_memory: '", name,
           "': expected a buffer, got a null pointer with ", size, " bytes");
  Source src(data, size, name);
  return load_tensors("load_safetensors_from_memory", src);
}

std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  constexpr const char* op = "load_safetensors_metadata";
  Source src(op, path);
  return read_header(op, src).metadata;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  constexpr const char* op = "save_safetensors";
  GE_CHECK(!path.empty(), op, ": expected a file path, got an empty string");
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    GE_CHECK(!name.empty(), op, ": '", path, "': expected non-empty tensor names");
    GE_CHECK(name != kMetadataKey, op, ": '", path,
             "': \"__metadata__\" is reserved and cannot name a tensor");
    GE_CHECK(t.defined(), op, ": '", path, "': tensor '", name, "' is undefined");
    GE_CHECK(t.dtype() == Dtype::Float32, op, ": '", path, "': tensor '", name, "' has dtype ",
             ge::name(t.dtype()), ", expected float32");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) {
    json m = json::object();
    for (const auto& [k, v] : metadata)
      m[k] = v;
    header[kMetadataKey] = std::move(m);
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    fail(op, ": '", path,
         "': cannot encode the header (names and metadata must be UTF-8): ", e.what());
  }
  // Spaces are JSON whitespace: padding keeps the data region 8-byte aligned for readers
  // that map the file, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');

  TempFile tmp = create_temp(path);
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i)
    len_bytes[i] = static_cast<unsigned char>(static_cast<uint64_t>(text.size()) >> (8 * i));
  write_all(tmp, path, len_bytes, sizeof(len_bytes));
  write_all(tmp, path, text.data(), text.size());
  for (const auto& [name, t] : tensors) {
    const std::vector<float> host = t.to_vector();
    write_all(tmp, path, host.data(), host.size() * sizeof(float));
  }
  if (::fsync(tmp.fd()) != 0)
    fail(op, ": '", path, "': flushing '", tmp.path(), "' failed: ", std::strerror(errno));
  if (tmp.close() != 0)
    fail(op, ": '", path, "': closing '", tmp.path(), "' failed: ", std::strerror(errno));
  if (::rename(tmp.path().c_str(), path.c_str()) != 0)
    fail(op, ": '", path, "': renaming '", tmp.path(), "' over it failed: ", std::strerror(errno));
  tmp.commit();
  // Makes the rename itself durable; the file is already complete, so a failure here is not
  // reported as a failed save.
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace ge

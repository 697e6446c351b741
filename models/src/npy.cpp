// NumPy's .npy format (numpy/lib/format.py): magic, version, a little-endian header length, a
// Python dict literal padded to a multiple of 64 bytes, then the raw data.
#include "ganengine/models/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <ios>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "file_io.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the .npy writer stores host floats as '<f4'");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;  // numpy's ARRAY_ALIGN
// numpy leaves room for the first dimension to grow to this many digits in place.
constexpr size_t kGrowthDigits = 21;

std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

// The header exactly as numpy (>= 1.24) writes it, so files compare byte for byte.
std::string header_bytes(const Shape& shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
  if (!shape.empty()) dict.append(kGrowthDigits - std::to_string(shape[0]).size(), ' ');
  const size_t prefix = kMagicLen + 2 + 2;
  const size_t used = prefix + dict.size() + 1;  // + '\n'
  dict.append((kAlign - used % kAlign) % kAlign, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

// A minimal reader for the dict literal numpy writes: string keys, and string, boolean or
// integer-tuple values.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  struct Fields {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
    bool has_descr = false, has_order = false, has_shape = false;
  };

  Fields parse() {
    Fields f;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      skip_space();
      if (key == "descr") {
        f.descr = string_literal();
        f.has_descr = true;
      } else if (key == "fortran_order") {
        f.fortran_order = boolean();
        f.has_order = true;
      } else if (key == "shape") {
        f.shape = tuple();
        f.has_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') bad("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) bad("trailing characters after the dict");
    if (!f.has_descr || !f.has_order || !f.has_shape)
      bad("expected the keys 'descr', 'fortran_order' and 'shape'");
    return f;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail("load_npy: '", path_, "': malformed header at character ", pos_, ": ", what,
         " (header: ", s_, ")");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    const size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string v = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return v;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    bad("expected True or False");
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("expected a dimension");
      int64_t d = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (d > (std::numeric_limits<int64_t>::max() - 9) / 10) bad("dimension too large");
        d = d * 10 + (s_[pos_++] - '0');
      }
      shape.push_back(d);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') bad("expected ',' or ')' in the shape");
    }
    ++pos_;
    return shape;
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

}  // namespace

void save_npy(const std::string& path, const Tensor& t) {
  GE_CHECK(!path.empty(), "save_npy: expected a file path, got an empty string");
  GE_CHECK(t.defined(), "save_npy: '", path, "': expected a tensor, got an undefined one");
  GE_CHECK(t.dtype() == Dtype::Float32, "save_npy: '", path, "': expected float32, got ",
           name(t.dtype()));
  const std::string header = header_bytes(t.shape());
  GE_CHECK(header.size() - kMagicLen - 4 <= 0xffff, "save_npy: '", path, "': shape ",
           to_string(t.shape()), " needs a header longer than format 1.0 allows");
  // One host copy, straight into the file image.
  const Tensor host = t.detach().cpu().contiguous();
  std::string bytes = header;
  const size_t data_bytes = static_cast<size_t>(host.numel()) * sizeof(float);
  bytes.resize(header.size() + data_bytes);
  if (data_bytes > 0) std::memcpy(bytes.data() + header.size(), host.data_ptr(), data_bytes);
  detail::write_file_atomic("save_npy", path, bytes);
}

Tensor load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("load_npy: cannot open '", path, "': ", std::strerror(errno));
  const auto bytes = models::detail::read_stream<std::string>(
      in, ge::detail::concat("load_npy: reading '", path, "' failed"));
  return load_npy_from_memory(bytes, path);
}

Tensor load_npy_from_memory(std::string_view bytes, const std::string& path) {
  if (bytes.size() < kMagicLen + 2 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    fail("load_npy: '", path, "' is not a .npy file (bad magic; expected \"\\x93NUMPY\")");
  const int major = static_cast<unsigned char>(bytes[kMagicLen]);
  const int minor = static_cast<unsigned char>(bytes[kMagicLen + 1]);
  GE_CHECK((major == 1 || major == 2 || major == 3) && minor == 0, "load_npy: '", path,
           "': unsupported format version ", major, ".", minor, " (expected 1.0, 2.0 or 3.0)");
  // Version 1.0 stores the header length in 2 bytes, later versions in 4.
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t prefix = kMagicLen + 2 + len_bytes;
  if (bytes.size() < prefix)
    fail("load_npy: '", path, "' is truncated: ", bytes.size(), " bytes, shorter than the ", prefix,
         "-byte preamble");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    header_len |= size_t{static_cast<unsigned char>(bytes[kMagicLen + 2 + i])} << (8 * i);
  if (bytes.size() - prefix < header_len)
    fail("load_npy: '", path, "' is truncated: the header needs ", header_len, " bytes, ",
         bytes.size() - prefix, " follow the preamble");
  const std::string header(bytes.substr(prefix, header_len));
  const HeaderParser::Fields f = HeaderParser(header, path).parse();
  GE_CHECK(f.descr == "<f4", "load_npy: '", path, "': unsupported dtype '", f.descr,
           "' (expected '<f4', little-endian float32)");
  GE_CHECK(!f.fortran_order, "load_npy: '", path,
           "': Fortran-order arrays are not supported (expected C order)");
  uint64_t count = 1;
  for (int64_t d : f.shape) {
    if (d != 0 && count > std::numeric_limits<uint64_t>::max() / 4 / static_cast<uint64_t>(d))
      fail("load_npy: '", path, "': shape ", shape_repr(f.shape), " is too large");
    count *= static_cast<uint64_t>(d);
  }
  // Strides are products of the dimensions (a zero counted as one), so they must fit in int64
  // even when a zero dimension leaves the array empty.
  int64_t extent = 1;
  for (int64_t d : f.shape)
    if (__builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent))
      fail("load_npy: '", path, "': shape ", shape_repr(f.shape),
           " is too large: the product of its nonzero dimensions overflows int64");
  const uint64_t data_bytes = count * sizeof(float);
  const uint64_t available = bytes.size() - prefix - header_len;
  if (available < data_bytes)
    fail("load_npy: '", path, "' is truncated: shape ", shape_repr(f.shape), " needs ", data_bytes,
         " data bytes, the file holds ", available);
  GE_CHECK(available == data_bytes, "load_npy: '", path, "': ", available - data_bytes,
           " unexpected bytes after the ", data_bytes, " data bytes of shape ",
           shape_repr(f.shape));
  std::vector<float> values(static_cast<size_t>(count));
  if (count > 0) std::memcpy(values.data(), bytes.data() + prefix + header_len, data_bytes);
  return from_vector(values, f.shape, kCPU);
}

}  // namespace ge::models

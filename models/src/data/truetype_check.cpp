#include "truetype_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ganengine/error.h"

namespace ge::models::data {
namespace {

// Composite glyphs nest (a component may itself be composite); fonts nest a few levels.
constexpr int kMaxCompositeDepth = 8;
// All points of one glyph, components included: stb_truetype allocates vertices for each. And
// the glyphs walked for one, so that components referring to components stay a small tree.
constexpr uint64_t kMaxPoints = uint64_t{1} << 20;
constexpr uint64_t kMaxComponents = uint64_t{1} << 12;

// Big-endian reads of `font`, each checked against its size; errors name what was being read.
class Font {
 public:
  Font(const char* op, const std::string& path, const std::vector<unsigned char>& bytes)
      : op_(op), path_(path), bytes_(bytes) {}

  [[noreturn]] void corrupt(const std::string& what) const {
    fail(op_, ": font '", path_, "' is corrupt: ", what);
  }
  void need(uint64_t offset, uint64_t n, const char* what) const {
    if (offset > bytes_.size() || n > bytes_.size() - offset)
      corrupt(std::string(what) + " needs bytes [" + std::to_string(offset) + ", " +
              std::to_string(offset + n) + "), the file has " + std::to_string(bytes_.size()));
  }
  uint8_t u8(uint64_t offset, const char* what) const {
    need(offset, 1, what);
    return bytes_[offset];
  }
  uint16_t u16(uint64_t offset, const char* what) const {
    need(offset, 2, what);
    return static_cast<uint16_t>((bytes_[offset] << 8) | bytes_[offset + 1]);
  }
  int16_t s16(uint64_t offset, const char* what) const {
    return static_cast<int16_t>(u16(offset, what));
  }
  uint32_t u32(uint64_t offset, const char* what) const {
    need(offset, 4, what);
    return (uint32_t{bytes_[offset]} << 24) | (uint32_t{bytes_[offset + 1]} << 16) |
           (uint32_t{bytes_[offset + 2]} << 8) | uint32_t{bytes_[offset + 3]};
  }

  struct Table {
    uint64_t offset = 0, length = 0;
    bool found = false;
  };
  // The first directory entry tagged `tag`, as stb_truetype's table lookup finds it.
  Table table(const char* tag) const {
    const uint16_t count = u16(4, "the table count");
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t record = 12 + 16 * uint64_t{i};
      need(record, 16, "the table directory");
      if (std::memcmp(bytes_.data() + record, tag, 4) == 0)
        return {u32(record + 8, "a table offset"), u32(record + 12, "a table length"), true};
    }
    return {};
  }
  Table required(const char* tag, uint64_t min_length) const {
    const Table t = table(tag);
    if (!t.found) corrupt(std::string("it has no '") + tag + "' table");
    if (t.length < min_length)
      corrupt(std::string("its '") + tag + "' table is " + std::to_string(t.length) +
              " bytes, expected at least " + std::to_string(min_length));
    need(t.offset, t.length, tag);
    return t;
  }

 private:
  const char* op_;
  const std::string& path_;
  const std::vector<unsigned char>& bytes_;
};

struct Glyphs {
  const Font& font;
  uint64_t loca = 0, loca_length = 0, glyf = 0, glyf_length = 0;
  uint32_t num_glyphs = 0;
  bool long_offsets = false;
  uint64_t points = 0;      // so far, over every component
  uint64_t components = 0;  // glyphs walked so far

  // The glyph's bytes [begin, end) in the file, as stbtt__GetGlyfOffset finds them; begin ==
  // end is an empty glyph.
  void range(int glyph, uint64_t& begin, uint64_t& end) const {
    if (glyph < 0 || static_cast<uint32_t>(glyph) >= num_glyphs)
      font.corrupt("glyph " + std::to_string(glyph) + " is out of range [0, " +
                   std::to_string(num_glyphs) + ")");
    const uint64_t entry = long_offsets ? 4 : 2, at = static_cast<uint64_t>(glyph) * entry;
    if (at + 2 * entry > loca_length)
      font.corrupt("its 'loca' table is " + std::to_string(loca_length) +
                   " bytes, too short for glyph " + std::to_string(glyph));
    const uint64_t a =
        long_offsets ? font.u32(loca + at, "loca") : 2u * font.u16(loca + at, "loca");
    const uint64_t b = long_offsets ? font.u32(loca + at + entry, "loca")
                                    : 2u * font.u16(loca + at + entry, "loca");
    if (a > b || b > glyf_length)
      font.corrupt("glyph " + std::to_string(glyph) + " spans [" + std::to_string(a) + ", " +
                   std::to_string(b) + ") of the " + std::to_string(glyf_length) +
                   "-byte 'glyf' table");
    if (a < b && b - a < 10)
      font.corrupt("glyph " + std::to_string(glyph) + " is " + std::to_string(b - a) +
                   " bytes, shorter than a glyph header");
    begin = glyf + a;
    end = glyf + b;
  }

  // Walks the glyph as stbtt__GetGlyphShapeTT does and returns the largest magnitude of its
  // vertex coordinates.
  double check(int glyph, int depth) {
    if (depth > kMaxCompositeDepth)
      font.corrupt("composite glyphs nest deeper than " + std::to_string(kMaxCompositeDepth) +
                   " levels (a cycle?)");
    if (++components > kMaxComponents)
      font.corrupt("a glyph is built of more than " + std::to_string(kMaxComponents) +
                   " components");
    uint64_t p = 0, end = 0;
    range(glyph, p, end);
    if (p == end) return 0;
    auto need = [&](uint64_t n) {
      if (n > end - p)
        font.corrupt("glyph " + std::to_string(glyph) + " ends after " + std::to_string(end - p) +
                     " more bytes, its outline needs " + std::to_string(n));
    };
    const int16_t contours = font.s16(p, "glyph header");
    if (contours > 0) {
      need(10 + 2 * uint64_t(contours) + 2);
      const uint64_t end_points = p + 10;
      const uint64_t n = 1 + uint64_t{font.u16(end_points + 2 * (contours - 1), "glyph")};
      const uint16_t instructions = font.u16(end_points + 2 * contours, "glyph");
      points += n;
      if (points > kMaxPoints)
        font.corrupt("a glyph has more than " + std::to_string(kMaxPoints) + " points");
      p = end_points + 2 * uint64_t(contours) + 2;
      need(instructions);
      p += instructions;
      std::vector<uint8_t> flags(n);
      for (uint64_t i = 0; i < n;) {
        need(1);
        const uint8_t f = font.u8(p++, "glyph");
        uint64_t repeat = 0;
        if (f & 8) {
          need(1);
          repeat = font.u8(p++, "glyph");
        }
        for (uint64_t r = 0; r <= repeat && i < n; ++r)
          flags[i++] = f;
      }
      // stb_truetype starts each contour at the point after the previous one's end; one that
      // starts off the curve takes its start from the next point, which must exist.
      uint64_t next_move = 0, contour = 0;
      for (uint64_t i = 0; i < n; ++i) {
        if (next_move != i) continue;
        if (!(flags[i] & 1)) {
          if (i + 1 >= n)
            font.corrupt("glyph " + std::to_string(glyph) +
                         " ends with a contour of one off-curve point");
          if (flags[i + 1] & 1) ++i;
        }
        if (contour >= uint64_t(contours))
          font.corrupt("glyph " + std::to_string(glyph) + " has more contours than it declares");
        next_move = 1 + uint64_t{font.u16(end_points + 2 * contour, "glyph")};
        ++contour;
      }
      int32_t largest = 0;
      for (int axis = 0; axis < 2; ++axis) {
        const uint8_t short_bit = axis == 0 ? 2 : 4, same_bit = axis == 0 ? 16 : 32;
        int32_t v = 0;
        for (uint64_t i = 0; i < n; ++i) {
          if (flags[i] & short_bit) {
            need(1);
            const int32_t d = font.u8(p++, "glyph");
            v += (flags[i] & same_bit) ? d : -d;
          } else if (!(flags[i] & same_bit)) {
            need(2);
            v += font.s16(p, "glyph");
            p += 2;
          }
          largest = std::max(largest, std::abs(int32_t{static_cast<int16_t>(v)}));
        }
      }
      return largest;
    }
    if (contours == 0) return 0;
    // A composite: components placed by an offset and an optional 2x2 transform.
    p += 10;
    double largest = 0;
    for (bool more = true; more;) {
      need(4);
      const uint16_t flags = font.u16(p, "glyph"), component = font.u16(p + 2, "glyph");
      p += 4;
      if (!(flags & 2))
        font.corrupt("composite glyph " + std::to_string(glyph) +
                     " places a component by point matching, which is not supported");
      float m[6] = {1, 0, 0, 1, 0, 0};
      if (flags & 1) {
        need(4);
        m[4] = font.s16(p, "glyph");
        m[5] = font.s16(p + 2, "glyph");
        p += 4;
      } else {
        need(2);
        m[4] = static_cast<int8_t>(font.u8(p, "glyph"));
        m[5] = static_cast<int8_t>(font.u8(p + 1, "glyph"));
        p += 2;
      }
      auto f2dot14 = [&] {
        need(2);
        const float v = font.s16(p, "glyph") / 16384.0f;
        p += 2;
        return v;
      };
      if (flags & (1 << 3)) {
        m[0] = m[3] = f2dot14();
      } else if (flags & (1 << 6)) {
        m[0] = f2dot14();
        m[3] = f2dot14();
      } else if (flags & (1 << 7)) {
        m[0] = f2dot14();
        m[1] = f2dot14();
        m[2] = f2dot14();
        m[3] = f2dot14();
      }
      more = (flags & (1 << 5)) != 0;
      const double inner = check(component, depth + 1);
      // stb_truetype scales each transformed coordinate by the column norms and stores it in a
      // 16-bit vertex; a value out of range would be undefined behaviour.
      const double sx = std::sqrt(double(m[0]) * m[0] + double(m[1]) * m[1]);
      const double sy = std::sqrt(double(m[2]) * m[2] + double(m[3]) * m[3]);
      const double x = sx * ((std::abs(m[0]) + std::abs(m[2])) * inner + std::abs(m[4]));
      const double y = sy * ((std::abs(m[1]) + std::abs(m[3])) * inner + std::abs(m[5]));
      if (std::max(x, y) > 32000)
        font.corrupt("composite glyph " + std::to_string(glyph) +
                     " places a component beyond the 16-bit coordinate range");
      largest = std::max({largest, x, y});
    }
    return largest;
  }
};

}  // namespace

void check_truetype_tables(const char* op, const std::string& path,
                           const std::vector<unsigned char>& bytes) {
  const Font font(op, path, bytes);
  if (font.table("glyf").found == false || font.table("loca").found == false)
    fail(op, ": font '", path,
         "' has no TrueType outlines (expected 'glyf' and 'loca' tables; CFF outlines are not "
         "supported)");
  font.required("glyf", 0);
  font.required("loca", 0);
  font.required("head", 54);
  font.required("hhea", 36);
  font.required("hmtx", 0);
  const Font::Table maxp = font.table("maxp");
  if (maxp.found) font.required("maxp", 6);
  const Font::Table cmap = font.required("cmap", 4);
  const uint16_t subtables = font.u16(cmap.offset + 2, "cmap");
  if (cmap.length < 4 + 8 * uint64_t{subtables})
    font.corrupt("its 'cmap' table is " + std::to_string(cmap.length) + " bytes, its " +
                 std::to_string(subtables) + " encoding records need " +
                 std::to_string(4 + 8 * uint64_t{subtables}));
}

int truetype_glyph_index(const char* op, const std::string& path,
                         const std::vector<unsigned char>& bytes, uint32_t index_map,
                         int codepoint) {
  const Font font(op, path, bytes);
  const char* what = "the cmap subtable";
  const uint16_t format = font.u16(index_map, what);
  const uint32_t c = static_cast<uint32_t>(codepoint);
  switch (format) {
    case 0: {
      const int32_t size = font.u16(index_map + 2, what);
      return codepoint < size - 6 ? font.u8(uint64_t{index_map} + 6 + c, what) : 0;
    }
    case 6: {
      const uint32_t first = font.u16(index_map + 6, what), count = font.u16(index_map + 8, what);
      if (c < first || c >= first + count) return 0;
      return font.u16(uint64_t{index_map} + 10 + 2 * uint64_t{c - first}, what);
    }
    case 4: {
      if (c > 0xffff) return 0;
      // stb_truetype's binary search, in its own (32-bit, wrapping) arithmetic.
      const uint16_t segments = font.u16(index_map + 6, what) >> 1;
      uint16_t search_range = font.u16(index_map + 8, what) >> 1;
      uint16_t selector = font.u16(index_map + 10, what);
      const uint16_t range_shift = font.u16(index_map + 12, what) >> 1;
      const uint32_t end_count = index_map + 14;
      uint32_t search = end_count;
      if (c >= font.u16(search + range_shift * 2u, what)) search += range_shift * 2u;
      search -= 2;
      for (; selector != 0; --selector) {
        search_range >>= 1;
        if (c > font.u16(search + search_range * 2u, what)) search += search_range * 2u;
      }
      search += 2;
      const uint16_t item = static_cast<uint16_t>((search - end_count) >> 1);
      const uint16_t start = font.u16(index_map + 14 + segments * 2u + 2 + 2u * item, what);
      const uint16_t last = font.u16(end_count + 2u * item, what);
      if (c < start || c > last) return 0;
      const uint16_t offset = font.u16(index_map + 14 + segments * 6u + 2 + 2u * item, what);
      if (offset == 0)
        return static_cast<uint16_t>(
            c + font.s16(index_map + 14 + segments * 4u + 2 + 2u * item, what));
      return font.u16(
          uint64_t{offset} + (c - start) * 2u + index_map + 14 + segments * 6u + 2 + 2u * item,
          what);
    }
    case 12:
    case 13: {
      const uint32_t groups = font.u32(index_map + 12, what);
      font.need(uint64_t{index_map} + 16, uint64_t{groups} * 12, what);
      uint64_t low = 0, high = groups;
      while (low < high) {
        const uint64_t mid = low + (high - low) / 2, at = uint64_t{index_map} + 16 + mid * 12;
        const uint32_t start = font.u32(at, what), end = font.u32(at + 4, what);
        if (c < start)
          high = mid;
        else if (c > end)
          low = mid + 1;
        else {
          const uint32_t glyph = font.u32(at + 8, what);
          return static_cast<int>(format == 12 ? glyph + (c - start) : glyph);
        }
      }
      return 0;
    }
    default:
      font.corrupt("its cmap subtable has format " + std::to_string(format) +
                   ", expected 0, 4, 6, 12 or 13");
  }
}

void check_truetype_glyph(const char* op, const std::string& path,
                          const std::vector<unsigned char>& bytes, int glyph) {
  const Font font(op, path, bytes);
  const Font::Table head = font.required("head", 54), loca = font.required("loca", 0),
                    glyf = font.required("glyf", 0), maxp = font.table("maxp");
  const uint16_t loc_format = font.u16(head.offset + 50, "head");
  if (loc_format > 1)
    font.corrupt("its 'head' table gives indexToLocFormat " + std::to_string(loc_format) +
                 ", expected 0 or 1");
  Glyphs glyphs{font};
  glyphs.loca = loca.offset;
  glyphs.loca_length = loca.length;
  glyphs.glyf = glyf.offset;
  glyphs.glyf_length = glyf.length;
  glyphs.num_glyphs = maxp.found ? font.u16(maxp.offset + 4, "maxp") : 0xffff;
  glyphs.long_offsets = loc_format == 1;
  glyphs.check(glyph, 0);
  // stb_truetype sizes the bitmap from the glyph's header box; when the box ends at or below the
  // baseline, its rasterizer takes an outline point above the box for a broken edge and asserts
  // (aborts). A digit reaches above the baseline.
  uint64_t begin = 0, end = 0;
  glyphs.range(glyph, begin, end);
  const int16_t y_max = begin < end ? font.s16(begin + 8, "glyph header") : 1;
  if (y_max <= 0)
    font.corrupt("glyph " + std::to_string(glyph) + "'s bounding box ends at y " +
                 std::to_string(y_max) + ", expected it to reach above the baseline (y > 0)");
}

}  // namespace ge::models::data

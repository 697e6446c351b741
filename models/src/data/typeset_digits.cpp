// Typeset digits: 0-9 in the TrueType faces of Debian's font packages, placed the way MNIST
// places its handwritten digits (fitted to 20x20, centred by center of mass in 28x28), so that a
// model can translate between the two domains. Each glyph is rasterized once at construction,
// oversampled, by stb_truetype; get() resamples it under a per-sample scale, rotation and shift
// drawn from a hash of (seed, split, index), so it holds no state and any thread may call it.
#include <stb/stb_truetype.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "../file_io.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "image_format.h"
#include "truetype_check.h"
#include "typeset_font.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "make_typeset_digits";
constexpr int64_t kMinFaces = 10;
constexpr int64_t kTrainCount = 60000;
constexpr int64_t kTestCount = 10000;

// MNIST's geometry: each digit fitted into 20x20 (aspect kept) inside a 28x28 box, which the
// data sets pad to 32.
constexpr double kFit = 20;
constexpr int64_t kBox = 28;
// MNIST's centring puts the center of mass on pixel (14, 14), half a pixel past the box's
// middle (pixel x spans [x, x + 1)).
constexpr double kCenterOfMass = kBox / 2.0 + 0.5;
constexpr int64_t kPadded = 32;
// Glyph texels per output pixel: enough for an area average without aliasing. Per MNIST pixel
// at most 8 (so 128x128 stays sharp and the glyphs small) and at least 1 (so that tiny formats
// still rasterize outlines, not specks).
constexpr double kTexelsPerPixel = 4;
constexpr double kMinOversample = 1, kMaxOversample = 8;

// The augmentation: typeset digits are all alike in size and pose, handwriting is not.
constexpr double kMinScale = 0.8, kMaxScale = 1.15;
constexpr double kMaxRotation = 10 * 3.14159265358979323846 / 180;
constexpr double kMaxShift = 2;

// Train and test draw from disjoint halves of one counter-based stream.
constexpr uint64_t kTestStreamOffset = uint64_t{1} << 62;

// Mono faces whose zero carries a dot or slash are left out: no handwritten zero has one.
const TypesetFont kFonts[] = {
    {"truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"},
    {"truetype/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"},
    {"truetype/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core"},
    {"truetype/dejavu/DejaVuSerif-Bold.ttf", "fonts-dejavu-core"},
    {"truetype/dejavu/DejaVuSans-Oblique.ttf", "fonts-dejavu-extra"},
    {"truetype/dejavu/DejaVuSerif-Italic.ttf", "fonts-dejavu-extra"},
    {"truetype/dejavu/DejaVuSansCondensed-Bold.ttf", "fonts-dejavu-extra"},
    {"truetype/liberation2/LiberationSans-Regular.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSans-Bold.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSans-Italic.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSans-BoldItalic.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSerif-Regular.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSerif-Bold.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSerif-Italic.ttf", "fonts-liberation2"},
    {"truetype/liberation2/LiberationSerif-BoldItalic.ttf", "fonts-liberation2"},
    {"truetype/freefont/FreeSans.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeSansBold.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeSansOblique.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeSerif.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeSerifBold.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeSerifItalic.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeMono.ttf", "fonts-freefont-ttf"},
    {"truetype/freefont/FreeMonoBold.ttf", "fonts-freefont-ttf"},
};

// Output pixels per MNIST pixel: 28 is the bare box, every other side scales the padded 32.
double pixels_per_mnist_pixel(int64_t resolution) {
  return resolution == kBox ? 1.0 : static_cast<double>(resolution) / kPadded;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [lo, hi) from 53 hash bits: exact in double, the same on every machine.
double uniform(uint64_t h, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(h >> 11) * 0x1p-53;
}

// sin and cos of |x| <= 10 degrees by their Taylor series (truncation error below 1e-9): libm's
// results may differ in the last bit between libraries, these do not.
double small_sin(double x) {
  const double x2 = x * x;
  return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42)));
}
double small_cos(double x) {
  const double x2 = x * x;
  return 1 - x2 / 2 * (1 - x2 / 12 * (1 - x2 / 30 * (1 - x2 / 56)));
}

// The largest scale at which a glyph reaching from lo to hi about its center of mass (at scale
// 1) fits MNIST's 28-pixel box, as MNIST's digits do, with the center of mass at most kMaxShift
// from its place.
double fitting_scale(double lo, double hi) {
  return std::min({kBox / (hi - lo), (kCenterOfMass + kMaxShift) / -lo,
                   (kBox - kCenterOfMass + kMaxShift) / hi});
}

// The drawn shift, limited so that the glyph (from lo to hi about its center of mass) stays in
// the box; fitting_scale() leaves room within kMaxShift.
double inside_box(double shift, double lo, double hi) {
  const double min = -kCenterOfMass - lo, max = kBox - kCenterOfMass - hi;
  return std::clamp(std::clamp(shift, min, max), -kMaxShift, kMaxShift);
}

// One digit of one face: antialiased coverage scaled so that its larger side is kFit *
// `oversample` texels, with its center of mass in texel coordinates (texel i spans [i, i + 1)).
struct Glyph {
  int width = 0, height = 0;
  std::vector<unsigned char> coverage;  // [height, width], 0..255
  double com_x = 0, com_y = 0;

  double at(int x, int y) const {
    if (x < 0 || y < 0 || x >= width || y >= height) return 0;
    return coverage[static_cast<size_t>(y) * width + x];
  }
  // Bilinear between texel centres; zero outside.
  double sample(double x, double y) const {
    const double fx = x - 0.5, fy = y - 0.5;
    const double x0 = std::floor(fx), y0 = std::floor(fy);
    const double ax = fx - x0, ay = fy - y0;
    const int ix = static_cast<int>(x0), iy = static_cast<int>(y0);
    return (1 - ay) * ((1 - ax) * at(ix, iy) + ax * at(ix + 1, iy)) +
           ay * ((1 - ax) * at(ix, iy + 1) + ax * at(ix + 1, iy + 1));
  }
};

std::vector<unsigned char> read_font(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kOp, ": cannot open font '", path, "': ", std::strerror(errno));
  return models::detail::read_stream<std::vector<unsigned char>>(
      in, ge::detail::concat(kOp, ": reading font '", path, "' failed"));
}

uint32_t big_endian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// stb_truetype trusts its input's offsets; checking the sfnt header and table directory first
// turns a truncated or foreign file into an error instead of a read past the buffer.
void check_sfnt(const std::string& path, const std::vector<unsigned char>& font) {
  if (font.size() < 12)
    fail(kOp, ": font '", path, "' is truncated: ", font.size(), " bytes, too short for a header");
  const uint32_t version = big_endian32(font.data());
  if (version != 0x00010000u && version != 0x74727565u /* true */ &&
      version != 0x4F54544Fu /* OTTO */)
    fail(kOp, ": '", path, "' is not a TrueType or OpenType font (sfnt version 0x", std::hex,
         version, ")");
  const size_t tables = (size_t{font[4]} << 8) | font[5];
  if (font.size() < 12 + 16 * tables)
    fail(kOp, ": font '", path, "' is truncated: its directory lists ", tables,
         " tables, the file has ", font.size(), " bytes");
  for (size_t t = 0; t < tables; ++t) {
    const unsigned char* record = font.data() + 12 + 16 * t;
    const uint64_t end = uint64_t{big_endian32(record + 8)} + big_endian32(record + 12);
    if (end > font.size())
      fail(kOp, ": font '", path, "' is truncated: table '", std::string(record, record + 4),
           "' ends at byte ", end, ", the file has ", font.size());
  }
}

Glyph rasterize(const std::string& path, const std::vector<unsigned char>& font,
                const stbtt_fontinfo& info, int digit, double oversample) {
  // stb_truetype's own lookup and outline reader trust the file; these check every read first.
  const int index = truetype_glyph_index(kOp, path, font, info.index_map, '0' + digit);
  if (index == 0) fail(kOp, ": font '", path, "' has no glyph for the digit ", digit);
  check_truetype_glyph(kOp, path, font, index);
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  if (!stbtt_GetGlyphBox(&info, index, &x0, &y0, &x1, &y1) || x1 <= x0 || y1 <= y0)
    fail(kOp, ": font '", path, "' has an empty outline for the digit ", digit);
  const float scale = static_cast<float>(kFit * oversample / std::max(x1 - x0, y1 - y0));
  Glyph g;
  int xoff = 0, yoff = 0;
  unsigned char* bitmap =
      stbtt_GetGlyphBitmap(&info, scale, scale, index, &g.width, &g.height, &xoff, &yoff);
  if (bitmap != nullptr) {
    g.coverage.assign(bitmap, bitmap + static_cast<size_t>(g.width) * g.height);
    stbtt_FreeBitmap(bitmap, nullptr);
  }
  double ink = 0, sx = 0, sy = 0;
  for (int y = 0; y < g.height; ++y)
    for (int x = 0; x < g.width; ++x) {
      const double c = g.at(x, y);
      ink += c;
      sx += c * (x + 0.5);
      sy += c * (y + 0.5);
    }
  if (ink == 0) fail(kOp, ": font '", path, "' renders the digit ", digit, " without ink");
  g.com_x = sx / ink;
  g.com_y = sy / ink;
  return g;
}

// The ten digits of the font file `font`, in order; errors name `path`.
std::vector<Glyph> face_digits(const std::string& path, const std::vector<unsigned char>& font,
                               double oversample) {
  check_sfnt(path, font);
  check_truetype_tables(kOp, path, font);
  stbtt_fontinfo info;
  if (!stbtt_InitFont(&info, font.data(), 0))
    fail(kOp, ": stb_truetype cannot read font '", path, "' (a required table is missing)");
  std::vector<Glyph> digits;
  for (int d = 0; d < 10; ++d)
    digits.push_back(rasterize(path, font, info, d, oversample));
  return digits;
}

// The ten digits of the font at `path`, in order.
std::vector<Glyph> load_face(const std::string& path, double oversample) {
  return face_digits(path, read_font(path), oversample);
}

double oversample_for(const ImageFormat& format) {
  return std::clamp(kTexelsPerPixel * pixels_per_mnist_pixel(format.resolution), kMinOversample,
                    kMaxOversample);
}

class TypesetDigits final : public Dataset {
 public:
  TypesetDigits(std::vector<Glyph> glyphs, double oversample, const ImageFormat& format,
                int64_t count, uint64_t seed, uint64_t stream_offset)
      : glyphs_(std::move(glyphs)),
        oversample_(oversample),
        faces_(static_cast<int64_t>(glyphs_.size()) / 10),
        format_(format),
        count_(count),
        seed_(seed),
        stream_offset_(stream_offset) {}

  std::string name() const override { return "typeset"; }
  int64_t size() const override { return count_; }
  Shape sample_shape() const override {
    return {format_.channels, format_.resolution, format_.resolution};
  }
  int64_t num_classes() const override { return 10; }
  int64_t label(int64_t index) const override {
    check_index(index);
    return digit(key(index));
  }

  void get(int64_t index, float* out) const override {
    check_index(index);
    const uint64_t k = key(index);
    const Glyph& g = glyphs_[static_cast<size_t>(face(k) * 10 + digit(k))];
    const double angle = uniform(draw(k, 3), -kMaxRotation, kMaxRotation);
    const double cs = small_cos(angle), sn = small_sin(angle);

    // The glyph rectangle about its center of mass, rotated, in MNIST pixels at scale 1; a
    // drawn scale too large for the box is reduced.
    double lo_x = 0, lo_y = 0, hi_x = 0, hi_y = 0;
    for (const double cx : {0.0, static_cast<double>(g.width)})
      for (const double cy : {0.0, static_cast<double>(g.height)}) {
        const double dx = (cx - g.com_x) / oversample_, dy = (cy - g.com_y) / oversample_;
        const double x = cs * dx - sn * dy, y = sn * dx + cs * dy;
        lo_x = std::min(lo_x, x), hi_x = std::max(hi_x, x);
        lo_y = std::min(lo_y, y), hi_y = std::max(hi_y, y);
      }
    const double scale = std::min({uniform(draw(k, 2), kMinScale, kMaxScale),
                                   fitting_scale(lo_x, hi_x), fitting_scale(lo_y, hi_y)});
    lo_x *= scale, hi_x *= scale, lo_y *= scale, hi_y *= scale;
    const double shift_x = inside_box(uniform(draw(k, 4), -kMaxShift, kMaxShift), lo_x, hi_x);
    const double shift_y = inside_box(uniform(draw(k, 5), -kMaxShift, kMaxShift), lo_y, hi_y);

    const int64_t r = format_.resolution;
    const double px = pixels_per_mnist_pixel(r);
    const double centre = static_cast<double>(r) / 2 + (kCenterOfMass - kBox / 2.0) * px;
    // Output position p maps to texel com + (oversample / scale) R(-angle) ((p - centre) / px -
    // shift): the center of mass lands on MNIST's, shifted.
    const double texels = oversample_ / scale / px;  // texels per output pixel
    const double ox = centre + shift_x * px, oy = centre + shift_y * px;
    auto texel = [&](double x, double y, double& tx, double& ty) {
      const double ux = (x - ox) * texels, uy = (y - oy) * texels;
      tx = g.com_x + cs * ux + sn * uy;
      ty = g.com_y - sn * ux + cs * uy;
    };
    // Only pixels the glyph rectangle reaches can have ink (bilinear sampling spreads it half a
    // texel further, less than a pixel).
    auto first = [&](double o, double lo) {
      return std::clamp<int64_t>(static_cast<int64_t>(std::floor(o + lo * px)) - 1, 0, r);
    };
    auto last = [&](double o, double hi) {
      return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(o + hi * px)) + 1, 0, r);
    };
    const int64_t x_begin = first(ox, lo_x), x_end = last(ox, hi_x);
    const int64_t y_begin = first(oy, lo_y), y_end = last(oy, hi_y);

    // A box filter over n x n bilinear samples, about two texels apart: antialiasing that
    // averages every texel the pixel covers.
    const int n = static_cast<int>(std::clamp(std::ceil(texels / 2), 2.0, 8.0));
    const double norm = 2.0 / (255.0 * n * n);
    std::fill(out, out + r * r, -1.f);
    for (int64_t y = y_begin; y < y_end; ++y)
      for (int64_t x = x_begin; x < x_end; ++x) {
        double sum = 0;
        for (int b = 0; b < n; ++b)
          for (int a = 0; a < n; ++a) {
            double tx = 0, ty = 0;
            texel(static_cast<double>(x) + (a + 0.5) / n, static_cast<double>(y) + (b + 0.5) / n,
                  tx, ty);
            sum += g.sample(tx, ty);
          }
        out[y * r + x] = static_cast<float>(std::min(sum * norm - 1, 1.0));
      }
    for (int64_t c = 1; c < format_.channels; ++c)
      std::copy(out, out + r * r, out + c * r * r);
  }

 private:
  void check_index(int64_t index) const {
    GE_CHECK(index >= 0 && index < count_, "typeset: sample index ", index, " is out of range [0, ",
             count_, ")");
  }
  uint64_t key(int64_t index) const {
    return splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(index) + stream_offset_));
  }
  static uint64_t draw(uint64_t key, uint64_t which) { return splitmix64(key + which); }
  // Modulo bias is below 2^-59.
  static int64_t digit(uint64_t key) { return static_cast<int64_t>(draw(key, 0) % 10); }
  int64_t face(uint64_t key) const {
    return static_cast<int64_t>(draw(key, 1) % static_cast<uint64_t>(faces_));
  }

  std::vector<Glyph> glyphs_;  // [face][digit]
  double oversample_;
  int64_t faces_;
  ImageFormat format_;
  int64_t count_;
  uint64_t seed_;
  uint64_t stream_offset_;
};

}  // namespace

void check_typeset_font(const std::string& name, const unsigned char* data, size_t size,
                        const ImageFormat& format) {
  check_image_format(kOp, format);
  (void)face_digits(name, std::vector<unsigned char>(data, data + size), oversample_for(format));
}

std::vector<TypesetFont> typeset_fonts() {
  return {std::begin(kFonts), std::end(kFonts)};
}

std::shared_ptr<Dataset> make_typeset_digits(const ImageFormat& format, int64_t count,
                                             uint64_t seed, const std::string& split,
                                             const std::string& font_dir) {
  GE_CHECK(split == "train" || split == "test", kOp,
           ": expected split \"train\" or \"test\", got \"", split, "\"");
  check_image_format(kOp, format);
  GE_CHECK(count >= 0, kOp, ": expected a sample count >= 1 (or 0 for the split's default), got ",
           count);
  if (count == 0) count = split == "train" ? kTrainCount : kTestCount;

  const double oversample = oversample_for(format);
  std::vector<Glyph> glyphs;
  std::vector<std::string> missing;
  std::set<std::string> packages;
  for (const TypesetFont& font : kFonts) {
    const std::string path = (std::filesystem::path(font_dir) / font.file).string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      missing.push_back(path);
      packages.insert(font.package);
      continue;
    }
    std::vector<Glyph> digits = load_face(path, oversample);
    std::move(digits.begin(), digits.end(), std::back_inserter(glyphs));
  }
  const int64_t found = static_cast<int64_t>(glyphs.size()) / 10;
  if (found < kMinFaces) {
    std::string files, names;
    for (const std::string& m : missing)
      files += (files.empty() ? "" : ", ") + m;
    for (const std::string& p : packages)
      names += (names.empty() ? "" : " ") + p;
    fail(kOp, ": found ", found, " of the ", std::size(kFonts), " font files it draws from under '",
         font_dir, "', at least ", kMinFaces, " are needed; missing: ", files,
         " (install the Debian packages ", names, "; scripts/setup.sh does)");
  }
  return std::make_shared<TypesetDigits>(std::move(glyphs), oversample, format, count, seed,
                                         split == "train" ? 0 : kTestStreamOffset);
}

}  // namespace ge::models::data

// Inputs the fuzz targets (fuzz/) found crashing or misbehaving, each reduced to its defect and
// fed to the public entry point it reached: every one must now end in ge::Error naming it.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/npy.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/safetensors.h"
#include "support/reference.h"

namespace ge::models {
namespace {

using datatest::ScratchDir;
using ge::testing::error_of;

::testing::AssertionResult has(const std::string& message, const std::string& part) {
  if (message.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << message << "' does not contain '" << part << "'";
}

std::string write_file(const ScratchDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = (std::filesystem::path(dir.str()) / name).string();
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string be16(uint32_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string be32(uint32_t v) {
  return be16(v >> 16) + be16(v);
}

// --- JSON: integers given as floats beyond the integer type (undefined behaviour in the cast)

TEST(FuzzRegression, TrainOptionsRefuseFloatsForIntegerKeys) {
  EXPECT_TRUE(has(error_of([] { train::train_options_from_json(R"({"steps": 1e300})"); }),
                  "key 'steps' is 1e+300, expected an integer"));
  EXPECT_TRUE(has(error_of([] { train::train_options_from_json(R"({"batch": 2.5})"); }),
                  "key 'batch' is 2.5, expected an integer"));
  EXPECT_TRUE(has(error_of([] { train::train_options_from_json(R"({"seed": -1})"); }),
                  "key 'seed' is -1, expected a non-negative integer"));
  EXPECT_TRUE(has(error_of([] { train::train_options_from_json(R"({"steps": "x"})"); }),
                  "key 'steps' has the wrong type (string)"));
  EXPECT_EQ(train::train_options_from_json(R"({"steps": 7})").steps, 7);
}

std::string checkpoint_json(const std::string& step, const std::string& seed,
                            const std::string& param_steps) {
  return R"({"format": "ganengine-gan-checkpoint", "version": 2, "step": )" + step +
         R"(, "rng": {"seed": )" + seed + R"(, "offset": 0}, "batch": 4, "loaders": {},
  "optimizers": {"G": {"steps": 1, "param_steps": )" +
         param_steps + R"(, "lr": 0.1}}, "elapsed_s": 0, "gan_options": {},
  "train_options": {}, "tensors": {"file": "checkpoint.safetensors", "bytes": 8,
  "fnv1a64": "cbf29ce484222325"}})";
}

TEST(FuzzRegression, CheckpointJsonRefusesFloatsForIntegerFields) {
  const std::string file = "run/checkpoint.json";
  EXPECT_EQ(train::parse_checkpoint_json(checkpoint_json("3", "1", "[1]"), file).step, 3);
  EXPECT_TRUE(has(
      error_of([&] { train::parse_checkpoint_json(checkpoint_json("1e300", "1", "[1]"), file); }),
      "run/checkpoint.json: field 'step' is 1e+300, expected an integer in"));
  EXPECT_TRUE(has(
      error_of([&] { train::parse_checkpoint_json(checkpoint_json("3", "-1.0", "[1]"), file); }),
      "field 'rng.seed' is -1.0, expected an integer in [0, "));
  EXPECT_TRUE(has(
      error_of([&] { train::parse_checkpoint_json(checkpoint_json("3", "1", "[1, 1e30]"), file); }),
      "field 'optimizers.G.param_steps' is 1e+30, expected an integer in"));
  EXPECT_TRUE(has(error_of([&] { train::parse_checkpoint_json("{", file); }),
                  "run/checkpoint.json: not valid JSON"));
}

// --- shapes with a zero dimension whose other dimensions overflow the strides

TEST(FuzzRegression, NpyShapeWithZeroAndHugeDimensions) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, "
      "4611686018427387904), }";
  dict.append(118 - dict.size(), ' ');
  dict += '\n';
  const std::string npy = std::string("\x93NUMPY\x01\x00", 8) + char(dict.size()) + '\0' + dict;
  EXPECT_TRUE(has(error_of([&] { load_npy_from_memory(npy, "zero.npy"); }),
                  "load_npy: 'zero.npy': shape (0, 4611686018427387904, 4611686018427387904) is "
                  "too large"));
}

TEST(FuzzRegression, SafetensorsShapeWithZeroAndHugeDimensions) {
  const std::string header =
      R"({"t":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}})";
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  file += header;
  EXPECT_TRUE(has(
      error_of([&] { load_safetensors_from_memory(file.data(), file.size(), "zero.safetensors"); }),
      "entry 't' has shape [0,4611686018427387904,4] whose nonzero dimensions "
      "multiply past int64"));
}

// --- a directory where a file is expected: reading it threw std::ios_base::failure

TEST(FuzzRegression, DirectoriesInPlaceOfFilesThrowGeError) {
  ScratchDir dir;
  std::filesystem::create_directories(std::filesystem::path(dir.str()) / "train-images-idx3-ubyte");
  EXPECT_TRUE(has(error_of([&] {
                    data::load_mnist(dir.str(), {28, 1});
                  }),
                  "train-images-idx3-ubyte' failed"));
  EXPECT_TRUE(has(error_of([&] { load_npy(dir.str()); }), "load_npy: reading '"));
  const std::string images = (std::filesystem::path(dir.str()) / "images").string();
  std::filesystem::create_directories(std::filesystem::path(images) / "a.png");
  EXPECT_TRUE(has(error_of([&] { data::read_image(images + "/a.png", 1); }),
                  "cannot decode '" + images + "/a.png': reading it failed"));
}

// --- a data set spec with a NUL: the system would open the path before it

TEST(FuzzRegression, DataSpecsWithNulAreRefused) {
  const std::string spec("images:images\0i", 15);
  EXPECT_TRUE(has(error_of([&] {
                    data::open_dataset(spec, {28, 1});
                  }),
                  "expected a data set spec without NUL characters, got one at offset 13 after "
                  "\"images:images\""));
  EXPECT_TRUE(has(error_of([&] {
                    data::open_patch_dataset(spec, {28, 1});
                  }),
                  "without NUL characters"));
}

// --- images

// A JPEG whose Huffman table declares 16 x 17 = 272 codes: stb_image 2.27 wrote them past its
// 257-entry table.
TEST(FuzzRegression, JpegHuffmanTableWithTooManyCodes) {
  ScratchDir dir;
  const std::string jpeg = std::string("\xff\xd8\xff\xc4\x00\x13\x00", 7) + std::string(16, '\x11');
  const std::string path = write_file(dir, "dht.jpg", jpeg);
  for (int64_t channels : {1, 3})
    EXPECT_TRUE(has(error_of([&] { data::read_image(path, channels); }), "bad DHT header"));
}

// A JPEG (kept in the fuzz corpus) whose Huffman codes map past the table's 256 symbols:
// stb_image 2.27 used the symbol as an index, and a debug build stopped on stb's assertion. It
// decodes now (to garbage) or is refused; under the sanitizers, without touching memory it
// does not own.
TEST(FuzzRegression, JpegHuffmanCodeBeyondTheSymbolTable) {
  const std::string path =
      std::string(GE_SOURCE_DIR) + "/fuzz/corpus/fuzz_image/huffman_symbol_out_of_table.jpg";
  for (int64_t channels : {1, 3}) {
    const std::string error = error_of([&] {
      const data::ImageData image = data::read_image(path, channels);
      EXPECT_EQ(image.channels, channels);
    });
    EXPECT_TRUE(error == "<no error>" || has(error, "huffman_symbol_out_of_table.jpg")) << error;
  }
}

// A PNG whose IDAT chunk declares 1.8 GB: stb_image allocated that much before reading it.
TEST(FuzzRegression, PngChunkLongerThanTheFile) {
  ScratchDir dir;
  const std::string ihdr_body = be32(2) + be32(2) + std::string("\x08\x00\x00\x00\x00", 5);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + ihdr_body +
                          be32(0) + be32(0x6e000000) + "IDAT" + std::string(16, '\0');
  const std::string path = write_file(dir, "big_idat.png", png);
  EXPECT_TRUE(has(error_of([&] { data::read_image(path, 1); }),
                  "its PNG chunk 'IDAT' at byte 33 declares 1845493760 bytes and a checksum, 16 "
                  "bytes follow"));
}

// A 54-byte BMP header declaring 16384 x 16384 pixels: stb_image would allocate and decode
// 2^28 zero-filled pixels.
TEST(FuzzRegression, ImageHeaderClaimingTooManyPixels) {
  ScratchDir dir;
  auto le32 = [](uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  const std::string bmp = "BM" + le32(70) + le32(0) + le32(54) + le32(40) + le32(16384) +
                          le32(16384) + std::string("\x01\x00\x18\x00", 4) + le32(0) + le32(0) +
                          le32(2835) + le32(2835) + le32(0) + le32(0) + std::string(16, '\0');
  const std::string path = write_file(dir, "huge.bmp", bmp);
  EXPECT_TRUE(has(error_of([&] { data::read_image(path, 3); }),
                  "its header says 16384x16384 pixels, expected at most 67108864"));
}

// --- fonts: stb_truetype reads every offset of a font unchecked

// A TrueType font of the ten digits (glyphs 1-10, one square contour each) that tests corrupt
// one field at a time: `glyph` replaces the outline of the digit 0's glyph, `cmap_format` the
// subtable's format, `loca_end` the end offset of glyph 1.
struct FontParts {
  std::string glyph;
  uint16_t cmap_format = 4;
  int loca_end = -1;
};

std::string square_glyph() {
  std::string g = be16(1) + be16(100) + be16(100) + be16(500) + be16(500) + be16(3) + be16(0);
  g += std::string(4, '\x01');  // on-curve, 16-bit deltas
  for (int16_t d : {100, 0, 400, 0})
    g += be16(static_cast<uint16_t>(d));
  for (int16_t d : {100, 400, 0, -400})
    g += be16(static_cast<uint16_t>(d));
  return g;
}

std::string tiny_font(const FontParts& parts) {
  std::vector<std::string> glyphs{""};
  for (int d = 0; d < 10; ++d)
    glyphs.push_back(d == 0 && !parts.glyph.empty() ? parts.glyph : square_glyph());
  std::string glyf, loca;
  for (std::string& g : glyphs) {
    if (g.size() % 2) g += '\0';
    loca += be16(static_cast<uint32_t>(glyf.size() / 2));
    glyf += g;
  }
  loca += be16(static_cast<uint32_t>(glyf.size() / 2));
  if (parts.loca_end >= 0) loca.replace(4, 2, be16(static_cast<uint32_t>(parts.loca_end)));
  const uint32_t n = static_cast<uint32_t>(glyphs.size());
  // cmap format 4: '0'..'9' to glyphs 1..10, then the 0xFFFF end segment.
  std::string sub = be16(parts.cmap_format) + be16(32) + be16(0) + be16(4) + be16(4) + be16(1) +
                    be16(0) + be16(0x39) + be16(0xffff) + be16(0) + be16(0x30) + be16(0xffff) +
                    be16((1 - 0x30) & 0xffff) + be16(1) + be16(0) + be16(0);
  const std::string cmap = be16(0) + be16(1) + be16(3) + be16(1) + be32(12) + sub;
  std::string head = be32(0x10000) + be32(0x10000) + be32(0) + be32(0x5f0f3cf5) + be16(0) +
                     be16(1000) + std::string(16, '\0') + be16(0) + be16(0) + be16(700) +
                     be16(700) + be16(0) + be16(8) + be16(2) + be16(0) + be16(0);
  const std::string hhea =
      be32(0x10000) + be16(800) + be16(0xff38) + be16(0) + std::string(24, '\0') + be16(n);
  std::string hmtx;
  for (uint32_t i = 0; i < n; ++i)
    hmtx += be16(700) + be16(0);
  const std::string maxp = be32(0x5000) + be16(n);
  const std::vector<std::pair<std::string, std::string>> tables = {
      {"cmap", cmap}, {"glyf", glyf}, {"head", head}, {"hhea", hhea},
      {"hmtx", hmtx}, {"loca", loca}, {"maxp", maxp}};
  std::string directory, data;
  const size_t start = 12 + 16 * tables.size();
  for (const auto& [tag, body] : tables) {
    directory += tag + be32(0) + be32(static_cast<uint32_t>(start + data.size())) +
                 be32(static_cast<uint32_t>(body.size()));
    data += body + std::string((4 - body.size() % 4) % 4, '\0');
  }
  return be32(0x10000) + be16(static_cast<uint32_t>(tables.size())) + be16(64) + be16(2) +
         be16(48) + directory + data;
}

// make_typeset_digits reads each face it finds; one corrupt face is enough to fail.
std::string typeset_error(const std::string& font) {
  ScratchDir dir;
  write_file(dir, data::typeset_fonts().front().file, font);
  return error_of([&] { data::make_typeset_digits({28, 1}, 0, 0, "train", dir.str()); });
}

TEST(FuzzRegression, TinyFontIsReadUntilTheFaceCount) {
  // The intact font loads: the error is the missing faces, not the file.
  EXPECT_TRUE(has(typeset_error(tiny_font({"", 4, -1})), "found 1 of the"));
}

TEST(FuzzRegression, FontCmapFormatTwoIsRefused) {
  // stb_truetype asserts on format 2 (abort).
  EXPECT_TRUE(has(typeset_error(tiny_font({"", 2, -1})),
                  "is corrupt: its cmap subtable has format 2, expected 0, 4, 6, 12 or 13"));
}

TEST(FuzzRegression, FontGlyphBeyondTheGlyfTable) {
  EXPECT_TRUE(has(typeset_error(tiny_font({"", 4, 0x7fff})),
                  "is corrupt: glyph 1 spans [0, 65534) of the"));
}

TEST(FuzzRegression, FontGlyphOutlineBeyondItsBytes) {
  // 200 contours declared in a 22-byte glyph.
  std::string g = square_glyph();
  g.replace(0, 2, be16(200));
  EXPECT_TRUE(has(typeset_error(tiny_font({g, 4, -1})), "is corrupt: glyph 1 ends after"));
}

TEST(FuzzRegression, FontCompositeGlyphReferringToItself) {
  // flags: 16-bit offsets (1), x/y offsets (2), more components (32) not set; component: itself.
  const std::string g =
      be16(0xffff) + be16(100) + be16(100) + be16(500) + be16(500) + be16(3) + be16(1) + be32(0);
  EXPECT_TRUE(has(typeset_error(tiny_font({g, 4, -1})), "nest deeper than 8 levels"));
}

TEST(FuzzRegression, FontCompositeWithPointMatchingIsRefused) {
  // stb_truetype asserts when a component is placed by point numbers (flags without bit 1).
  const std::string g =
      be16(0xffff) + be16(100) + be16(100) + be16(500) + be16(500) + be16(0) + be16(2) + be16(0);
  EXPECT_TRUE(has(typeset_error(tiny_font({g, 4, -1})), "by point matching"));
}

TEST(FuzzRegression, FontContourOfOneOffCurvePointAtTheEnd) {
  // Two contours: the square, then a lone off-curve point; stb_truetype read the point after it,
  // past its vertex array.
  std::string g = be16(2) + be16(100) + be16(100) + be16(500) + be16(500) + be16(3) + be16(4) +
                  be16(0) + std::string(4, '\x01') + std::string(1, '\x00');
  for (int16_t d : {100, 0, 400, 0, -200})
    g += be16(static_cast<uint16_t>(d));
  for (int16_t d : {100, 400, 0, -400, 200})
    g += be16(static_cast<uint16_t>(d));
  EXPECT_TRUE(
      has(typeset_error(tiny_font({g, 4, -1})), "ends with a contour of one off-curve point"));
}

TEST(FuzzRegression, FontGlyphBoxBelowTheBaseline) {
  // The header box ends at y 0 while the outline reaches y 500: stb_truetype's rasterizer
  // asserted on the edges above its bitmap.
  std::string g = square_glyph();
  g.replace(2, 8, be16(100) + be16(static_cast<uint16_t>(-100)) + be16(500) + be16(0));
  EXPECT_TRUE(has(typeset_error(tiny_font({g, 4, -1})),
                  "glyph 1's bounding box ends at y 0, expected it to reach above the baseline"));
}

}  // namespace
}  // namespace ge::models

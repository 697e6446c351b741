// The one translation unit that compiles stb's image decoder, encoder and resizer and its font
// rasterizer. stb is third-party C written for many compilers; its warnings are silenced here
// only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"

// stb asserts on some malformed input (a JPEG whose Huffman codes contradict their table), which
// would abort a debug build on a bad file. Every build decodes as the release one does: with the
// bounds checks patched in (models/CMakeLists.txt) such a file decodes to garbage or is refused,
// and the sanitizers still see any memory error.
#define STBI_ASSERT(x) ((void)0)
// The font rasterizer likewise asserts on outlines that stray outside their glyph's box (edges a
// rounding step above the scanline, coverage a little over one), which release builds ignore and
// draw. Fonts are checked before stb_truetype reads them (truetype_check.h); what is left is
// drawn as in release builds, not aborted.
#define STBTT_assert(x) ((void)0)
// Only the formats the data sets read: PNG, JPEG, BMP (stb's other decoders are not compiled).
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>

#define STB_TRUETYPE_IMPLEMENTATION
#include <stb/stb_truetype.h>

#pragma GCC diagnostic pop

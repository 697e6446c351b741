#pragma once
// Bounds checks for the parts of a TrueType file that stb_truetype reads. stb_truetype trusts
// every offset and count in a font (its documentation says not to use it on untrusted files), so
// the typeset digits check each table, cmap subtable and glyph it will touch, and refuse the file
// with an error naming the defect, before stb_truetype sees it.
#include <cstdint>
#include <string>
#include <vector>

namespace ge::models::data {

// The sfnt header, the table directory and the tables stbtt_InitFont reads (cmap's encoding
// records, head, maxp): in the file and long enough. Outlines must be TrueType (glyf and loca);
// CFF-flavoured OpenType is refused. Errors name `op` and `path`.
void check_truetype_tables(const char* op, const std::string& path,
                           const std::vector<unsigned char>& font);

// The glyph stbtt_FindGlyphIndex would map `codepoint` to through the cmap subtable at
// `index_map` (stbtt_fontinfo::index_map), with every read checked; 0 when the font has none.
int truetype_glyph_index(const char* op, const std::string& path,
                         const std::vector<unsigned char>& font, uint32_t index_map, int codepoint);

// The outline of `glyph` as stbtt_GetGlyphBox / stbtt_GetGlyphShape read it (its loca entries,
// its glyf bytes, the components of a composite glyph, recursively): in bounds, with coordinates
// that fit stb_truetype's 16-bit vertices and a bounded number of points.
void check_truetype_glyph(const char* op, const std::string& path,
                          const std::vector<unsigned char>& font, int glyph);

}  // namespace ge::models::data

#pragma once
// Crash-safe file replacement: a reader, or a crash, sees the old file or the new one, never
// half of one, and an existing file survives a failed write.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ge::models::detail {

// Replaces `path` with `bytes` through a unique temporary file beside it, flushed to disk before
// the rename. Errors name `op`, `path` and the system's reason.
void write_file_atomic(const char* op, const std::string& path, std::string_view bytes);

// Replaces a pair of files whose `text` file describes the other one: moves `staged` (complete
// and flushed, e.g. by save_safetensors) over `target`, then `text` over `text_path`. The pair
// disagrees only between the two renames. If `text` cannot be written, `staged` is removed and
// neither file changes.
void replace_file_pair(const char* op, const std::string& staged, const std::string& target,
                       const std::string& text_path, std::string_view text);

// Parses the JSON file at `path`. A file that cannot be opened throws `path` + ": " + `missing`
// (which says what the file should have been and how to make one); one that does not parse
// throws naming the file and the parser's reason.
nlohmann::json read_json_file(const std::string& path, const std::string& missing);

}  // namespace ge::models::detail

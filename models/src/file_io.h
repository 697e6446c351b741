#pragma once
// Crash-safe file replacement: a reader, or a crash, sees the old file or the new one, never
// half of one, and an existing file survives a failed write. Also the lock that keeps a second
// writer out of a directory, and the fault points through which tests crash or fail a write
// between its steps.
#include <functional>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ganengine/error.h"

namespace ge::models::detail {

// Replaces `path` with `bytes` through a unique temporary file beside it, flushed to disk before
// the rename; the directory is flushed after it, so the new name survives a power loss too.
// Errors name `op`, `path`, the step that failed and the system's reason; a failure before the
// rename leaves `path` as it was and no temporary file behind.
void write_file_atomic(const char* op, const std::string& path, std::string_view bytes);

// Replaces a pair of files whose `text` file describes the other one: moves `staged` (complete
// and flushed, e.g. by save_safetensors) over `target`, and `text` over `text_path`. `text` is
// first made durable as pair_next_text(text_path); then `staged` is renamed over `target` (the
// commit), then the next text over `text_path`. A crash between the two renames leaves the new
// `target` with the new text beside it under pair_next_text(text_path), so a reader that finds
// `text_path` not describing `target` reads that file instead (read_checkpoint does). A failure
// before the commit removes `staged` and leaves both files as they were.
void replace_file_pair(const char* op, const std::string& staged, const std::string& target,
                       const std::string& text_path, std::string_view text);

// Where replace_file_pair keeps the new text of `text_path` until the pair is committed:
// `text_path` + ".next".
std::string pair_next_text(const std::string& text_path);

// The rest of `in`, a stream opened on a file, as bytes (std::string or std::vector<unsigned
// char>). A failed read throws `failed` (which names the file), followed by ": <reason>" when the
// stream gives one: a directory opens, then throws std::ios_base::failure on the first read.
template <typename Bytes>
Bytes read_stream(std::ifstream& in, const std::string& failed) {
  Bytes bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure& e) {
    fail(failed, ": ", e.what());
  }
  if (in.bad()) fail(failed);
  return bytes;
}

// Parses the JSON file at `path`. A file that cannot be opened throws `path` + ": " + `missing`
// (which says what the file should have been and how to make one); one that does not parse
// throws naming the file and the parser's reason.
nlohmann::json read_json_file(const std::string& path, const std::string& missing);

// An exclusive lock on a directory, held through an open lock file until destroyed.
class DirectoryLock {
 public:
  DirectoryLock() = default;
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();
  bool held() const { return fd_ >= 0; }
  void release();

 private:
  friend DirectoryLock lock_directory(const char*, const std::string&, const std::string&);
  int fd_ = -1;
};

// Locks `dir`/`name` (created if missing) with flock(LOCK_EX | LOCK_NB) and writes this process's
// id into it. A lock another open file holds, in this process or another, throws ge::Error naming
// `op`, the directory and the holder's process id. The kernel drops the lock when the holder
// exits or is killed, so a crash leaves no stale lock; the file itself stays.
DirectoryLock lock_directory(const char* op, const std::string& dir, const std::string& name);

// Test hook: fault injection. The writers above pass named fault points; a test makes the
// `count`-th arrival at one of them fail with an errno (through the same error path as the
// failing system call, so the message is the real one) or kill the process with SIGKILL (no
// cleanup, no flush: a crash). Points, in the order one write reaches them:
//   create     before the temporary file is created   (error: open(2) fails)
//   write      before its bytes are written           (error: write(2) fails)
//   fsync      bytes written, before fsync(2)          (error: fsync(2) fails)
//   rename     flushed, before rename(2)               (error: rename(2) fails)
//   dir-fsync  renamed, before the directory's fsync  (error: that fsync fails)
//   done       the write is complete
// replace_file_pair passes create ... dir-fsync for the next text file, then:
//   commit           before `staged` is renamed over `target`  (error: that rename fails)
//   commit-text      between the two renames                   (error: the second rename fails)
//   pair-dir-fsync   both renamed, before the directory's fsync
//   pair-done        the pair is complete
// Each point is named "<op>/<point>", e.g. "write_checkpoint/commit".
//
// In another process the environment variable GE_FAULT_INJECT, read once at the first fault
// point, sets the hook: a comma-separated list of POINT:N:ACTION, where POINT is "<op>/<point>"
// or a bare point (any op), N >= 1 counts the arrivals at POINT in this process, and ACTION is
// abort (SIGKILL), enospc or eio. Example: GE_FAULT_INJECT=write_checkpoint/commit:3:abort.
//
// The hook returns the errno to inject, 0 for none; it may not return (abort).
using FaultHook = std::function<int(std::string_view point)>;
// Replaces the hook for this process (an empty one: no faults, the environment is ignored).
void set_fault_hook(FaultHook hook);
// The hook GE_FAULT_INJECT-style `spec` describes; malformed specs throw ge::Error.
FaultHook fault_hook_from_spec(const std::string& spec);

}  // namespace ge::models::detail

#include "file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "ganengine/error.h"

namespace ge::models::detail {
namespace {

std::filesystem::path directory_of(const std::string& path) {
  const std::filesystem::path target(path);
  return target.has_parent_path() ? target.parent_path() : ".";
}

// Writes `bytes` to a new temporary file beside `path` and flushes it to disk; returns its name.
// The name is unique across threads and processes (O_EXCL), so concurrent writers of one path
// never share a temporary file.
std::string write_temp(const char* op, const std::string& path, std::string_view bytes) {
  GE_CHECK(!path.empty(), op, ": expected a file path, got an empty string");
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path dir = directory_of(path);
  const std::string name = std::filesystem::path(path).filename().string();
  std::string tmp;
  int fd = -1;
  std::random_device rd;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = (dir / ge::detail::concat(".", name, ".tmp-", ::getpid(), "-", counter++, "-", rd()))
              .string();
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      fail(op, ": '", path, "': cannot create a temporary file in '", dir.string(),
           "': ", std::strerror(errno));
  }
  if (fd < 0)
    fail(op, ": '", path, "': cannot create a unique temporary file in '", dir.string(), "'");
  const char* p = bytes.data();
  size_t left = bytes.size();
  const char* failed = nullptr;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = "writing";
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (failed == nullptr && ::fsync(fd) != 0) failed = "flushing";
  int err = failed != nullptr ? errno : 0;
  if (::close(fd) != 0 && failed == nullptr) {
    failed = "closing";
    err = errno;
  }
  if (failed != nullptr) {
    ::unlink(tmp.c_str());
    fail(op, ": '", path, "': ", failed, " '", tmp, "' failed: ", std::strerror(err));
  }
  return tmp;
}

void rename_over(const char* op, const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    ::unlink(from.c_str());
    fail(op, ": '", to, "': renaming '", from, "' over it failed: ", std::strerror(err));
  }
}

// Makes completed renames durable. The files are already complete, so a failure here is not
// worth failing the write for.
void sync_directory(const std::string& path) {
  const int fd = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const char* op, const std::string& path, std::string_view bytes) {
  rename_over(op, write_temp(op, path, bytes), path);
  sync_directory(path);
}

void replace_file_pair(const char* op, const std::string& staged, const std::string& target,
                       const std::string& text_path, std::string_view text) {
  std::string tmp;
  try {
    tmp = write_temp(op, text_path, text);
  } catch (...) {
    ::unlink(staged.c_str());
    throw;
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(staged.c_str());
    ::unlink(tmp.c_str());
    fail(op, ": '", target, "': renaming '", staged, "' over it failed: ", std::strerror(err));
  }
  rename_over(op, tmp, text_path);
  sync_directory(target);
  if (directory_of(text_path) != directory_of(target)) sync_directory(text_path);
}

nlohmann::json read_json_file(const std::string& path, const std::string& missing) {
  std::ifstream in(path, std::ios::binary);
  GE_CHECK(in.good(), path, ": ", missing);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not valid JSON (", e.what(), ")");
  }
}

}  // namespace ge::models::detail

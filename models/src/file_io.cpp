#include "file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ganengine/error.h"

namespace ge::models::detail {
namespace {

std::filesystem::path directory_of(const std::string& path) {
  const std::filesystem::path target(path);
  return target.has_parent_path() ? target.parent_path() : ".";
}

struct HookState {
  std::mutex mutex;
  bool initialised = false;  // GE_FAULT_INJECT read
  FaultHook hook;
};

HookState& hook_state() {
  static HookState state;
  return state;
}

// The errno the fault hook injects at `point` of `op`, 0 for none. Without a hook this is a
// mutex and a test of an empty function, nothing beside the cost of the system calls around it.
int fault_point(const char* op, const char* point) {
  FaultHook hook;
  {
    HookState& s = hook_state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.initialised) {
      s.initialised = true;
      const char* spec = std::getenv("GE_FAULT_INJECT");
      if (spec != nullptr && *spec != '\0') s.hook = fault_hook_from_spec(spec);
    }
    hook = s.hook;
  }
  return hook ? hook(ge::detail::concat(op, "/", point)) : 0;
}

// Makes completed renames durable: the new directory entry reaches the disk, not only the
// file's data. A file system that cannot flush a directory (EINVAL) has nothing to flush.
void sync_directory(const char* op, const std::string& path, const char* point) {
  const std::string dir = directory_of(path).string();
  int err = fault_point(op, point);
  if (err == 0) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      err = errno;
    } else {
      if (::fsync(fd) != 0) err = errno;
      ::close(fd);
    }
  }
  if (err != 0 && err != EINVAL)
    fail(op, ": '", path, "': renamed into place, but flushing its directory '", dir,
         "' failed: ", std::strerror(err), " (the new file may not survive a power loss)");
}

// Writes `bytes` to a new temporary file beside `path` and flushes it to disk; returns its name.
// The name is unique across threads and processes (O_EXCL), so concurrent writers of one path
// never share a temporary file. On failure the temporary file is removed.
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
    const int injected = fault_point(op, "create");
    if (injected != 0)
      errno = injected;
    else
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
  int err = fault_point(op, "write");
  if (err != 0) failed = "writing";
  while (failed == nullptr && left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = "writing";
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (failed == nullptr) {
    err = fault_point(op, "fsync");
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (err != 0) failed = "flushing";
  }
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

// Renames `from` over `to`; on failure removes `from` and throws.
void rename_over(const char* op, const std::string& from, const std::string& to) {
  int err = fault_point(op, "rename");
  if (err == 0 && ::rename(from.c_str(), to.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(from.c_str());
    fail(op, ": '", to, "': renaming '", from, "' over it failed: ", std::strerror(err));
  }
}

// One fault of a GE_FAULT_INJECT spec: the `count`-th arrival at `point`.
struct Fault {
  std::string point;  // "<op>/<point>" or a bare point
  int64_t count = 0;
  int64_t seen = 0;
  int err = 0;  // 0: kill the process
};

bool matches(const std::string& pattern, std::string_view point) {
  if (pattern.find('/') != std::string::npos) return point == pattern;
  const size_t slash = point.find('/');
  return slash != std::string_view::npos && point.substr(slash + 1) == pattern;
}

}  // namespace

void write_file_atomic(const char* op, const std::string& path, std::string_view bytes) {
  rename_over(op, write_temp(op, path, bytes), path);
  sync_directory(op, path, "dir-fsync");
  fault_point(op, "done");
}

std::string pair_next_text(const std::string& text_path) {
  return text_path + ".next";
}

void replace_file_pair(const char* op, const std::string& staged, const std::string& target,
                       const std::string& text_path, std::string_view text) {
  const std::string next = pair_next_text(text_path);
  try {
    rename_over(op, write_temp(op, next, text), next);
    sync_directory(op, next, "dir-fsync");
  } catch (...) {
    ::unlink(staged.c_str());
    throw;
  }
  // The commit: from here on `target` is the new one, and `next` describes it until it takes
  // the place of `text_path`.
  int err = fault_point(op, "commit");
  if (err == 0 && ::rename(staged.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(staged.c_str());
    ::unlink(next.c_str());
    fail(op, ": '", target, "': renaming '", staged, "' over it failed: ", std::strerror(err),
         " ('", target, "' and '", text_path, "' are unchanged)");
  }
  err = fault_point(op, "commit-text");
  if (err == 0 && ::rename(next.c_str(), text_path.c_str()) != 0) err = errno;
  // `next` stays: it is the only text that describes the new `target`.
  if (err != 0)
    fail(op, ": '", text_path, "': renaming '", next, "' over it failed: ", std::strerror(err),
         " ('", target, "' is new; '", next, "' describes it)");
  sync_directory(op, text_path, "pair-dir-fsync");
  if (directory_of(text_path) != directory_of(target)) sync_directory(op, target, "pair-dir-fsync");
  fault_point(op, "pair-done");
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

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  release();
}

void DirectoryLock::release() {
  // Closing the last descriptor of the open file drops the flock. The file stays: removing it
  // would let a process that opened it before the removal lock a file nobody else can see.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

DirectoryLock lock_directory(const char* op, const std::string& dir, const std::string& name) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) fail(op, ": cannot open the lock file '", path, "': ", std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string holder(buf, n > 0 ? static_cast<size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    ::close(fd);
    // A holder between its open and its write has not written its id yet.
    if (err == EWOULDBLOCK)
      fail(op, ": '", dir,
           "' is in use: ", holder.empty() ? std::string("another process") : "process " + holder,
           " holds the lock file '", path,
           "' (one writer per directory: wait for it to finish, or choose another directory)");
    fail(op, ": cannot lock '", path, "': ", std::strerror(err));
  }
  // The id is for the message above; the lock holds without it, so a failed write is ignored.
  const std::string id = std::to_string(::getpid()) + "\n";
  [[maybe_unused]] const bool noted =
      ::ftruncate(fd, 0) == 0 && ::pwrite(fd, id.data(), id.size(), 0) > 0;
  DirectoryLock lock;
  lock.fd_ = fd;
  return lock;
}

FaultHook fault_hook_from_spec(const std::string& spec) {
  auto faults = std::make_shared<std::vector<Fault>>();
  std::stringstream list(spec);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item.empty()) continue;
    const size_t a = item.find(':'), b = a == std::string::npos ? a : item.find(':', a + 1);
    GE_CHECK(b != std::string::npos, "GE_FAULT_INJECT: '", item,
             "' is not POINT:N:ACTION (e.g. write_checkpoint/commit:2:abort)");
    Fault f;
    f.point = item.substr(0, a);
    const std::string count = item.substr(a + 1, b - a - 1), action = item.substr(b + 1);
    char* end = nullptr;
    f.count = std::strtoll(count.c_str(), &end, 10);
    GE_CHECK(!f.point.empty() && !count.empty() && *end == '\0' && f.count >= 1,
             "GE_FAULT_INJECT: '", item, "' needs a point and a count N >= 1");
    if (action == "enospc")
      f.err = ENOSPC;
    else if (action == "eio")
      f.err = EIO;
    else
      GE_CHECK(action == "abort", "GE_FAULT_INJECT: '", item, "' has action '", action,
               "', expected abort, enospc or eio");
    faults->push_back(f);
  }
  auto mutex = std::make_shared<std::mutex>();
  return [faults, mutex](std::string_view point) {
    std::lock_guard<std::mutex> lock(*mutex);
    for (Fault& f : *faults) {
      if (!matches(f.point, point) || ++f.seen != f.count) continue;
      if (f.err == 0) {
        // A crash: no destructors, no buffered output flushed, no temporary file removed.
        ::raise(SIGKILL);
        std::_Exit(137);
      }
      return f.err;
    }
    return 0;
  };
}

void set_fault_hook(FaultHook hook) {
  HookState& s = hook_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.initialised = true;
  s.hook = std::move(hook);
}

}  // namespace ge::models::detail

// The atomic writers under injected faults: a failed step leaves the old file (or pair) as it was,
// names the file, the step and the system's reason, and leaves no temporary file; the directory
// lock refuses a second holder and names the first.
#include "../../models/src/file_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "models/train_test_util.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
namespace io = models::detail;

#define EXPECT_MESSAGE(message, part)                \
  EXPECT_NE((message).find(part), std::string::npos) \
      << "expected \"" << (part) << "\" in: " << (message)

// Injects `err` at the `count`-th arrival at `point` ("<op>/<point>") while alive; records
// every point passed.
class Faults {
 public:
  Faults(std::string point, int count, int err) {
    io::set_fault_hook([this, point, count, err](std::string_view at) {
      passed.emplace_back(at);
      return at == point && ++seen_ == count ? err : 0;
    });
  }
  Faults() : Faults("", 0, 0) {}
  ~Faults() { io::set_fault_hook(nullptr); }
  std::vector<std::string> passed;

 private:
  int seen_ = 0;
};

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FileIo, WriteAtomicPassesEveryPointInOrder) {
  const std::string dir = fresh_dir("d"), path = (fs::path(dir) / "a.txt").string();
  Faults faults;
  io::write_file_atomic("test_op", path, "hello");
  EXPECT_EQ(read_text(path), "hello");
  EXPECT_EQ(faults.passed,
            (std::vector<std::string>{"test_op/create", "test_op/write", "test_op/fsync",
                                      "test_op/rename", "test_op/dir-fsync", "test_op/done"}));
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"a.txt"});
}

TEST(FileIo, FailedStepsKeepTheOldFileAndNameTheReason) {
  const std::string dir = fresh_dir("d"), path = (fs::path(dir) / "a.txt").string();
  write_text(path, "old");
  const struct {
    const char* point;
    int err;
    const char* step;
  } cases[] = {{"create", EACCES, "cannot create a temporary file"},
               {"write", ENOSPC, "writing"},
               {"write", EIO, "writing"},
               {"fsync", EIO, "flushing"},
               {"rename", EXDEV, "renaming"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.point);
    Faults faults(std::string("test_op/") + c.point, 1, c.err);
    const std::string m = error_of([&] { io::write_file_atomic("test_op", path, "new"); });
    EXPECT_MESSAGE(m, "test_op: '" + path + "'");
    EXPECT_MESSAGE(m, c.step);
    EXPECT_MESSAGE(m, std::strerror(c.err));
    EXPECT_EQ(read_text(path), "old");
    EXPECT_EQ(names_in(dir), std::vector<std::string>{"a.txt"});
  }
}

TEST(FileIo, AFailedDirectoryFlushIsReportedAfterTheRename) {
  const std::string dir = fresh_dir("d"), path = (fs::path(dir) / "a.txt").string();
  write_text(path, "old");
  Faults faults("test_op/dir-fsync", 1, EIO);
  const std::string m = error_of([&] { io::write_file_atomic("test_op", path, "new"); });
  EXPECT_MESSAGE(m, "flushing its directory '" + dir + "'");
  EXPECT_MESSAGE(m, std::strerror(EIO));
  EXPECT_EQ(read_text(path), "new");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"a.txt"});
}

class FilePair : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("pair");
    target_ = at("t.bin");
    text_ = at("t.json");
    staged_ = at("t.bin.next");
    write_text(target_, "old data");
    write_text(text_, "old text");
  }
  void stage() { write_text(staged_, "new data"); }
  void replace() { io::replace_file_pair("pair_op", staged_, target_, text_, "new text"); }
  std::string at(const char* name) const { return (fs::path(dir_) / name).string(); }
  std::string dir_;
  std::string target_, text_, staged_;
};

TEST_F(FilePair, PassesEveryPointAndLeavesOnlyThePair) {
  stage();
  Faults faults;
  replace();
  EXPECT_EQ(read_text(target_), "new data");
  EXPECT_EQ(read_text(text_), "new text");
  EXPECT_EQ(names_in(dir_), (std::vector<std::string>{"t.bin", "t.json"}));
  EXPECT_EQ(faults.passed, (std::vector<std::string>{
                               "pair_op/create", "pair_op/write", "pair_op/fsync", "pair_op/rename",
                               "pair_op/dir-fsync", "pair_op/commit", "pair_op/commit-text",
                               "pair_op/pair-dir-fsync", "pair_op/pair-done"}));
}

TEST_F(FilePair, FailuresBeforeTheCommitKeepTheOldPair) {
  for (const char* point : {"create", "write", "fsync", "rename", "commit"}) {
    SCOPED_TRACE(point);
    stage();
    Faults faults(std::string("pair_op/") + point, 1, ENOSPC);
    const std::string m = error_of([&] { replace(); });
    EXPECT_MESSAGE(m, "pair_op: '");
    EXPECT_MESSAGE(m, std::strerror(ENOSPC));
    EXPECT_EQ(read_text(target_), "old data");
    EXPECT_EQ(read_text(text_), "old text");
    EXPECT_EQ(names_in(dir_), (std::vector<std::string>{"t.bin", "t.json"}));
  }
}

TEST_F(FilePair, AFailureBetweenTheRenamesKeepsTheTextOfTheNewData) {
  stage();
  Faults faults("pair_op/commit-text", 1, EIO);
  const std::string m = error_of([&] { replace(); });
  EXPECT_MESSAGE(m, std::strerror(EIO));
  EXPECT_EQ(read_text(target_), "new data");
  EXPECT_EQ(read_text(text_), "old text");
  EXPECT_EQ(read_text(io::pair_next_text(text_)), "new text");
}

TEST(FileIoFaultSpec, CountsArrivalsAndActsOnTheNth) {
  const io::FaultHook hook = io::fault_hook_from_spec("op/write:3:enospc,fsync:2:eio");
  EXPECT_EQ(hook("op/write"), 0);
  EXPECT_EQ(hook("other/write"), 0);  // another op: not counted
  EXPECT_EQ(hook("op/write"), 0);
  EXPECT_EQ(hook("op/write"), ENOSPC);
  EXPECT_EQ(hook("op/write"), 0);  // once only
  EXPECT_EQ(hook("a/fsync"), 0);
  EXPECT_EQ(hook("b/fsync"), EIO);  // a bare point: any op
}

TEST(FileIoFaultSpec, RefusesMalformedSpecs) {
  EXPECT_MESSAGE(error_of([] { io::fault_hook_from_spec("write:1"); }), "POINT:N:ACTION");
  EXPECT_MESSAGE(error_of([] { io::fault_hook_from_spec("write:0:abort"); }), "N >= 1");
  EXPECT_MESSAGE(error_of([] { io::fault_hook_from_spec("write:x:abort"); }), "N >= 1");
  EXPECT_MESSAGE(error_of([] { io::fault_hook_from_spec("write:1:explode"); }), "action 'explode'");
}

TEST(DirectoryLock, ASecondHolderIsRefusedUntilTheFirstLetsGo) {
  const std::string dir = fresh_dir("d");
  {
    io::DirectoryLock first = io::lock_directory("first", dir, "x.lock");
    EXPECT_TRUE(first.held());
    EXPECT_EQ(read_text((fs::path(dir) / "x.lock").string()), std::to_string(::getpid()) + "\n");
    const std::string m = error_of([&] { io::lock_directory("second", dir, "x.lock"); });
    EXPECT_MESSAGE(m, "second: '" + dir + "' is in use");
    EXPECT_MESSAGE(m, "process " + std::to_string(::getpid()));
    // Another name is another lock.
    EXPECT_TRUE(io::lock_directory("other", dir, "y.lock").held());
  }
  io::DirectoryLock again = io::lock_directory("again", dir, "x.lock");
  EXPECT_TRUE(again.held());
  again.release();
  EXPECT_FALSE(again.held());
  EXPECT_TRUE(io::lock_directory("third", dir, "x.lock").held());
}

TEST(DirectoryLock, NamesAMissingDirectory) {
  const std::string dir = (fs::path(fresh_dir("d")) / "absent").string();
  const std::string m = error_of([&] { io::lock_directory("op", dir, "x.lock"); });
  EXPECT_MESSAGE(m, "cannot open the lock file '" + dir + "/x.lock'");
  EXPECT_MESSAGE(m, std::strerror(ENOENT));
}

}  // namespace
}  // namespace ge::testing

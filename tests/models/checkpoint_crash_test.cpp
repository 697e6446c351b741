// Crash consistency of checkpoints. `gan train` is killed with SIGKILL at every point of the
// checkpoint writer (through the GE_FAULT_INJECT hook) and at timed points from outside; after
// every kill the checkpoint of the output directory loads, is one the run wrote and is no older
// than the last one the run is known to have finished, and --resume to the last step ends with a
// checkpoint bitwise equal to an uninterrupted run's. A full disk fails a checkpoint with the
// system's reason and keeps the last one; a second trainer on one output directory is refused.
// Run alone with --gtest_filter='CheckpointCrash*:CheckpointEnospc*:CheckpointLock*'.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../../models/src/file_io.h"
#include "ganengine/models/data/loader.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/safetensors.h"
#include "models/app_test_util.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/reference.h"

extern char** environ;

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using models::train::read_checkpoint;

#define EXPECT_MESSAGE(message, part)                \
  EXPECT_NE((message).find(part), std::string::npos) \
      << "expected \"" << (part) << "\" in: " << (message)

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

// The run every kill interrupts: an MLP GAN on the 8-mode ring, a checkpoint every 2 steps.
constexpr int64_t kSteps = 20, kEvery = 2;

std::vector<std::string> train_args(const std::string& out, bool resume, int64_t steps = kSteps) {
  std::vector<std::string> a = {"train",
                                "--arch",
                                "gan-mlp",
                                "--data",
                                "ring8",
                                "--width",
                                "8",
                                "--batch",
                                "8",
                                "--steps",
                                std::to_string(steps),
                                "--seed",
                                "7",
                                "--checkpoint-every",
                                std::to_string(kEvery),
                                "--sample-every",
                                "0",
                                "--log-every",
                                "1",
                                "--grid-size",
                                "4",
                                "--device",
                                "cpu",
                                "--quiet",
                                "--out",
                                out};
  if (resume) a.push_back("--resume");
  return a;
}

// Starts the gan app with `args`, its output to `log`; `fault` (unless empty) is its
// GE_FAULT_INJECT.
pid_t spawn_gan(const std::vector<std::string>& args, const std::string& log,
                const std::string& fault = "") {
  const std::string exe = (fs::path(GE_APPS_DIR) / "gan").string();
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "GE_FAULT_INJECT=", 16) != 0) env_text.emplace_back(*e);
  if (!fault.empty()) env_text.push_back("GE_FAULT_INJECT=" + fault);
  std::vector<char*> argv{const_cast<char*>(exe.c_str())}, envp;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (std::string& e : env_text)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << exe << ": " << std::strerror(rc);
  return rc == 0 ? pid : -1;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool killed(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// What the test compares of a checkpoint: the tensor file's bytes (weights, Adam moments, the
// model's extra state) and checkpoint.json without the wall-clock time, the resume flag and the
// output directory.
struct Snapshot {
  std::string tensors;
  nlohmann::json record;
};

Snapshot snapshot(const std::string& dir) {
  Snapshot s;
  s.tensors = read_text((fs::path(dir) / models::train::kCheckpointTensors).string());
  s.record =
      nlohmann::json::parse(read_text((fs::path(dir) / models::train::kCheckpointJson).string()));
  s.record.erase("elapsed_s");
  s.record["train_options"].erase("resume");
  s.record["train_options"].erase("out_dir");
  return s;
}

// The last step of metrics.jsonl (0: none). Each line is written, and flushed, after its step
// and before that step's checkpoint; so a run that logged step L had finished every checkpoint
// of the steps before L.
int64_t last_logged_step(const std::string& dir) {
  std::ifstream in((fs::path(dir) / "metrics.jsonl").string());
  std::string line;
  int64_t last = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("step")) last = j["step"].get<int64_t>();
  }
  return last;
}

// The steps the run checkpoints: every kEvery-th and the last.
bool written_step(int64_t step) {
  return step > 0 && (step % kEvery == 0 || step == kSteps);
}

class CheckpointCrash : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(fresh_dir_for_suite());
    const std::string ref = (fs::path(*root_) / "reference").string();
    const auto start = Clock::now();
    const pid_t pid = spawn_gan(train_args(ref, false), ref + ".log");
    const int status = wait_for(pid);
    straight_s_ = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(ref + ".log");
    reference_ = new Snapshot(snapshot(ref));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    delete reference_;
  }
  static std::string fresh_dir_for_suite() {
    const fs::path dir =
        fs::temp_directory_path() / ("ge_CheckpointCrash_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir.string();
  }

  // A new, empty output directory.
  std::string fresh_out(const std::string& name) {
    const std::string dir = (fs::path(*root_) / name).string();
    fs::remove_all(dir);
    fs::remove(dir + ".log");
    return dir;
  }

  // After a kill: the checkpoint of `dir` reads and loads through the library (the model
  // generate and eval build), and its step is one the run writes, in [lower, upper]; none is
  // acceptable only when no checkpoint had been finished (lower == 0). Returns its step, 0 for
  // none.
  int64_t check_after_kill(const std::string& dir, int64_t lower, int64_t upper,
                           const std::string& what) {
    std::optional<int64_t> step;
    std::string error;
    try {
      const models::train::CheckpointRecord r = read_checkpoint(dir);
      step = r.step;
      const auto model = models::train::load_model(dir, kCPU);
      EXPECT_EQ(
          load_safetensors_metadata((fs::path(dir) / models::train::kCheckpointTensors).string())
              .at("step"),
          std::to_string(r.step))
          << what;
    } catch (const Error& e) {
      error = e.what();
    }
    ++kills_;
    if (!step) {
      EXPECT_EQ(lower, 0) << what << ": the checkpoint of step " << lower
                          << " was finished, but none loads: " << error;
      if (lower > 0) ++lost_;
      return 0;
    }
    EXPECT_TRUE(written_step(*step)) << what << ": step " << *step << " is never checkpointed";
    EXPECT_GE(*step, lower) << what << ": the checkpoint of step " << lower << " was lost";
    EXPECT_LE(*step, upper) << what << ": a checkpoint from the future";
    if (*step < lower) ++lost_;
    return *step;
  }

  // Runs to the last step, resuming when a checkpoint is there, and compares the result with
  // the uninterrupted run's.
  void finish_and_compare(const std::string& dir, bool resume, const std::string& what) {
    const pid_t pid = spawn_gan(train_args(dir, resume), dir + ".log");
    const int status = wait_for(pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << what << ": the resumed run failed:\n"
        << read_text(dir + ".log");
    const Snapshot s = snapshot(dir);
    EXPECT_TRUE(s.tensors == reference_->tensors) << what << ": the tensors differ";
    EXPECT_EQ(s.record, reference_->record) << what;
    // Nothing of the interrupted writes stays behind.
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(name.find(".tmp-") == std::string::npos &&
                  name.find(".next") == std::string::npos)
          << what << ": " << e.path().string() << " left behind";
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove(dir + ".log", ec);
  }

  static std::string* root_;
  static Snapshot* reference_;
  static double straight_s_;
  int kills_ = 0, lost_ = 0;  // in this test
};

std::string* CheckpointCrash::root_ = nullptr;
Snapshot* CheckpointCrash::reference_ = nullptr;
double CheckpointCrash::straight_s_ = 0;

// The fault points of one checkpoint write, in order (file_io.h).
const char* const kPoints[] = {"create", "write",       "fsync",          "rename",   "dir-fsync",
                               "commit", "commit-text", "pair-dir-fsync", "pair-done"};

TEST_F(CheckpointCrash, KilledAtEveryPointOfTheWriterResumesBitwise) {
  // The n-th write is step n * kEvery's; the one before it had returned.
  for (const int n : {1, 4, 10})
    for (const char* point : kPoints) {
      const std::string what = std::string(point) + ":" + std::to_string(n);
      const std::string dir = fresh_out("hook");
      const pid_t pid =
          spawn_gan(train_args(dir, false), dir + ".log", "write_checkpoint/" + what + ":abort");
      const int status = wait_for(pid);
      ASSERT_TRUE(killed(status)) << what << ": not killed at that point:\n"
                                  << read_text(dir + ".log");
      const int64_t lower = std::string(point) == "pair-done" ? n * kEvery : (n - 1) * kEvery;
      const int64_t step = check_after_kill(dir, lower, n * kEvery, what);
      finish_and_compare(dir, step > 0, what);
    }
  EXPECT_EQ(kills_, 27);
  EXPECT_EQ(lost_, 0);
  std::printf("[ crash    ] %d kills at fault points, %d checkpoints lost\n", kills_, lost_);
}

TEST_F(CheckpointCrash, KilledAgainWhileRecoveringResumesBitwise) {
  // Each run is killed in turn; each resumes the one before.
  const std::vector<std::vector<std::string>> chains = {
      {"commit-text:3", "recover_checkpoint/rename:1", "write_checkpoint/commit:2"},
      {"commit-text:1", "write_checkpoint/commit-text:1", "write_checkpoint/pair-done:3"},
      {"write:5", "write_checkpoint/dir-fsync:1", "write_checkpoint/create:1"}};
  for (const auto& chain : chains) {
    const std::string dir = fresh_out("chain");
    int64_t step = 0;
    std::string what;
    for (const std::string& fault : chain) {
      what += (what.empty() ? "" : " ") + fault;
      const std::string spec =
          (fault.find('/') == std::string::npos ? "write_checkpoint/" : "") + fault + ":abort";
      const int64_t before = step;
      const pid_t pid = spawn_gan(train_args(dir, step > 0), dir + ".log", spec);
      const int status = wait_for(pid);
      ASSERT_TRUE(killed(status)) << what << ": not killed:\n" << read_text(dir + ".log");
      step = check_after_kill(dir, before, kSteps, what);
    }
    finish_and_compare(dir, step > 0, what);
  }
  EXPECT_EQ(kills_, 9);
  EXPECT_EQ(lost_, 0);
  std::printf("[ crash    ] %d kills in chains, %d checkpoints lost\n", kills_, lost_);
}

TEST_F(CheckpointCrash, KilledAtTimedPointsResumesBitwise) {
  // Kills from outside at times spread over a run's length, each run resuming the killed one,
  // five kills to a chain; a run that ends before its kill ends its chain.
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> when(0.0, straight_s_);
  int timed = 0, attempts = 0;
  while (timed < 20 && attempts < 60) {
    const std::string dir = fresh_out("timed");
    int64_t step = 0;
    bool finished = false;
    for (int k = 0; k < 5 && timed < 20 && !finished; ++k) {
      ++attempts;
      const std::string what = "timed kill " + std::to_string(attempts);
      const int64_t before = step;
      const pid_t pid = spawn_gan(train_args(dir, step > 0), dir + ".log");
      std::this_thread::sleep_for(std::chrono::duration<double>(when(rng)));
      ::kill(pid, SIGKILL);
      const int status = wait_for(pid);
      if (!killed(status)) {
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(dir + ".log");
        finished = true;
        break;
      }
      ++timed;
      // The logged steps bound what the killed run had finished: every checkpoint before the
      // last logged step, and none after it.
      const int64_t logged = last_logged_step(dir);
      const int64_t done = std::max(before, logged > 0 ? (logged - 1) / kEvery * kEvery : 0);
      step = check_after_kill(dir, done, std::max(logged, before), what);
    }
    finish_and_compare(dir, step > 0 || finished,
                       "timed chain ending at " + std::to_string(attempts));
  }
  EXPECT_GE(timed, 20) << "runs ended before their kills; a straight run took " << straight_s_
                       << " s";
  EXPECT_EQ(lost_, 0);
  std::printf("[ crash    ] %d timed kills in %d runs, %d checkpoints lost\n", kills_, attempts,
              lost_);
}

// --- A full disk -------------------------------------------------------------------------------

models::train::TrainOptions tiny_options_for(const std::string& dir, int64_t steps, bool resume) {
  models::train::TrainOptions o = quiet_run(dir, steps, 8, 3);
  o.resume = resume;
  o.lr_decay_steps = 0;  // constant rates: a run may go on past the steps it first had
  return o;
}

void train_tiny(const std::string& dir, int64_t steps, bool resume = false) {
  TinyGan gan(TinyGanConfig{}, 3);
  models::data::DataLoader loader(std::make_shared<TinyDataset>(32, false), 8, 3);
  models::train::Trainer trainer(gan, loader, tiny_options_for(dir, steps, resume));
  trainer.run();
}

// The names in `dir` that an interrupted or failed write would leave.
std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name.find(".next") != std::string::npos)
      names.push_back(name);
  }
  return names;
}

struct FaultScope {
  explicit FaultScope(const std::string& spec) {
    models::detail::set_fault_hook(models::detail::fault_hook_from_spec(spec));
  }
  ~FaultScope() { models::detail::set_fault_hook(nullptr); }
};

TEST(CheckpointEnospc, InjectedFailuresKeepTheLastCheckpoint) {
  const std::string dir = fresh_dir("run");
  train_tiny(dir, 2);
  const std::string json = (fs::path(dir) / "checkpoint.json").string();
  const std::string tensors = (fs::path(dir) / "checkpoint.safetensors").string();
  const std::string json_before = read_text(json), tensors_before = read_text(tensors);
  for (const char* spec : {"write_checkpoint/write:1:enospc", "write_checkpoint/fsync:1:eio",
                           "write_checkpoint/commit:1:enospc"}) {
    SCOPED_TRACE(spec);
    std::string m;
    {
      FaultScope fault(spec);
      m = error_of([&] { train_tiny(dir, 4, true); });
    }
    EXPECT_MESSAGE(m, "write_checkpoint: '" + dir);
    EXPECT_MESSAGE(m, std::strerror(std::string(spec).ends_with("eio") ? EIO : ENOSPC));
    EXPECT_EQ(read_text(json), json_before);
    EXPECT_EQ(read_text(tensors), tensors_before);
    EXPECT_EQ(read_checkpoint(dir).step, 2);
    EXPECT_EQ(leftovers(dir), std::vector<std::string>{});
  }
  // The disk has room again: the run goes on from the kept checkpoint.
  train_tiny(dir, 4, true);
  EXPECT_EQ(read_checkpoint(dir).step, 4);
}

// A tmpfs of a few pages, mounted over a fresh directory while alive.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& dir) : dir_(dir) {
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=512k") == 0)
      mounted_ = true;
    else
      error_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_, error_;
  bool mounted_ = false;
};

// Fills the file system of `path` until a write fails with ENOSPC; returns false if it does
// not fail so.
bool fill(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::setvbuf(f, nullptr, _IONBF, 0);
  const std::string block(4096, 'x');
  int err = 0;
  for (int i = 0; i < 1 << 16 && err == 0; ++i)
    if (std::fwrite(block.data(), 1, block.size(), f) != block.size()) err = errno;
  std::fclose(f);
  return err == ENOSPC;
}

TEST(CheckpointEnospc, AFullTmpfsKeepsTheLastCheckpoint) {
  const std::string mount_point = fresh_dir("tmpfs");
  SmallTmpfs tmpfs(mount_point);
  if (!tmpfs.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs on " << mount_point << " (" << tmpfs.error()
                 << "); this test needs root or CAP_SYS_ADMIN";
  const std::string dir = (fs::path(mount_point) / "run").string();
  train_tiny(dir, 2);
  const std::string json = (fs::path(dir) / "checkpoint.json").string();
  const std::string tensors = (fs::path(dir) / "checkpoint.safetensors").string();
  const std::string json_before = read_text(json), tensors_before = read_text(tensors);
  const std::string filler = (fs::path(mount_point) / "filler").string();
  ASSERT_TRUE(fill(filler)) << "the tmpfs did not fill up";

  // The library's writer, with the checkpoint's own tensors at a later step.
  models::train::CheckpointRecord r = read_checkpoint(dir);
  r.step = 4;
  const std::string m = error_of([&] {
    models::train::write_checkpoint(dir, models::train::read_checkpoint_tensors(dir), r);
  });
  EXPECT_MESSAGE(m, "write_checkpoint");
  EXPECT_MESSAGE(m, dir);
  EXPECT_MESSAGE(m, std::strerror(ENOSPC));
  EXPECT_MESSAGE(m, "keeps the one it had");
  // And the trainer's.
  const std::string t = error_of([&] { train_tiny(dir, 4, true); });
  EXPECT_MESSAGE(t, std::strerror(ENOSPC));
  EXPECT_EQ(read_text(json), json_before);
  EXPECT_EQ(read_text(tensors), tensors_before);
  EXPECT_EQ(read_checkpoint(dir).step, 2);
  EXPECT_EQ(leftovers(dir), std::vector<std::string>{});

  fs::remove(filler);
  train_tiny(dir, 4, true);
  EXPECT_EQ(read_checkpoint(dir).step, 4);
}

// --- One trainer per output directory -----------------------------------------------------------

TEST(CheckpointLock, ASecondTrainerInProcessIsRefused) {
  const std::string dir = fresh_dir("run");
  TinyGan gan(TinyGanConfig{}, 3);
  models::data::DataLoader loader(std::make_shared<TinyDataset>(32, false), 8, 3);
  models::train::TrainOptions o = tiny_options_for(dir, 4, false);
  o.eval_every = 2;
  models::train::Trainer first(gan, loader, o);
  std::vector<std::string> refusals;
  // The evaluator runs inside the first trainer's run(): a second trainer starts there.
  first.set_evaluator([&](models::Model&) {
    TinyGan other(TinyGanConfig{}, 4);
    models::data::DataLoader other_loader(std::make_shared<TinyDataset>(32, false), 8, 4);
    models::train::Trainer second(other, other_loader, tiny_options_for(dir, 2, false));
    refusals.push_back(error_of([&] { second.run(); }));
    refusals.push_back(error_of([&] { second.save_checkpoint(); }));
    return std::string("{}");
  });
  first.run();
  ASSERT_EQ(refusals.size(), 4u);
  for (const std::string& m : refusals) {
    EXPECT_MESSAGE(m, "'" + dir + "' is in use");
    EXPECT_MESSAGE(m, "process " + std::to_string(::getpid()));
  }
  EXPECT_EQ(read_checkpoint(dir).step, 4);
  // The first has finished: the directory is free.
  train_tiny(dir, 6, true);
  EXPECT_EQ(read_checkpoint(dir).step, 6);
}

TEST(CheckpointLock, ASecondGanTrainIsRefusedAndAKillFreesTheDirectory) {
  const std::string dir = fresh_dir("run"), logs = fresh_dir("logs");
  // A long run, checkpointing now and then.
  std::vector<std::string> args = train_args(dir, false, 1000000);
  *(std::find(args.begin(), args.end(), "--checkpoint-every") + 1) = "50";
  const pid_t first = spawn_gan(args, (fs::path(logs) / "first.log").string());
  ASSERT_GT(first, 0);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!fs::exists(fs::path(dir) / "checkpoint.json") && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const bool started = fs::exists(fs::path(dir) / "checkpoint.json");
  const std::string out = quoted(dir);
  AppResult second, generate;
  if (started) {
    second = run_gan("train --arch gan-mlp --data ring8 --steps 4 --quiet --out " + out);
    // Reading a checkpoint takes no lock.
    generate = run_gan("generate --n 4 --ckpt " + out + " --out " +
                       quoted((fs::path(logs) / "g.png").string()));
  }
  ::kill(first, SIGKILL);
  EXPECT_TRUE(killed(wait_for(first)));
  ASSERT_TRUE(started) << "no checkpoint after 60 s:\n"
                       << read_text((fs::path(logs) / "first.log").string());
  EXPECT_NE(second.rc, 0);
  EXPECT_OUTPUT(second, "'" + dir + "' is in use: process " + std::to_string(first));
  EXPECT_EQ(generate.rc, 0) << generate.output;
  // The kernel dropped the killed trainer's lock: a new run may use the directory.
  const AppResult third =
      run_gan("train --arch gan-mlp --data ring8 --steps 2 --quiet --out " + out);
  EXPECT_EQ(third.rc, 0) << third.output;
  EXPECT_EQ(read_checkpoint(dir).step, 2);
}

}  // namespace
}  // namespace ge::testing

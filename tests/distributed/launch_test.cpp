// The apps under `mpirun -np 2`, as a user launches them: a data-parallel run matches one
// process with the global batch, repeats its bits, resumes only on its own world size, and stops
// within a bounded time when a rank is killed. These tests start mpirun themselves, so they run
// in the one-process invocation of this binary only.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "ganengine/device.h"
#include "ganengine/distributed.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/safetensors.h"
#include "models/train_test_util.h"

namespace ge {
namespace {

namespace fs = std::filesystem;

struct Launch {
  int rc = -1;
  std::string output;
  double seconds = 0;
};

// Runs `command` through the shell with stdout and stderr captured.
Launch run(const std::string& command) {
  const std::string log = testing::fresh_dir("log") + "/out.txt";
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system((command + " > '" + log + "' 2>&1").c_str());
  Launch r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = testing::read_text(log);
  return r;
}

std::string gan_exe() {
  return "'" + (fs::path(GE_APPS_DIR) / "gan").string() + "'";
}

// `mpirun -np 2 <prefix> gan <args>`; as root too (CI), and with two slots on any machine.
std::string mpirun(const std::string& args, const std::string& prefix = "") {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
         "OMPI_MCA_rmaps_base_oversubscribe=1 '" GE_MPIEXEC "' -np 2 " +
         prefix + gan_exe() + " " + args;
}

class LaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!distributed::is_mpi_available()) GTEST_SKIP() << "this build has no MPI";
    if (distributed::get_world_size() > 1) GTEST_SKIP() << "starts mpirun itself";
  }
};

std::map<std::string, Tensor> networks(const std::string& dir) {
  std::map<std::string, Tensor> out;
  for (auto& [key, t] : load_safetensors(dir + "/checkpoint.safetensors"))
    if (key.rfind("G.", 0) == 0 || key.rfind("D.", 0) == 0) out.emplace(key, t);
  return out;
}

// Every tensor of `a` within 1e-6 + 1e-4 * max|b| of `b`'s; the worst case in the message.
::testing::AssertionResult close_networks(const std::string& a_dir, const std::string& b_dir) {
  const auto a = networks(a_dir), b = networks(b_dir);
  if (a.size() != b.size() || a.empty())
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " tensors";
  for (const auto& [key, t] : a) {
    const std::vector<float> x = t.to_vector(), y = b.at(key).to_vector();
    float scale = 0, diff = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      scale = std::max(scale, std::abs(y[i]));
      diff = std::max(diff, std::abs(x[i] - y[i]));
    }
    if (!(diff <= 1e-6f + 1e-4f * scale))
      return ::testing::AssertionFailure()
             << "'" << key << "' differs by " << diff << " (max |value| " << scale << ")";
  }
  return ::testing::AssertionSuccess();
}

// Trains `arch` 3 steps on 2 processes of batch 4 and on one of batch 8 and compares.
void expect_equivalent(const std::string& arch, const std::string& extra, bool equivalent) {
  const std::string two = testing::fresh_dir("two"), one = testing::fresh_dir("one");
  const std::string common = "train --arch " + arch + " --data typeset --resolution 16 " +
                             "--width 8 --steps 3 --quiet " + extra;
  const Launch a = run(mpirun(common + " --batch 4 --out '" + two + "'"));
  ASSERT_EQ(a.rc, 0) << a.output;
  EXPECT_NE(a.output.find("data parallel: 2 processes (mpi), global batch 8"), std::string::npos)
      << a.output;
  const Launch b = run(gan_exe() + " " + common + " --batch 8 --out '" + one + "'");
  ASSERT_EQ(b.rc, 0) << b.output;
  if (equivalent) {
    EXPECT_TRUE(close_networks(two, one));
  } else {
    EXPECT_FALSE(close_networks(two, one));
  }
}

TEST_F(LaunchTest, DcganWithSyncBnMatchesOneProcessWithTheGlobalBatch) {
  expect_equivalent("dcgan", "--sync-bn", true);
  // Batch norm per process (DDP's default) normalises each half by its own statistics.
  expect_equivalent("dcgan", "", false);
}

TEST_F(LaunchTest, WganGpWithSyncBnMatchesOneProcessWithTheGlobalBatch) {
  // Five critic steps per generator step, each through the penalty's second-order gradient.
  expect_equivalent("wgan-gp", "--sync-bn", true);
}

// The same through NCCL: the emulator's, over MPI, with one emulated GPU per process.
TEST_F(LaunchTest, OnCudaDcganAndWganGpWithSyncBnMatchOneProcess) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device";
  if (!cuda_is_emulated() && cuda_device_count() < 2)
    GTEST_SKIP() << "two processes need two GPUs (each emulated process has its own)";
  expect_equivalent("dcgan", "--sync-bn --device cuda", true);
  expect_equivalent("wgan-gp", "--sync-bn --device cuda", true);
}

TEST_F(LaunchTest, TwoProcessRunsRepeatTheirBits) {
  const std::string a = testing::fresh_dir("a"), b = testing::fresh_dir("b");
  const std::string args = "train --arch wgan-gp-mlp --data ring8 --steps 4 --batch 8 --quiet";
  ASSERT_EQ(run(mpirun(args + " --out '" + a + "'")).rc, 0);
  ASSERT_EQ(run(mpirun(args + " --out '" + b + "'")).rc, 0);
  EXPECT_TRUE(testing::bitwise_equal(networks(a), networks(b)));
}

TEST_F(LaunchTest, ResumeContinuesOnTheSameWorldSizeOnly) {
  const std::string straight = testing::fresh_dir("straight"), split = testing::fresh_dir("split");
  const std::string args = "train --arch gan-mlp --data ring8 --batch 8 --quiet";
  ASSERT_EQ(run(mpirun(args + " --steps 6 --out '" + straight + "'")).rc, 0);
  ASSERT_EQ(run(mpirun(args + " --steps 3 --out '" + split + "'")).rc, 0);
  const Launch resumed = run(mpirun(args + " --steps 6 --resume --out '" + split + "'"));
  ASSERT_EQ(resumed.rc, 0) << resumed.output;
  EXPECT_TRUE(testing::bitwise_equal(networks(straight), networks(split)));
  const Launch alone = run(gan_exe() + " " + args + " --steps 9 --resume --out '" + split + "'");
  EXPECT_EQ(alone.rc, 1);
  EXPECT_NE(alone.output.find("trained on 2 process(es), this run has 1"), std::string::npos)
      << alone.output;
}

TEST_F(LaunchTest, EmulatedCudaRanksMatchTheCpuRun) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device";
  if (!cuda_is_emulated() && cuda_device_count() < 2)
    GTEST_SKIP() << "two processes need two GPUs (each emulated process has its own)";
  const std::string gpu = testing::fresh_dir("gpu"), cpu = testing::fresh_dir("cpu");
  const std::string args = "train --arch wgan-gp-mlp --data ring8 --steps 2 --batch 4 --quiet";
  const Launch a = run(mpirun(args + " --device cuda --out '" + gpu + "'"));
  ASSERT_EQ(a.rc, 0) << a.output;
  EXPECT_NE(a.output.find("rank 1: device: cuda:0"), std::string::npos) << a.output;
  ASSERT_EQ(run(mpirun(args + " --out '" + cpu + "'")).rc, 0);
  EXPECT_TRUE(close_networks(gpu, cpu));
}

// A port nothing listens on now, for the next rendezvous.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// `command` twice in the background with torchrun's variables for ranks 0 and 1 on the loopback;
// fails when either fails.
std::string torchrun2(const std::string& command) {
  const std::string vars =
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()) +
      " GE_DIST_TIMEOUT=60 ";
  return "sh -c '" + vars + "RANK=1 LOCAL_RANK=1 " + command + " & pid=$!; " + vars +
         "RANK=0 LOCAL_RANK=0 " + command + "; a=$?; wait $pid; b=$?; exit $((a | b))'";
}

TEST_F(LaunchTest, TorchrunVariablesStartATcpGroup) {
  // The collectives and the trainer's tests, over the TCP rendezvous.
  const Launch tests = run(torchrun2("\"" + std::string(::testing::internal::GetArgvs()[0]) +
                                     "\" --gtest_filter=-LaunchTest.*:SingleProcessGroupTest.*"));
  EXPECT_EQ(tests.rc, 0) << tests.output;
  EXPECT_EQ(tests.output.find("FAILED"), std::string::npos) << tests.output;
  // And the app: the same parameters as under mpirun, to the bit (both sum in rank order).
  const std::string tcp = testing::fresh_dir("tcp"), mpi = testing::fresh_dir("mpi");
  const std::string args = "train --arch wgan-gp-mlp --data ring8 --steps 3 --batch 8 --quiet";
  const Launch a = run(torchrun2(gan_exe() + " " + args + " --out " + tcp));
  ASSERT_EQ(a.rc, 0) << a.output;
  EXPECT_NE(a.output.find("data parallel: 2 processes (tcp)"), std::string::npos) << a.output;
  ASSERT_EQ(run(mpirun(args + " --out '" + mpi + "'")).rc, 0);
  EXPECT_TRUE(testing::bitwise_equal(networks(tcp), networks(mpi)));
}

TEST_F(LaunchTest, UnderTcpAKilledRankStopsRankZeroWithAClearError) {
  const std::string vars =
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()) +
      " GE_DIST_TIMEOUT=60 ";
  const std::string train = gan_exe() +
                            " train --arch gan-mlp --data ring8 --batch 8 --steps 100000000 "
                            "--quiet --out " +
                            testing::fresh_dir("killed");
  // Rank 1 is killed (SIGKILL) two seconds in; rank 0 sees its connection close.
  const Launch r = run("sh -c '(" + vars + "RANK=1 " + train + " & p=$!; sleep 2; kill -9 $p) & " +
                       vars + "RANK=0 " + train + "'");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_LT(r.seconds, 60) << r.output;
  EXPECT_NE(r.output.find("error: ge::distributed (tcp): rank 1 closed its connection"),
            std::string::npos)
      << r.output;
}

TEST_F(LaunchTest, AKilledRankEndsEveryRankWithinTheTimeout) {
  const std::string out = testing::fresh_dir("killed");
  // Rank 1 is killed (SIGKILL) two seconds in, mid-run; rank 0 waits in an all-reduce.
  const std::string kill_rank1 =
      "sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then (sleep 2; kill -9 $$) & fi; "
      "exec \"$0\" \"$@\"' ";
  const Launch r =
      run("timeout 120 " + mpirun("train --arch gan-mlp --data ring8 --batch 8 --steps 100000000 "
                                  "--checkpoint-every 200 --quiet --out '" +
                                      out + "'",
                                  kill_rank1));
  EXPECT_NE(r.rc, 0) << r.output;
  EXPECT_NE(r.rc, 124) << "mpirun was still running after 120 s:\n" << r.output;
  EXPECT_LT(r.seconds, 60) << r.output;
  EXPECT_NE(r.output.find("signal 9"), std::string::npos) << r.output;
  // What rank 0 saved before the stop is a whole checkpoint.
  if (fs::exists(out + "/checkpoint.json")) {
    EXPECT_NO_THROW(models::train::read_checkpoint(out)) << "a torn checkpoint in " << out;
  }
}

}  // namespace
}  // namespace ge

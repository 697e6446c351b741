// Training on the CPU gives the same parameters, bit for bit, with 1, 2 and 3 OpenMP threads: a
// run resumed on a machine with another core count reproduces the original. The networks are
// sized so that their convolutions, batch norms and GEMMs take the kernels' parallel paths.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cpu/threads.h"
#include "gan_test_util.h"
#include "ganengine/models/gan.h"
#include "ganengine/optim.h"

namespace ge::models {
namespace {

namespace cpu = ge::kernels::cpu;

// Restores the thread count a test found.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(cpu::thread_count()) {}
  ~ThreadCountGuard() { cpu::set_thread_count(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

GanOptions options(const std::string& arch) {
  GanOptions o;
  o.arch = arch;
  o.channels = 3;
  o.resolution = 32;
  o.width = 16;
  o.latent_dim = 32;
  return o;
}

// Every parameter of G and D after `steps` alternating D/G Adam steps on a batch of 16.
std::map<std::string, std::vector<float>> train(const std::string& arch, int steps) {
  const GanOptions o = options(arch);
  Generator init(3);
  auto gan = make_gan(o, init);
  const TrainDefaults t = gan->train_defaults();
  optim::Adam adam_d(gan->discriminator().parameters(), gantest::adam_options(t, t.d_lr));
  optim::Adam adam_g(gan->generator().parameters(), gantest::adam_options(t, t.g_lr));
  constexpr int64_t kBatch = 16;
  Generator gen(21);
  StepContext ctx;
  ctx.generator = &gen;
  for (int s = 0; s < steps; ++s) {
    ctx.step = s;
    const Tensor real = gantest::fake_real_batch(o, kBatch, kCPU, 100 + s);
    const Tensor labels = gan->sample_labels(kBatch, kCPU);
    adam_d.zero_grad();
    gan->discriminator_loss(real, labels, ctx).loss.backward();
    adam_d.step();
    adam_g.zero_grad();
    gan->generator_loss(kBatch, labels, ctx).loss.backward();
    adam_g.step();
  }
  std::map<std::string, std::vector<float>> params;
  for (const auto& [name, p] : gan->generator().named_parameters())
    params["G." + name] = p.to_vector();
  for (const auto& [name, p] : gan->discriminator().named_parameters())
    params["D." + name] = p.to_vector();
  return params;
}

class ThreadCountTrainingTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ThreadCountTrainingTest, ParametersAreBitwiseEqual) {
  if (!cpu::openmp_enabled()) {
    GTEST_SKIP() << "built without OpenMP (GE_OPENMP=OFF): the kernels always run on one thread";
  }
  ThreadCountGuard guard;
  std::map<std::string, std::vector<float>> one;
  for (int threads : {1, 2, 3}) {
    cpu::set_thread_count(threads);
    const auto params = train(GetParam(), 3);
    if (threads == 1) {
      one = params;
      continue;
    }
    ASSERT_EQ(params.size(), one.size());
    for (const auto& [name, v] : params) {
      const std::vector<float>& ref = one.at(name);
      ASSERT_EQ(v.size(), ref.size()) << name;
      EXPECT_TRUE(std::memcmp(v.data(), ref.data(), v.size() * sizeof(float)) == 0)
          << GetParam() << ": " << name << " after 3 steps differs between " << threads
          << " threads and 1 thread";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cpu, ThreadCountTrainingTest, ::testing::Values("dcgan", "wgan-gp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace ge::models

// The distributed tests' main: one process group for the whole run, started before the first
// test and ended after the last. The same binary runs alone (a world of one) and under
// `mpirun -np 2`; every expected value is a function of the ranks and the world size.
#include <gtest/gtest.h>

#include "ganengine/distributed.h"

namespace {

class ProcessGroupEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ge::distributed::init_process_group(); }
  void TearDown() override { ge::distributed::destroy_process_group(); }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new ProcessGroupEnvironment);
  return RUN_ALL_TESTS();
}

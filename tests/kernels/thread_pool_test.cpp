// The CPU kernels' team (cpu/thread_pool.h, cpu/parallel.h): every member runs once per region
// with the team's size, nested regions and regions started while another runs go serial,
// back-to-back regions and regions after the workers fell asleep all complete, and parallel_for
// visits every index once.
#include "cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cpu/parallel.h"
#include "cpu/threads.h"

namespace ge::kernels::testing {
namespace {

using cpu::in_team;
using cpu::run_team;

struct Calls {
  std::atomic<int> count[8] = {};
  std::atomic<int> wrong_team{0};
  std::atomic<int> outside{0};
  int team = 0;
};

void record(void* context, int t, int team) {
  auto& calls = *static_cast<Calls*>(context);
  if (team != calls.team) calls.wrong_team.fetch_add(1);
  if (!in_team()) calls.outside.fetch_add(1);
  calls.count[t].fetch_add(1);
}

TEST(ThreadPool, EveryMemberRunsOnceWithTheTeamsSize) {
  for (int team : {2, 3, 5, 2}) {
    Calls calls;
    calls.team = team;
    run_team(team, record, &calls);
    for (int t = 0; t < 8; ++t)
      EXPECT_EQ(calls.count[t].load(), t < team ? 1 : 0) << "team " << team << " member " << t;
    EXPECT_EQ(calls.wrong_team.load(), 0);
    EXPECT_EQ(calls.outside.load(), 0);
  }
  EXPECT_FALSE(in_team());
}

TEST(ThreadPool, NestedRegionsRunOnTheCallingThreadAlone) {
  std::atomic<int> inner_teams{0}, inner_calls{0};
  struct Context {
    std::atomic<int>* teams;
    std::atomic<int>* calls;
  } context{&inner_teams, &inner_calls};
  run_team(
      2,
      [](void* c, int, int) {
        auto& ctx = *static_cast<Context*>(c);
        run_team(
            3,
            [](void* c2, int t, int team) {
              auto& inner = *static_cast<Context*>(c2);
              inner.calls->fetch_add(1);
              if (t == 0 && team == 1) inner.teams->fetch_add(1);
            },
            &ctx);
      },
      &context);
  EXPECT_EQ(inner_calls.load(), 2);  // one inner call per outer member
  EXPECT_EQ(inner_teams.load(), 2);  // each a team of one
}

TEST(ThreadPool, ManyRegionsBackToBackAndAfterSleepingComplete) {
  std::atomic<long> sum{0};
  const auto add = [](void* c, int t, int) {
    static_cast<std::atomic<long>*>(c)->fetch_add(t + 1);
  };
  for (int i = 0; i < 20000; ++i)
    run_team(2, add, &sum);
  EXPECT_EQ(sum.load(), 20000L * 3);
  // Pauses longer than the spin: the workers sleep and must be woken.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    run_team(2, add, &sum);
  }
  EXPECT_EQ(sum.load(), 20020L * 3);
}

TEST(ThreadPool, RegionsFromTwoHostThreadsBothComplete) {
  std::atomic<long> sum{0};
  const auto add = [](void* c, int, int team) {
    static_cast<std::atomic<long>*>(c)->fetch_add(team == 1 ? 2 : 1);  // each region adds 2
  };
  std::thread other([&] {
    for (int i = 0; i < 5000; ++i)
      run_team(2, add, &sum);
  });
  for (int i = 0; i < 5000; ++i)
    run_team(2, add, &sum);
  other.join();
  EXPECT_EQ(sum.load(), 10000L * 2);
}

TEST(ThreadPool, ParallelForVisitsEveryIndexOnce) {
  const int before = cpu::thread_count();
  for (int threads : {1, 2, 3}) {
    cpu::set_thread_count(threads);
    for (int64_t n : {0, 1, 2, 5, 1000}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      cpu::parallel_for(n, true, [&](int64_t i) { seen[static_cast<size_t>(i)].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(seen[static_cast<size_t>(i)].load(), 1) << "n " << n << " threads " << threads;
    }
  }
  cpu::set_thread_count(before);
}

}  // namespace
}  // namespace ge::kernels::testing

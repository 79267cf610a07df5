// The actor scheduler's default size: the cores the I/O threads leave.
#include <gtest/gtest.h>

#include "service/service.hpp"

namespace dm {
namespace {

TEST(default_actor_threads, takes_the_cores_the_io_threads_leave) {
  EXPECT_EQ(default_actor_threads(2, 1), 1u);
  EXPECT_EQ(default_actor_threads(8, 1), 7u);
  EXPECT_EQ(default_actor_threads(8, 3), 5u);
}

TEST(default_actor_threads, keeps_one_when_no_core_is_left) {
  EXPECT_EQ(default_actor_threads(1, 1), 1u);
  EXPECT_EQ(default_actor_threads(2, 4), 1u);
  // hardware_concurrency() says 0 when it cannot tell.
  EXPECT_EQ(default_actor_threads(0, 1), 1u);
}

} // namespace
} // namespace dm

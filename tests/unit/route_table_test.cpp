// The router's routes: each group name held once for all the routes that
// name it, and dropped with the last of them.
#include "actors/route_table.hpp"

#include <gtest/gtest.h>

using namespace dm;

TEST(route_table, routes_naming_a_group_share_one_copy_of_its_name) {
  route_table routes;
  routes.reserve(3, 2);
  routes.set("a", "workers", 1);
  routes.set("b", "workers", 2);
  routes.set("c", "web", 3);
  EXPECT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes.group_count(), 2u);
  auto a = routes.find("a");
  auto b = routes.find("b");
  ASSERT_NE(a, routes.end());
  ASSERT_NE(b, routes.end());
  EXPECT_EQ(a->second.group(), "workers");
  EXPECT_EQ(a->second.seq, 1u);
  EXPECT_EQ(&a->second.group(), &b->second.group());
  EXPECT_EQ(routes.find("c")->second.group(), "web");
  EXPECT_EQ(routes.find("d"), routes.end());
}

TEST(route_table, a_name_goes_with_the_last_route_naming_it) {
  route_table routes;
  routes.set("a", "workers", 1);
  routes.set("b", "workers", 2);
  routes.erase(routes.find("a"));
  EXPECT_EQ(routes.group_count(), 1u);
  EXPECT_EQ(routes.find("b")->second.group(), "workers");
  routes.erase(routes.find("b"));
  EXPECT_EQ(routes.size(), 0u);
  EXPECT_EQ(routes.group_count(), 0u);
  // Named again, the group is held again.
  routes.set("b", "workers", 3);
  EXPECT_EQ(routes.find("b")->second.group(), "workers");
  EXPECT_EQ(routes.group_count(), 1u);
}

TEST(route_table, a_new_request_replaces_the_route) {
  route_table routes;
  routes.set("a", "workers", 1);
  routes.set("a", "workers", 5); // the same group, a later request
  EXPECT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes.group_count(), 1u);
  EXPECT_EQ(routes.find("a")->second.seq, 5u);
  routes.set("a", "web", 6); // moved: the old name goes
  EXPECT_EQ(routes.group_count(), 1u);
  EXPECT_EQ(routes.find("a")->second.group(), "web");
  EXPECT_EQ(routes.find("a")->second.seq, 6u);
  routes.erase(routes.find("a"));
  EXPECT_EQ(routes.group_count(), 0u);
}

// Growing past what was reserved moves no name: routes keep pointing at
// the right one.
TEST(route_table, names_stay_put_as_the_table_grows) {
  route_table routes;
  for (int i = 0; i < 5000; ++i)
    routes.set("host-" + std::to_string(i), "group-" + std::to_string(i % 97),
               static_cast<std::uint64_t>(i));
  EXPECT_EQ(routes.group_count(), 97u);
  for (int i = 0; i < 5000; ++i) {
    auto it = routes.find("host-" + std::to_string(i));
    ASSERT_NE(it, routes.end());
    EXPECT_EQ(it->second.group(), "group-" + std::to_string(i % 97));
    EXPECT_EQ(it->second.seq, static_cast<std::uint64_t>(i));
  }
}

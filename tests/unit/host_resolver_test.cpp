// Tests for net/host_resolver: names are resolved for the self-only rule as
// Go's net.LookupHost resolves them, so forms only the C library reads as
// addresses, and names a NUL would cut short, match no address.
#include "net/host_resolver.hpp"

#include <algorithm>
#include <future>

#include <gtest/gtest.h>

namespace {

using dm::answer_without_lookup;

TEST(self_only_rule_cannot_be_got_around, literals_answer_for_themselves) {
  for (const char* literal : {"127.0.0.1", "10.1.2.3", "::1", "fe80::1",
                              "::ffff:127.0.0.1", "fe80::1%lo"}) {
    auto answer = answer_without_lookup(literal);
    ASSERT_TRUE(answer) << literal;
    EXPECT_EQ(answer->error, "") << literal;
    EXPECT_EQ(answer->addresses, std::vector<std::string>{literal});
  }
}

TEST(self_only_rule_cannot_be_got_around,
     numbers_only_the_c_library_reads_are_no_such_host) {
  for (const char* name : {"127.1", "0177.0.0.1", "2130706433", "0x7f.1",
                           "127.0.1", "0x7f000001", "127.000.000.001"}) {
    auto answer = answer_without_lookup(name);
    ASSERT_TRUE(answer) << name;
    EXPECT_TRUE(answer->addresses.empty()) << name;
    EXPECT_EQ(answer->error, "lookup " + std::string(name) + ": no such host");
  }
}

TEST(self_only_rule_cannot_be_got_around,
     names_with_nul_space_control_or_colon_are_no_such_host) {
  using namespace std::string_literals;
  for (const std::string& name :
       {"127.0.0.1\0victim"s, "localhost\0"s, "127.0.0.1 victim"s,
        "local\thost"s, "local\x7Fhost"s, "::1::2"s, "host:80"s, ""s}) {
    auto answer = answer_without_lookup(name);
    ASSERT_TRUE(answer) << testing::PrintToString(name);
    EXPECT_TRUE(answer->addresses.empty());
    EXPECT_EQ(answer->error, "lookup " + name + ": no such host");
  }
}

TEST(self_only_rule_cannot_be_got_around, names_are_looked_up) {
  EXPECT_FALSE(answer_without_lookup("localhost"));
  EXPECT_FALSE(answer_without_lookup("web-01.example.com"));
  EXPECT_FALSE(answer_without_lookup("1.2.3.4.example"));
  // Through the resolver: localhost still reaches the loopback address,
  // 127.1 never does.
  dm::host_resolver resolver(1);
  auto resolve = [&](std::string name) {
    std::promise<std::pair<std::vector<std::string>, std::string>> done;
    resolver.resolve(
        name, [&](std::vector<std::string> addresses, std::string error) {
          done.set_value({std::move(addresses), std::move(error)});
        });
    return done.get_future().get();
  };
  auto local = resolve("localhost");
  EXPECT_EQ(local.second, "");
  EXPECT_NE(std::find(local.first.begin(), local.first.end(), "127.0.0.1"),
            local.first.end());
  auto short_form = resolve("127.1");
  EXPECT_TRUE(short_form.first.empty());
  EXPECT_EQ(short_form.second, "lookup 127.1: no such host");
}

} // namespace

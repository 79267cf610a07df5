// Group identity, limits and path rules.
#include <gtest/gtest.h>

#include "disruption/group_rules.hpp"

using namespace dm;

namespace {

machine_record with_tags(std::map<std::string, std::string> tags,
                         std::string image = "") {
  machine_record m;
  m.hostname = "h";
  m.tags = std::move(tags);
  m.required_image = std::move(image);
  return m;
}

} // namespace

TEST(group_rules, tag_wins_even_when_empty) {
  EXPECT_EQ(
      group_identifier(with_tags(
          {{"DisruptionManagerGroupIdentifier", "NomadNodes"}}, "kubelet/1")),
      "NomadNodes");
  EXPECT_EQ(group_identifier(
                with_tags({{"DisruptionManagerGroupIdentifier", ""}}, "k/1")),
            "");
}

TEST(group_rules, image_stream_is_the_dir) {
  EXPECT_EQ(group_identifier(with_tags({}, "kubelet/2026-11-01.2")), "kubelet");
  EXPECT_EQ(group_identifier(with_tags({}, "a/b/c")), "a/b");
  EXPECT_EQ(group_identifier(with_tags({}, "plain")), ".");
  EXPECT_EQ(group_identifier(with_tags({}, "")), ".");
  EXPECT_EQ(group_identifier(with_tags({}, "/x")), "/");
  EXPECT_EQ(group_identifier(with_tags({}, "a//b")), "a");
  EXPECT_EQ(group_identifier(with_tags({}, "a/b/")), "a/b");
}

TEST(group_rules, go_path_clean) {
  EXPECT_EQ(go_path_clean("a/../b"), "b");
  EXPECT_EQ(go_path_clean("/../a"), "/a");
  EXPECT_EQ(go_path_clean("../a"), "../a");
  EXPECT_EQ(go_path_clean("./"), ".");
  EXPECT_EQ(go_path_clean("a/./b/"), "a/b");
}

TEST(group_rules, limits) {
  auto limit = [](const char* v) {
    return group_limit(
        with_tags({{"DisruptionManagerGroupMaximumDisrupting", v}}));
  };
  EXPECT_EQ(group_limit(with_tags({})), 1u);
  EXPECT_EQ(limit("3"), 3u);
  EXPECT_EQ(limit(""), 1u);
  EXPECT_EQ(limit("0"), 1u);
  EXPECT_EQ(limit("-2"), 1u);
  EXPECT_EQ(limit("+2"), 1u);
  EXPECT_EQ(limit("two"), 1u);
  EXPECT_EQ(limit("2 "), 1u);
  EXPECT_EQ(limit("99999999999999999999999"), 1u);
  EXPECT_EQ(limit("18446744073709551615"), 18446744073709551615ull);
}

TEST(group_rules, group_text) {
  EXPECT_EQ(group_text(""), "global group");
  EXPECT_EQ(group_text("G"), "group=\"G\"");
}

TEST(group_rules, ready_gate_from_tags) {
  std::string error;
  EXPECT_FALSE(ready_gate_for(with_tags({}), error));
  EXPECT_TRUE(error.empty());
  auto delay = ready_gate_for(
      with_tags({{"DisruptionManagerReadyTimeout", "1m30s"}}), error);
  ASSERT_TRUE(delay);
  EXPECT_EQ(delay->timeout, std::chrono::seconds(90));
  EXPECT_EQ(delay->url, "");
  auto url = ready_gate_for(
      with_tags({{"DisruptionManagerReadyUrl", "http://{{.Hostname}}:8/r"}}),
      error);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->timeout, std::chrono::minutes(15));
  EXPECT_EQ(url->url, "http://h:8/r");
  EXPECT_FALSE(ready_gate_for(
      with_tags({{"DisruptionManagerReadyTimeout", "soon"}}), error));
  EXPECT_NE(error.find("DisruptionManagerReadyTimeout"), std::string::npos);
  error.clear();
  EXPECT_FALSE(ready_gate_for(
      with_tags({{"DisruptionManagerReadyUrl", "http://{{.Nope"}}), error));
  EXPECT_NE(error.find("DisruptionManagerReadyUrl"), std::string::npos);
}

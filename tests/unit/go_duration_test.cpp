// Tests for duration/go_duration: every case in tests/data/duration/cases.json
// was produced by Go's own time package (see gen_cases.go next to it).
#include "duration/go_duration.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using std::chrono::nanoseconds;

nlohmann::json load_cases() {
  std::ifstream in(DM_SOURCE_DIR "/tests/data/duration/cases.json");
  EXPECT_TRUE(in.good()) << "missing tests/data/duration/cases.json";
  return nlohmann::json::parse(in);
}

TEST(go_duration, parses_like_go) {
  const auto cases = load_cases();
  ASSERT_GE(cases.at("parse").size(), 50u);
  for (const auto& c : cases.at("parse")) {
    const std::string input = c.at("input");
    const auto result = dm::parse_go_duration(input);
    if (c.at("ok").get<bool>()) {
      ASSERT_TRUE(result.value.has_value())
          << "input \"" << input << "\": " << result.error;
      EXPECT_EQ(result.value->count(), c.at("nanoseconds").get<std::int64_t>())
          << "input \"" << input << "\"";
      EXPECT_TRUE(result.error.empty()) << "input \"" << input << "\"";
    } else {
      EXPECT_FALSE(result.value.has_value()) << "input \"" << input << "\"";
      EXPECT_EQ(result.error, c.at("error").get<std::string>());
    }
  }
}

TEST(go_duration, formats_like_go) {
  const auto cases = load_cases();
  for (const auto& c : cases.at("format")) {
    const auto ns = c.at("nanoseconds").get<std::int64_t>();
    EXPECT_EQ(dm::format_go_duration(nanoseconds{ns}),
              c.at("text").get<std::string>())
        << ns << "ns";
  }
}

TEST(go_duration, formatting_round_trips_through_parsing) {
  const auto cases = load_cases();
  for (const auto& c : cases.at("format")) {
    const nanoseconds ns{c.at("nanoseconds").get<std::int64_t>()};
    const auto parsed = dm::parse_go_duration(dm::format_go_duration(ns));
    ASSERT_TRUE(parsed) << parsed.error;
    EXPECT_EQ(*parsed.value, ns);
  }
}

// The documented examples, written out so the contract reads without the
// data file.
TEST(go_duration, documented_examples) {
  using namespace std::chrono_literals;
  EXPECT_EQ(*dm::parse_go_duration("300ms").value, 300ms);
  EXPECT_EQ(*dm::parse_go_duration("-1.5h").value, -90min);
  EXPECT_EQ(*dm::parse_go_duration("2h45m").value, 165min);
  EXPECT_EQ(*dm::parse_go_duration("1h0m0.5s").value, 3600500ms);
  EXPECT_EQ(*dm::parse_go_duration(".5s").value, 500ms);
  EXPECT_EQ(*dm::parse_go_duration("7\xC2\xB5s").value, 7us); // U+00B5
  EXPECT_EQ(*dm::parse_go_duration("7\xCE\xBCs").value, 7us); // U+03BC
  EXPECT_EQ(dm::format_go_duration(1h), "1h0m0s");
  EXPECT_EQ(dm::format_go_duration(1us), "1\xC2\xB5s");
  EXPECT_EQ(dm::format_go_duration(-123s), "-2m3s");
}

TEST(go_duration, rejects_with_go_messages) {
  EXPECT_EQ(dm::parse_go_duration("").error, "time: invalid duration \"\"");
  EXPECT_EQ(dm::parse_go_duration("1").error,
            "time: missing unit in duration \"1\"");
  EXPECT_EQ(dm::parse_go_duration("1x").error,
            "time: unknown unit \"x\" in duration \"1x\"");
  EXPECT_EQ(dm::parse_go_duration("9223372036854775808ns").error,
            "time: invalid duration \"9223372036854775808ns\"");
  EXPECT_FALSE(dm::parse_go_duration("1x"));
}

} // namespace

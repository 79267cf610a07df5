// Maintenance window specs and their instants (docs/semantics.md,
// "Maintenance windows"): parsing, bad specs, midnight, the week's wrap and
// Europe/Berlin's changes to and from summer time.
#include <gtest/gtest.h>

#include <string>

#include "schedule/maintenance_windows.hpp"
#include "storage/legacy_state.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

window_time at(const char* rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(window_time{});
}

window_schedule schedule(const char* spec) {
  std::string error;
  auto parsed = window_schedule::parse(spec, error);
  EXPECT_TRUE(parsed.has_value()) << spec << ": " << error;
  return parsed.value_or(window_schedule{});
}

std::string parse_error(const std::string& spec) {
  std::string error;
  auto parsed = window_schedule::parse(spec, error);
  EXPECT_FALSE(parsed.has_value()) << spec;
  return error;
}

// 2026-12-07 is a Monday.
constexpr std::uint8_t bit(int day) {
  return std::uint8_t(1u << day);
}

} // namespace

TEST(maintenance_windows, reads_ranges_lists_and_several_windows) {
  auto s = schedule("  Mon-Fri 01:00-05:00 Europe/Berlin ;sat,SUN  22:00-6:00 "
                    "UTC;Fri-Mon 00:00-24:00 UTC ");
  EXPECT_EQ(s.spec(), "Mon-Fri 01:00-05:00 Europe/Berlin ;sat,SUN  22:00-6:00 "
                      "UTC;Fri-Mon 00:00-24:00 UTC");
  ASSERT_EQ(s.windows().size(), 3u);
  EXPECT_EQ(s.windows()[0].days, bit(1) | bit(2) | bit(3) | bit(4) | bit(5));
  EXPECT_EQ(s.windows()[0].start_minute, 60);
  EXPECT_EQ(s.windows()[0].end_minute, 300);
  EXPECT_EQ(s.windows()[1].days, bit(6) | bit(0));
  EXPECT_EQ(s.windows()[1].start_minute, 22 * 60);
  EXPECT_EQ(s.windows()[1].end_minute, 6 * 60);
  // A range past Sunday wraps.
  EXPECT_EQ(s.windows()[2].days, bit(5) | bit(6) | bit(0) | bit(1));
  EXPECT_EQ(s.windows()[2].end_minute, 24 * 60);
  EXPECT_EQ(schedule("Mon,Wed-Thu 10:00-11:00 UTC").windows()[0].days,
            bit(1) | bit(3) | bit(4));
}

TEST(maintenance_windows, a_bad_spec_is_refused_naming_what_is_wrong) {
  EXPECT_EQ(parse_error(""), "the maintenance window spec is empty");
  EXPECT_EQ(parse_error(" \t "), "the maintenance window spec is empty");
  EXPECT_NE(parse_error("Mox-Fri 01:00-05:00 UTC").find("bad day \"Mox\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon,Fr 01:00-05:00 UTC").find("bad day \"Fr\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon- 01:00-05:00 UTC").find("bad day \"\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 25:00-26:00 UTC").find("bad time \"25:00\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 01:00-05:60 UTC").find("bad time \"05:60\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 24:00-01:00 UTC").find("bad time \"24:00\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 1:5-02:00 UTC").find("bad time \"1:5\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 0100-0500 UTC").find("bad time \"0100\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 01:00 UTC").find("bad span \"01:00\""),
            std::string::npos);
  EXPECT_NE(
      parse_error("Mon 01:00-01:00 UTC").find("empty span \"01:00-01:00\""),
      std::string::npos);
  EXPECT_NE(parse_error("Mon 01:00-05:00 Europe/Berln")
                .find("unknown time zone \"Europe/Berln\""),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 01:00-05:00").find("is not DAYS HH:MM-HH:MM ZONE"),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 01:00-05:00 UTC extra").find("is not DAYS"),
            std::string::npos);
  EXPECT_NE(parse_error("Mon 01:00-05:00 UTC;").find("window 2 of 2 is empty"),
            std::string::npos);
  std::string many;
  for (int i = 0; i < 33; ++i)
    many += "Mon 01:00-02:00 UTC;";
  many.pop_back();
  EXPECT_NE(parse_error(many).find("more than 32"), std::string::npos);
  EXPECT_NE(parse_error(std::string(5000, 'x')).find("longer than 4096"),
            std::string::npos);
  // The message names the window it is about.
  EXPECT_NE(parse_error("Mon 01:00-02:00 UTC; Tue 03:00-2:61 UTC")
                .find("in \"Tue 03:00-2:61 UTC\""),
            std::string::npos);
}

TEST(maintenance_windows, a_span_covers_its_start_and_not_its_end) {
  auto s = schedule("Mon-Fri 01:00-05:00 UTC");
  EXPECT_FALSE(s.open_at(at("2026-12-07T00:59:59.999999999Z")));
  EXPECT_TRUE(s.open_at(at("2026-12-07T01:00:00Z")));
  EXPECT_TRUE(s.open_at(at("2026-12-07T04:59:59.999999999Z")));
  EXPECT_FALSE(s.open_at(at("2026-12-07T05:00:00Z")));
  EXPECT_TRUE(s.open_at(at("2026-12-11T02:00:00Z")));  // Friday
  EXPECT_FALSE(s.open_at(at("2026-12-12T02:00:00Z"))); // Saturday
  EXPECT_FALSE(s.open_at(at("2026-12-13T02:00:00Z"))); // Sunday
  EXPECT_EQ(s.next_change(at("2026-12-07T00:00:00Z")),
            at("2026-12-07T01:00:00Z"));
  EXPECT_EQ(s.next_change(at("2026-12-07T01:00:00Z")),
            at("2026-12-07T05:00:00Z"));
  // From Friday's close to Monday's opening.
  EXPECT_EQ(s.next_open(at("2026-12-11T05:00:00Z")),
            at("2026-12-14T01:00:00Z"));
  EXPECT_EQ(s.next_open(at("2026-12-11T02:00:00Z")),
            at("2026-12-11T02:00:00Z"));
  EXPECT_EQ(s.next_close(at("2026-12-11T02:00:00Z")),
            at("2026-12-11T05:00:00Z"));
  EXPECT_EQ(s.next_close(at("2026-12-12T02:00:00Z")),
            at("2026-12-12T02:00:00Z"));
}

TEST(maintenance_windows,
     a_span_crossing_midnight_belongs_to_the_day_it_starts) {
  auto s = schedule("Fri 22:00-02:00 UTC");
  EXPECT_FALSE(s.open_at(at("2026-12-11T21:59:00Z")));
  EXPECT_TRUE(s.open_at(at("2026-12-11T23:00:00Z")));
  EXPECT_TRUE(s.open_at(at("2026-12-12T01:59:00Z"))); // Saturday morning
  EXPECT_FALSE(s.open_at(at("2026-12-12T02:00:00Z")));
  EXPECT_FALSE(s.open_at(at("2026-12-12T23:00:00Z"))); // Saturday night
  // Friday morning is the end of no span: Thursday has none.
  EXPECT_FALSE(s.open_at(at("2026-12-11T01:00:00Z")));
  EXPECT_EQ(s.next_change(at("2026-12-11T12:00:00Z")),
            at("2026-12-11T22:00:00Z"));
  EXPECT_EQ(s.next_change(at("2026-12-11T23:00:00Z")),
            at("2026-12-12T02:00:00Z"));
  // A span ending at 24:00 ends at midnight.
  auto to_midnight = schedule("Mon 22:00-24:00 UTC");
  EXPECT_TRUE(to_midnight.open_at(at("2026-12-07T23:59:59Z")));
  EXPECT_FALSE(to_midnight.open_at(at("2026-12-08T00:00:00Z")));
}

TEST(maintenance_windows, sunday_spans_run_into_monday) {
  auto s = schedule("Sun 23:00-01:00 UTC");
  EXPECT_TRUE(s.open_at(at("2026-12-13T23:30:00Z")));
  EXPECT_TRUE(s.open_at(at("2026-12-14T00:30:00Z"))); // Monday
  EXPECT_FALSE(s.open_at(at("2026-12-14T01:00:00Z")));
  EXPECT_EQ(s.next_change(at("2026-12-14T00:30:00Z")),
            at("2026-12-14T01:00:00Z"));
  // A day range over the week's end.
  auto range = schedule("Sat-Mon 10:00-11:00 UTC");
  EXPECT_TRUE(range.open_at(at("2026-12-12T10:30:00Z")));  // Saturday
  EXPECT_TRUE(range.open_at(at("2026-12-13T10:30:00Z")));  // Sunday
  EXPECT_TRUE(range.open_at(at("2026-12-14T10:30:00Z")));  // Monday
  EXPECT_FALSE(range.open_at(at("2026-12-15T10:30:00Z"))); // Tuesday
  EXPECT_EQ(range.next_open(at("2026-12-14T11:00:00Z")),
            at("2026-12-19T10:00:00Z"));
}

TEST(maintenance_windows, several_windows_open_as_one_where_they_meet) {
  auto s = schedule("Mon 01:00-02:00 UTC; Mon 02:00-03:00 UTC; "
                    "Mon 05:00-06:00 UTC");
  EXPECT_EQ(s.next_change(at("2026-12-07T01:30:00Z")),
            at("2026-12-07T03:00:00Z"));
  EXPECT_EQ(s.next_change(at("2026-12-07T03:00:00Z")),
            at("2026-12-07T05:00:00Z"));
  // Each window keeps its own zone: 09:00 in New York is 14:00 UTC in
  // December, 09:00 in Tokyo is midnight UTC.
  auto zones = schedule("Mon 09:00-10:00 America/New_York; "
                        "Mon 09:00-10:00 Asia/Tokyo");
  EXPECT_TRUE(zones.open_at(at("2026-12-07T00:30:00Z")));
  EXPECT_FALSE(zones.open_at(at("2026-12-07T09:30:00Z")));
  EXPECT_TRUE(zones.open_at(at("2026-12-07T14:30:00Z")));
  EXPECT_EQ(zones.next_open(at("2026-12-07T01:00:00Z")),
            at("2026-12-07T14:00:00Z"));
}

TEST(maintenance_windows, a_window_open_all_week_never_changes) {
  auto s = schedule("Mon-Sun 00:00-24:00 UTC");
  EXPECT_TRUE(s.open_at(at("2026-12-09T12:34:56Z")));
  EXPECT_FALSE(s.next_change(at("2026-12-09T12:34:56Z")).has_value());
  EXPECT_FALSE(s.next_close(at("2026-12-09T12:34:56Z")).has_value());
}

// Europe/Berlin goes to summer time on 2026-03-29 at 01:00 UTC (02:00 CET
// becomes 03:00 CEST): the wall clock never reads 02:00-03:00 that day.
TEST(maintenance_windows, the_hour_skipped_in_spring_is_never_open) {
  auto skipped = schedule("Sun 02:00-03:00 Europe/Berlin");
  // The Sunday before, in winter time: 02:00 CET is 01:00 UTC.
  EXPECT_TRUE(skipped.open_at(at("2026-03-22T01:30:00Z")));
  EXPECT_FALSE(skipped.open_at(at("2026-03-29T00:59:59Z")));
  EXPECT_FALSE(skipped.open_at(at("2026-03-29T01:00:00Z")));
  EXPECT_FALSE(skipped.open_at(at("2026-03-29T01:30:00Z")));
  // Next open: the Sunday after, 02:00 CEST.
  EXPECT_EQ(skipped.next_open(at("2026-03-28T12:00:00Z")),
            at("2026-04-05T00:00:00Z"));
  // A window around the skipped hour is open on both sides of it, three
  // hours in all.
  auto around = schedule("Sun 01:00-05:00 Europe/Berlin");
  EXPECT_EQ(around.next_open(at("2026-03-28T23:00:00Z")),
            at("2026-03-29T00:00:00Z"));
  EXPECT_TRUE(around.open_at(at("2026-03-29T00:59:59Z")));
  EXPECT_TRUE(around.open_at(at("2026-03-29T01:00:00Z")));
  EXPECT_EQ(around.next_close(at("2026-03-29T00:30:00Z")),
            at("2026-03-29T03:00:00Z"));
  // A span from inside the skipped hour opens when the clock jumps.
  auto from_inside = schedule("Sun 02:30-04:00 Europe/Berlin");
  EXPECT_EQ(from_inside.next_open(at("2026-03-28T23:00:00Z")),
            at("2026-03-29T01:00:00Z"));
  EXPECT_EQ(from_inside.next_close(at("2026-03-29T01:00:00Z")),
            at("2026-03-29T02:00:00Z"));
}

// Europe/Berlin goes back to winter time on 2026-10-25 at 01:00 UTC (03:00
// CEST becomes 02:00 CET): the wall clock reads 02:00-03:00 twice.
TEST(maintenance_windows, the_hour_repeated_in_autumn_is_open_both_times) {
  auto repeated = schedule("Sun 02:00-03:00 Europe/Berlin");
  EXPECT_FALSE(repeated.open_at(at("2026-10-24T23:59:59Z")));
  EXPECT_EQ(repeated.next_open(at("2026-10-24T12:00:00Z")),
            at("2026-10-25T00:00:00Z")); // 02:00 CEST
  EXPECT_TRUE(repeated.open_at(at("2026-10-25T00:30:00Z")));
  EXPECT_TRUE(repeated.open_at(at("2026-10-25T01:30:00Z"))); // 02:30 CET
  // No change where the clocks go back: open through both hours.
  EXPECT_EQ(repeated.next_close(at("2026-10-25T00:00:00Z")),
            at("2026-10-25T02:00:00Z")); // 03:00 CET
  EXPECT_FALSE(repeated.open_at(at("2026-10-25T02:00:00Z")));
  // A span ending inside the repeated hour ends at its second reading.
  auto into = schedule("Sat 23:00-02:30 Europe/Berlin");
  EXPECT_EQ(into.next_close(at("2026-10-24T22:00:00Z")),
            at("2026-10-25T01:30:00Z"));
}

TEST(maintenance_windows, the_time_zone_database_loads) {
  EXPECT_EQ(load_time_zones(), "");
}

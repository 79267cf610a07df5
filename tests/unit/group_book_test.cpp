// The group decisions of docs/semantics.md, one rule per test.
#include <gtest/gtest.h>

#include <cstdint>

#include "disruption/group_book.hpp"
#include "storage/legacy_state.hpp"
#include "tests/support/call_names.hpp"

using namespace dm;
using namespace std::chrono_literals;
using dm::test::call_names::D;
using dm::test::call_names::P;
using dm::test::call_names::R;

namespace {

struct book_fixture : ::testing::Test {
  group_book book{"G", 1h};
  timestamp now{std::chrono::hours(500000)};

  disruption_state request(const std::string& host, std::uint64_t limit = 1) {
    return book.operate(request_kind::request, host, limit, std::nullopt, now);
  }
  disruption_state check(const std::string& host, std::uint64_t limit = 1) {
    return book.operate(request_kind::check, host, limit, std::nullopt, now);
  }
  disruption_state cancel(const std::string& host, std::uint64_t limit = 1,
                          std::optional<ready_gate> gate = std::nullopt) {
    return book.operate(request_kind::cancel, host, limit, gate, now);
  }
  // What operators set (docs/semantics.md, "Operator control").
  void set(bool paused, bool frozen,
           std::optional<std::uint64_t> limit = std::nullopt) {
    group_controls c;
    c.paused = paused;
    c.frozen = frozen;
    c.limit_override = limit;
    book.set_controls(c, now);
  }
};

// The operators' rules, tested as the others are.
struct controls_fixture : book_fixture {
  static constexpr auto released = group_book::release_outcome::released;
  static constexpr auto only_waiting =
      group_book::release_outcome::only_waiting;
  static constexpr auto nothing = group_book::release_outcome::nothing;
};

// Blocking alerts (docs/semantics.md, "Blocking alerts"), with what
// operators set beside them.
struct alert_fixture : book_fixture {
  void block(bool blocked, bool paused = false) {
    group_controls c;
    c.paused = paused;
    c.blocked_by_alert = blocked;
    book.set_controls(c, now);
  }
};

} // namespace

TEST_F(book_fixture, original_test_sequence) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(cancel("a"), D);
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(cancel("b"), D);
  EXPECT_EQ(book.occupied(), 0u);
  EXPECT_TRUE(book.entries().empty());
}

TEST_F(book_fixture, unknown_machine_is_denied_and_not_remembered) {
  EXPECT_EQ(check("x"), D);
  EXPECT_EQ(cancel("x"), D);
  EXPECT_TRUE(book.entries().empty());
  EXPECT_TRUE(book.take_effects().changed_hosts.empty());
}

TEST_F(book_fixture, request_of_permitted_refreshes_and_stays) {
  EXPECT_EQ(request("a"), P);
  now += 50min;
  EXPECT_EQ(request("a"), P);
  now += 50min; // 100 minutes after the first request, 50 after the last
  EXPECT_EQ(check("a"), P);
  now += 11min;
  EXPECT_EQ(check("a"), D);
}

TEST_F(book_fixture, check_does_not_refresh) {
  EXPECT_EQ(request("a"), P);
  now += 59min;
  EXPECT_EQ(check("a"), P);
  now += 2min;
  EXPECT_EQ(check("a"), D);
}

TEST_F(book_fixture, strict_fifo_over_many_queued_with_limit_three) {
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(request("p" + std::to_string(i), 3), P);
  for (int i = 0; i < 12; ++i) {
    now += 1s;
    EXPECT_EQ(request("q" + std::to_string(i), 3), R);
  }
  // Later requests from queued machines do not move them forward.
  EXPECT_EQ(request("q11", 3), R);
  EXPECT_EQ(request("q5", 3), R);
  std::vector<std::string> order;
  std::vector<std::string> holders = {"p0", "p1", "p2"};
  while (!holders.empty()) {
    auto host = holders.front();
    holders.erase(holders.begin());
    cancel(host, 3);
    for (int i = 0; i < 12; ++i) {
      auto q = "q" + std::to_string(i);
      if (std::find(order.begin(), order.end(), q) == order.end() &&
          book.state_of(q) == P) {
        order.push_back(q);
        holders.push_back(q);
      }
    }
    EXPECT_LE(book.permitted_count(), 3u);
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 12; ++i)
    expected.push_back("q" + std::to_string(i));
  EXPECT_EQ(order, expected);
}

TEST_F(book_fixture, cancel_of_requested_leaves_queue) {
  request("a");
  request("b");
  request("c");
  EXPECT_EQ(cancel("b"), D);
  cancel("a");
  EXPECT_EQ(check("c"), P);
  EXPECT_EQ(check("b"), D);
}

TEST_F(book_fixture, newcomer_does_not_jump_the_queue) {
  request("a", 2);
  request("b", 1); // Limit now 1: b queues although a group of 2 had room.
  EXPECT_EQ(book.state_of("b"), R);
  // The limit rises with the next call: the queue head goes first.
  EXPECT_EQ(request("c", 2), R);
  EXPECT_EQ(book.state_of("b"), P);
}

TEST_F(book_fixture, limit_is_remembered_per_group) {
  EXPECT_EQ(request("a", 2), P);
  EXPECT_EQ(book.limit(), 2u);
  // A caller without the tag lowers it to 1 (the most recent call wins).
  EXPECT_EQ(request("b", 1), R);
  EXPECT_EQ(book.limit(), 1u);
  EXPECT_EQ(check("b", 2), P);
}

TEST_F(book_fixture, cancel_keeps_the_remembered_limit) {
  EXPECT_EQ(request("a", 2), P);
  EXPECT_EQ(request("b", 2), P);
  EXPECT_EQ(request("c", 2), R);
  book.take_effects();
  // A record without the tag cancels: the limit stays 2, so the freed
  // slot goes to c at once.
  EXPECT_EQ(cancel("a", 1), D);
  EXPECT_EQ(book.limit(), 2u);
  EXPECT_EQ(book.state_of("c"), P);
  EXPECT_FALSE(book.take_effects().limit_changed);
}

TEST_F(book_fixture,
       holdings_lapse_only_after_lasting_longer_than_the_maximum) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  auto requested_at = now;
  now = requested_at + 1h;
  EXPECT_EQ(check("a"), P);
  EXPECT_EQ(check("b"), R);
  EXPECT_EQ(book.earliest_deadline(), requested_at + 1h + 1ns);
  now = requested_at + 1h + 1ns;
  EXPECT_EQ(check("a"), D);
  EXPECT_EQ(check("b"), D);
}

TEST_F(book_fixture, tells_when_a_cancel_freed_a_permit) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(cancel("b"), D);
  EXPECT_FALSE(book.last_cancel_freed_permit()); // only queued
  EXPECT_EQ(cancel("a"), D);
  EXPECT_TRUE(book.last_cancel_freed_permit());
  EXPECT_EQ(check("a"), D);
  EXPECT_FALSE(book.last_cancel_freed_permit());
  // A permit that lapsed a moment before its cancel frees nothing then.
  EXPECT_EQ(request("c"), P);
  now += 1h + 1ns;
  EXPECT_EQ(cancel("c"), D);
  EXPECT_FALSE(book.last_cancel_freed_permit());
  // A queued machine promoted within its own cancel (the holder lapsed
  // just before) does free a permit there.
  EXPECT_EQ(request("e"), P);
  now += 30min;
  EXPECT_EQ(request("d"), R);
  now += 30min + 1ns; // e has lapsed; d has half an hour left
  EXPECT_EQ(cancel("d"), D);
  EXPECT_TRUE(book.last_cancel_freed_permit());
}

TEST_F(book_fixture, expiry_frees_slot_for_queue_head) {
  request("a");
  now += 30min;
  request("b");
  now += 31min; // a expired (61 min), b not (31 min)
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(check("a"), D);
  auto fx = book.take_effects();
  bool saw = false;
  for (auto& line : fx.log_lines)
    saw = saw || line == "a: permitted/expired->denied";
  EXPECT_TRUE(saw);
}

TEST_F(book_fixture, requested_machines_expire_too) {
  request("a");
  request("b");
  now += 61min;
  book.expire(now);
  EXPECT_EQ(book.state_of("b"), D);
  EXPECT_TRUE(book.entries().empty());
}

TEST_F(book_fixture, ready_delay_holds_slot_until_deadline) {
  request("a");
  request("b");
  EXPECT_EQ(cancel("a", 1, ready_gate{5min, ""}), D);
  EXPECT_EQ(book.waiting_count(), 1u);
  EXPECT_EQ(check("b"), R);
  now += 4min;
  EXPECT_EQ(check("b"), R);
  now += 1min;
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(book.waiting_count(), 0u);
}

TEST_F(book_fixture, ready_url_ends_wait_early) {
  request("a");
  request("b");
  cancel("a", 1, ready_gate{15min, "http://a:1/ready"});
  auto id = book.find("a")->wait->wait_id;
  book.end_wait("a", id + 1, now); // stale prober result
  EXPECT_EQ(check("b"), R);
  book.end_wait("a", id, now);
  EXPECT_EQ(check("b"), P);
}

TEST_F(book_fixture, waiting_machine_answers_denied_and_may_queue_again) {
  request("a");
  cancel("a", 1, ready_gate{10min, ""});
  EXPECT_EQ(check("a"), D);
  EXPECT_EQ(cancel("a"), D);
  EXPECT_EQ(request("a"), R); // its own wait holds the slot
  now += 10min;
  EXPECT_EQ(check("a"), P);
}

TEST_F(book_fixture, evict_releases_without_gate) {
  request("a");
  request("b");
  book.evict("a", now);
  EXPECT_EQ(book.state_of("b"), P);
  EXPECT_EQ(book.waiting_count(), 0u);
  EXPECT_EQ(book.find("a"), nullptr);
}

TEST_F(book_fixture, restore_keeps_queue_order_and_slots) {
  group_book restored{"G", 1h};
  restored.restore("b", host_entry{holding{false, now, 7}, std::nullopt});
  restored.restore("a", host_entry{holding{true, now, 3}, std::nullopt});
  restored.restore("c", host_entry{holding{false, now, 5}, std::nullopt});
  EXPECT_EQ(restored.queue(), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(restored.operate(request_kind::request, "d", 1, std::nullopt, now),
            R);
  restored.operate(request_kind::cancel, "a", 1, std::nullopt, now);
  EXPECT_EQ(restored.state_of("c"), P);
  EXPECT_EQ(restored.queue(), (std::vector<std::string>{"b", "d"}));
}

// The later of two entries for one host wins, with the counts and the
// queue of that one alone.
TEST_F(book_fixture, restoring_a_host_again_replaces_its_entry) {
  group_book restored{"G", 1h};
  restored.restore("a", host_entry{holding{false, now, 4}, std::nullopt});
  restored.restore("b", host_entry{holding{false, now, 2}, std::nullopt});
  restored.restore("a", host_entry{holding{true, now, 1}, std::nullopt});
  EXPECT_EQ(restored.queue(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(restored.permitted_count(), 1u);
  EXPECT_EQ(restored.queue_position("a"), 0u);
  EXPECT_EQ(restored.queue_position("b"), 1u);
  EXPECT_EQ(restored.operate(request_kind::cancel, "a", 1, std::nullopt, now),
            D);
  EXPECT_EQ(restored.state_of("b"), P);
  EXPECT_TRUE(restored.queue().empty());
}

TEST_F(book_fixture, transitions_use_the_original_words) {
  request("a");
  request("b");
  cancel("a");
  auto fx = book.take_effects();
  std::vector<std::string> expected = {
      "a: denied->permitted", "b: denied->requested", "a: permitted->denied",
      "b: requested->permitted"};
  EXPECT_EQ(fx.log_lines, expected);
}

// Durations up to Go's largest (2562047h47m16.854775807s) reach past the
// last instant 64 bits of nanoseconds hold; Go's time arithmetic does not
// wrap there, and neither may ours (docs/semantics.md, "Edges").
namespace {
constexpr std::chrono::nanoseconds go_largest_duration{INT64_MAX};
} // namespace

TEST(group_book_edges, huge_maximum_duration_never_lapses) {
  for (auto max : {std::chrono::nanoseconds(2500000h), go_largest_duration}) {
    group_book book{"G", max};
    timestamp now{std::chrono::hours(500000)};
    auto call = [&](request_kind kind, const std::string& host) {
      return book.operate(kind, host, 1, std::nullopt, now);
    };
    EXPECT_EQ(call(request_kind::request, "a"), P) << max.count();
    now += 300ms;
    EXPECT_EQ(call(request_kind::check, "a"), P) << max.count();
    // The group's one slot stays with a: b queues.
    EXPECT_EQ(call(request_kind::request, "b"), R) << max.count();
    EXPECT_EQ(book.permitted_count(), 1u);
    now += std::chrono::hours(24 * 365 * 200);
    book.expire(now);
    EXPECT_EQ(book.state_of("a"), P) << max.count();
    EXPECT_EQ(book.state_of("b"), R) << max.count();
    ASSERT_TRUE(book.earliest_deadline());
    EXPECT_GT(*book.earliest_deadline(), now);
  }
}

TEST(group_book_edges, huge_ready_timeout_holds_the_slot) {
  for (auto timeout : {std::chrono::nanoseconds(2100000h), go_largest_duration,
                       go_largest_duration - 1ns}) {
    group_book book{"G", 1h};
    timestamp now{std::chrono::hours(500000)};
    EXPECT_EQ(book.operate(request_kind::request, "a", 1, std::nullopt, now),
              P);
    EXPECT_EQ(book.operate(request_kind::cancel, "a", 1,
                           ready_gate{timeout, ""}, now),
              D);
    now += 300ms;
    EXPECT_EQ(book.operate(request_kind::request, "b", 1, std::nullopt, now), R)
        << timeout.count();
    EXPECT_EQ(book.waiting_count(), 1u);
    ASSERT_TRUE(book.find("a") && book.find("a")->wait);
    EXPECT_GT(book.find("a")->wait->deadline, now);
    // b's own request lapses after the hour; a's wait goes on.
    now += 2h;
    book.expire(now);
    EXPECT_EQ(book.waiting_count(), 1u) << timeout.count();
    EXPECT_EQ(book.state_of("b"), D);
  }
}

// Operator control: pause, freeze, limit override and release, one rule
// per test.
TEST_F(controls_fixture, paused_group_queues_requests_and_keeps_permits) {
  EXPECT_EQ(request("a", 3), P);
  set(true, false);
  EXPECT_EQ(request("b", 3), R); // free slots, but nothing new is granted
  EXPECT_EQ(request("c", 3), R);
  EXPECT_EQ(check("a", 3), P); // the permit given before stays
  EXPECT_EQ(check("b", 3), R); // checks answer as ever
  EXPECT_EQ(book.queue(), (std::vector<std::string>{"b", "c"}));
}

TEST_F(controls_fixture, resume_grants_the_queue_in_order) {
  set(true, false);
  EXPECT_EQ(request("q1", 2), R);
  now += 1s;
  EXPECT_EQ(request("q2", 2), R);
  now += 1s;
  EXPECT_EQ(request("q3", 2), R);
  book.take_effects();
  set(false, false);
  auto fx = book.take_effects();
  EXPECT_EQ(fx.log_lines,
            (std::vector<std::string>{"q1: requested->permitted",
                                      "q2: requested->permitted"}));
  EXPECT_EQ(check("q1", 2), P);
  EXPECT_EQ(check("q2", 2), P);
  EXPECT_EQ(check("q3", 2), R);
}

TEST_F(controls_fixture, frozen_group_grants_nothing_until_thawed) {
  set(false, true);
  EXPECT_EQ(request("a"), R);
  EXPECT_EQ(book.permitted_count(), 0u);
  set(false, false);
  EXPECT_EQ(check("a"), P);
}

TEST_F(controls_fixture, thaw_keeps_a_paused_group_paused) {
  set(true, true);
  EXPECT_EQ(request("a"), R);
  set(true, false); // thawed, still paused
  EXPECT_EQ(check("a"), R);
  set(false, false);
  EXPECT_EQ(check("a"), P);
}

TEST_F(controls_fixture, paused_group_frees_slots_by_expiry_but_fills_none) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  set(true, false);
  now += 61min;
  EXPECT_EQ(check("a"), D);   // lapsed
  EXPECT_EQ(request("b"), R); // the freed slot waits for resume
  set(false, false);
  EXPECT_EQ(check("b"), P);
}

TEST_F(controls_fixture, override_limit_wins_over_the_tag) {
  set(false, false, 3);
  EXPECT_EQ(request("a", 1), P);
  EXPECT_EQ(request("b", 1), P);
  EXPECT_EQ(request("c", 1), P);
  EXPECT_EQ(request("d", 7), R);
  EXPECT_EQ(book.limit(), 7u); // the tag is still remembered (and saved)
  EXPECT_EQ(book.effective_limit(), 3u);
}

TEST_F(controls_fixture, lower_override_takes_no_permit_back) {
  EXPECT_EQ(request("a", 3), P);
  EXPECT_EQ(request("b", 3), P);
  set(false, false, 1);
  EXPECT_EQ(check("a", 3), P);
  EXPECT_EQ(check("b", 3), P);
  EXPECT_EQ(request("c", 3), R);
  EXPECT_EQ(cancel("a", 3), D);
  EXPECT_EQ(check("c", 3), R); // b still holds the one slot
  EXPECT_EQ(cancel("b", 3), D);
  EXPECT_EQ(check("c", 3), P);
}

TEST_F(controls_fixture, raising_the_override_grants_the_queue_at_once) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(request("c"), R);
  set(false, false, 2);
  EXPECT_EQ(book.permitted_count(), 2u);
  EXPECT_EQ(book.queue(), (std::vector<std::string>{"c"}));
}

TEST_F(controls_fixture, clearing_the_override_goes_back_to_the_tag) {
  set(false, false, 1);
  EXPECT_EQ(request("a", 2), P);
  EXPECT_EQ(request("b", 2), R);
  set(false, false);
  EXPECT_EQ(check("b", 2), P);
}

TEST_F(controls_fixture, release_frees_a_permit_for_the_queue) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(book.release("a", std::nullopt, false, now), released);
  EXPECT_EQ(check("a"), D);
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(book.find("a"), nullptr);
}

TEST_F(controls_fixture, release_applies_the_ready_gate_by_default) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(book.release("a", ready_gate{10min, ""}, false, now), released);
  EXPECT_EQ(check("a"), D);
  EXPECT_EQ(check("b"), R); // the slot is held by a's wait
  EXPECT_EQ(book.waiting_count(), 1u);
  now += 10min;
  EXPECT_EQ(check("b"), P);
}

TEST_F(controls_fixture, release_skipping_the_gate_ends_a_wait_too) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(book.release("a", ready_gate{10min, ""}, false, now), released);
  EXPECT_EQ(request("a"), R); // waiting and queued again
  EXPECT_EQ(book.release("a", std::nullopt, true, now), released);
  EXPECT_EQ(book.waiting_count(), 0u);
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(book.find("a"), nullptr);
}

TEST_F(controls_fixture, release_of_a_queued_machine_leaves_the_queue) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(request("c"), R);
  EXPECT_EQ(book.release("b", ready_gate{10min, ""}, false, now), released);
  EXPECT_EQ(book.queue(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(book.waiting_count(), 0u); // no slot, no gate
}

TEST_F(controls_fixture, release_of_an_unknown_machine_changes_nothing) {
  EXPECT_EQ(request("a"), P);
  book.take_effects();
  EXPECT_EQ(book.release("x", std::nullopt, true, now), nothing);
  EXPECT_TRUE(book.take_effects().changed_hosts.empty());
}

TEST_F(controls_fixture,
       a_machine_only_waiting_is_released_only_past_the_gate) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(cancel("a", 1, ready_gate{10min, ""}), D);
  book.take_effects();
  // The gate's wait is all a holds: releasing it "with the gate" would
  // change nothing, and says so.
  EXPECT_EQ(book.release("a", ready_gate{10min, ""}, false, now), only_waiting);
  EXPECT_TRUE(book.take_effects().changed_hosts.empty());
  EXPECT_EQ(book.waiting_count(), 1u);
  EXPECT_EQ(check("b"), R);
  EXPECT_EQ(book.release("a", std::nullopt, true, now), released);
  EXPECT_EQ(check("b"), P);
}

TEST_F(controls_fixture, release_in_a_paused_group_keeps_the_slot_free) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  set(true, false);
  EXPECT_EQ(book.release("a", std::nullopt, false, now), released);
  EXPECT_EQ(check("b"), R);
  set(false, false);
  EXPECT_EQ(check("b"), P);
}

// Maintenance windows (docs/semantics.md, "Maintenance windows"), in virtual
// time: outside its windows the group grants nothing new.
namespace {

struct windows_fixture : book_fixture {
  windows_fixture() {
    // Queued requests outlast the nights these tests wait through.
    book = group_book{"G", 240h};
  }

  static timestamp at(const char* rfc3339) {
    return parse_rfc3339(rfc3339).value_or(timestamp{});
  }
  static window_schedule spec(const char* text) {
    std::string error;
    auto parsed = window_schedule::parse(text, error);
    EXPECT_TRUE(parsed) << error;
    return parsed.value_or(window_schedule{});
  }
  // An operator's windows (none: cleared).
  void set_windows(std::optional<window_schedule> windows) {
    group_controls c;
    c.windows = std::move(windows);
    book.set_controls(c, now);
  }
  disruption_state request_tagged(const std::string& host,
                                  const std::string& windows,
                                  std::uint64_t limit = 1) {
    return book.operate(request_kind::request, host, limit, std::nullopt, now,
                        windows);
  }
  // The group's timer fires.
  void wake_at(const char* rfc3339) {
    now = at(rfc3339);
    book.expire(now);
  }
};

} // namespace

// 2026-12-07 is a Monday.
TEST_F(windows_fixture,
       outside_requests_queue_and_are_granted_in_order_when_it_opens) {
  now = at("2026-12-06T23:00:00Z");
  set_windows(spec("Mon 01:00-05:00 UTC"));
  EXPECT_TRUE(book.controls().outside_window);
  EXPECT_FALSE(book.controls().granting());
  EXPECT_EQ(request("a", 2), R);
  EXPECT_EQ(request("b", 2), R);
  EXPECT_EQ(request("c", 2), R);
  EXPECT_EQ(check("a", 2), R); // checks answer as ever
  // The group's timer is set for the opening.
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-07T01:00:00Z"));
  wake_at("2026-12-07T00:59:59Z");
  EXPECT_EQ(book.state_of("a"), R);
  wake_at("2026-12-07T01:00:00Z");
  EXPECT_FALSE(book.controls().outside_window);
  EXPECT_EQ(book.state_of("a"), P);
  EXPECT_EQ(book.state_of("b"), P);
  EXPECT_EQ(book.state_of("c"), R); // two slots, first come first
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-07T05:00:00Z"));
  auto fx = book.take_effects();
  EXPECT_NE(std::find(fx.log_lines.begin(), fx.log_lines.end(),
                      "maintenance window open"),
            fx.log_lines.end());
}

TEST_F(windows_fixture, permits_given_inside_stay_after_it_closes) {
  now = at("2026-12-07T04:00:00Z");
  set_windows(spec("Mon 01:00-05:00 UTC"));
  EXPECT_EQ(request("a"), P);
  wake_at("2026-12-07T05:00:00Z");
  EXPECT_TRUE(book.controls().outside_window);
  EXPECT_EQ(check("a"), P);
  EXPECT_EQ(request("a"), P); // refreshing keeps it
  EXPECT_EQ(cancel("a"), D);
  // The freed slot goes to nobody while closed.
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(request("c"), R);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-14T01:00:00Z"));
  wake_at("2026-12-14T01:00:00Z");
  EXPECT_EQ(book.state_of("b"), P);
  EXPECT_EQ(book.state_of("c"), R);
}

TEST_F(windows_fixture, clearing_the_windows_grants_the_queue_at_once) {
  now = at("2026-12-06T12:00:00Z");
  set_windows(spec("Mon 01:00-05:00 UTC"));
  EXPECT_EQ(request("a"), R);
  set_windows(std::nullopt);
  EXPECT_FALSE(book.controls().outside_window);
  EXPECT_EQ(book.state_of("a"), P);
  EXPECT_FALSE(book.next_window_change().has_value());
}

TEST_F(windows_fixture, pause_and_windows_both_hold_back) {
  now = at("2026-12-07T02:00:00Z");
  group_controls c;
  c.windows = spec("Mon 01:00-05:00 UTC");
  c.paused = true;
  book.set_controls(c, now);
  EXPECT_EQ(request("a"), R); // open, but paused
  c.paused = false;
  book.set_controls(c, now);
  EXPECT_EQ(book.state_of("a"), P);
}

TEST_F(windows_fixture, the_records_tag_sets_windows_and_the_operator_wins) {
  now = at("2026-12-06T12:00:00Z"); // Sunday
  EXPECT_EQ(request_tagged("a", "Mon 01:00-05:00 UTC"), R);
  EXPECT_EQ(book.tag_windows(), "Mon 01:00-05:00 UTC");
  EXPECT_TRUE(book.take_effects().limit_changed); // saved with the group
  EXPECT_FALSE(book.windows_from_operator());
  // The operator's window is open now: it wins over the tag.
  set_windows(spec("Sun 00:00-24:00 UTC"));
  EXPECT_TRUE(book.windows_from_operator());
  EXPECT_EQ(book.state_of("a"), P);
  EXPECT_EQ(request_tagged("b", "Mon 01:00-05:00 UTC", 2), P);
  // Cleared: the tag's windows apply again.
  set_windows(std::nullopt);
  EXPECT_EQ(book.windows()->spec(), "Mon 01:00-05:00 UTC");
  EXPECT_EQ(request_tagged("c", "Mon 01:00-05:00 UTC", 3), R);
}

TEST_F(windows_fixture, a_request_without_the_tag_clears_the_records_windows) {
  now = at("2026-12-06T12:00:00Z");
  EXPECT_EQ(request_tagged("a", "Mon 01:00-05:00 UTC"), R);
  // As the limit: the latest request or check decides.
  EXPECT_EQ(check("b"), D);
  EXPECT_EQ(book.tag_windows(), "");
  EXPECT_EQ(book.state_of("a"), P);
  // A cancel does not read the tag.
  EXPECT_EQ(request_tagged("c", "Mon 01:00-05:00 UTC", 2), R);
  EXPECT_EQ(cancel("a", 2), D);
  EXPECT_EQ(book.tag_windows(), "Mon 01:00-05:00 UTC");
  EXPECT_EQ(book.state_of("c"), R);
}

TEST_F(windows_fixture, a_span_past_midnight_grants_until_its_end) {
  auto window = "Fri 22:00-02:00 UTC";
  now = at("2026-12-11T21:00:00Z"); // Friday
  EXPECT_EQ(request_tagged("a", window, 3), R);
  wake_at("2026-12-11T22:00:00Z");
  EXPECT_EQ(book.state_of("a"), P);
  now = at("2026-12-12T01:59:00Z"); // Saturday morning
  EXPECT_EQ(request_tagged("b", window, 3), P);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-12T02:00:00Z"));
  wake_at("2026-12-12T02:00:00Z");
  EXPECT_EQ(request_tagged("c", window, 3), R);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-18T22:00:00Z"));
}

TEST_F(windows_fixture, a_sunday_night_span_runs_into_monday) {
  auto window = "Sun 23:00-01:00 UTC";
  now = at("2026-12-14T00:30:00Z"); // Monday
  EXPECT_EQ(request_tagged("a", window, 2), P);
  wake_at("2026-12-14T01:00:00Z");
  EXPECT_EQ(request_tagged("b", window, 2), R);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-20T23:00:00Z"));
}

// Europe/Berlin skips 02:00-03:00 on 2026-03-29 (01:00 UTC).
TEST_F(windows_fixture, the_skipped_spring_hour_grants_nothing_that_day) {
  auto window = "Sun 02:00-03:00 Europe/Berlin";
  now = at("2026-03-28T12:00:00Z");
  EXPECT_EQ(request_tagged("a", window), R);
  // Not that night: a week later, 02:00 CEST.
  EXPECT_EQ(book.earliest_deadline(), at("2026-04-05T00:00:00Z"));
  wake_at("2026-03-29T01:00:00Z");
  EXPECT_EQ(book.state_of("a"), R);
  wake_at("2026-04-05T00:00:00Z");
  EXPECT_EQ(book.state_of("a"), P);
  // Around the skipped hour: 01:00 CET to 05:00 CEST.
  group_book other{"H", 240h};
  auto around = "Sun 01:00-05:00 Europe/Berlin";
  now = at("2026-03-29T00:59:00Z");
  EXPECT_EQ(
      other.operate(request_kind::request, "x", 5, std::nullopt, now, around),
      P);
  now = at("2026-03-29T02:59:00Z");
  EXPECT_EQ(
      other.operate(request_kind::request, "y", 5, std::nullopt, now, around),
      P);
  EXPECT_EQ(other.earliest_deadline(), at("2026-03-29T03:00:00Z"));
}

// Europe/Berlin reads 02:00-03:00 twice on 2026-10-25 (00:00-02:00 UTC).
TEST_F(windows_fixture, the_repeated_autumn_hour_grants_both_times) {
  auto window = "Sun 02:00-03:00 Europe/Berlin";
  now = at("2026-10-24T23:00:00Z");
  EXPECT_EQ(request_tagged("a", window, 3), R);
  EXPECT_EQ(book.earliest_deadline(), at("2026-10-25T00:00:00Z"));
  wake_at("2026-10-25T00:00:00Z");
  EXPECT_EQ(book.state_of("a"), P);
  // Still open after the clocks went back (01:00 UTC): 02:30 CET.
  now = at("2026-10-25T01:30:00Z");
  EXPECT_EQ(request_tagged("b", window, 3), P);
  EXPECT_EQ(book.earliest_deadline(), at("2026-10-25T02:00:00Z"));
  wake_at("2026-10-25T02:00:00Z");
  EXPECT_EQ(request_tagged("c", window, 3), R);
}

TEST_F(windows_fixture, several_windows_grant_in_each) {
  now = at("2026-12-07T00:00:00Z");
  set_windows(spec("Mon 01:00-02:00 UTC; Mon 03:00-04:00 Asia/Tokyo;"
                   "Mon 09:00-10:00 America/New_York"));
  // 03:00 in Tokyo on Monday is 18:00 UTC on Sunday: already past.
  EXPECT_EQ(request("a", 5), R);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-07T01:00:00Z"));
  wake_at("2026-12-07T01:00:00Z");
  EXPECT_EQ(book.state_of("a"), P);
  wake_at("2026-12-07T02:00:00Z");
  EXPECT_EQ(request("b", 5), R);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-07T14:00:00Z"));
  wake_at("2026-12-07T14:00:00Z");
  EXPECT_EQ(book.state_of("b"), P);
}

TEST_F(windows_fixture, a_lapse_before_the_opening_comes_first) {
  book = group_book{"G", 1h};
  now = at("2026-12-06T23:30:00Z");
  set_windows(spec("Mon 01:00-05:00 UTC"));
  EXPECT_EQ(request("a"), R);
  // The queued request lapses at 00:30 and 1 ns, before the opening.
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-07T00:30:00.000000001Z"));
  wake_at("2026-12-07T00:30:00.000000001Z");
  EXPECT_EQ(book.state_of("a"), D);
  EXPECT_EQ(book.earliest_deadline(), at("2026-12-07T01:00:00Z"));
}

// Blocking alerts: the group holds back as when paused, and on its own.
TEST_F(alert_fixture, a_blocking_alert_queues_requests_and_keeps_permits) {
  EXPECT_EQ(request("a", 3), P);
  block(true);
  EXPECT_EQ(request("b", 3), R); // free slots, but nothing new is granted
  EXPECT_EQ(request("c", 3), R);
  EXPECT_EQ(check("a", 3), P); // the permit given before stays
  EXPECT_EQ(check("b", 3), R);
  EXPECT_EQ(book.queue(), (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(book.controls().granting());
}

TEST_F(alert_fixture, resolved_alert_grants_the_queue_in_order) {
  block(true);
  EXPECT_EQ(request("q1", 2), R);
  now += 1s;
  EXPECT_EQ(request("q2", 2), R);
  now += 1s;
  EXPECT_EQ(request("q3", 2), R);
  book.take_effects();
  block(false);
  auto fx = book.take_effects();
  EXPECT_EQ(fx.log_lines,
            (std::vector<std::string>{"q1: requested->permitted",
                                      "q2: requested->permitted"}));
  EXPECT_EQ(check("q3", 2), R);
}

TEST_F(alert_fixture, a_lapse_while_blocked_frees_a_slot_that_waits) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  block(true);
  now += 61min;
  EXPECT_EQ(check("a"), D);   // lapsed as ever
  EXPECT_EQ(request("b"), R); // the freed slot waits for the alert to end
  block(false);
  EXPECT_EQ(check("b"), P);
}

TEST_F(alert_fixture, alert_and_pause_each_hold_the_group) {
  block(true, true);
  EXPECT_EQ(request("a"), R);
  block(false, true); // resolved, still paused
  EXPECT_EQ(check("a"), R);
  block(true, false); // resumed, blocked again
  EXPECT_EQ(check("a"), R);
  block(false, false);
  EXPECT_EQ(check("a"), P);
}

// The operators' rules on the group logic (docs/semantics.md, "Operator
// control"): pause, freeze, limit override and release, one rule per test.
#include <gtest/gtest.h>

#include <cstdint>

#include "disruption/group_book.hpp"
#include "tests/support/call_names.hpp"

using namespace dm;
using namespace std::chrono_literals;
using dm::test::call_names::D;
using dm::test::call_names::P;
using dm::test::call_names::R;

namespace {

struct controls_fixture : ::testing::Test {
  group_book book{"G", 1h};
  timestamp now{std::chrono::hours(500000)};

  disruption_state request(const std::string& host, std::uint64_t limit = 1) {
    return book.operate(request_kind::request, host, limit, std::nullopt, now);
  }
  disruption_state check(const std::string& host, std::uint64_t limit = 1) {
    return book.operate(request_kind::check, host, limit, std::nullopt, now);
  }
  disruption_state cancel(const std::string& host, std::uint64_t limit = 1) {
    return book.operate(request_kind::cancel, host, limit, std::nullopt, now);
  }
  void set(bool paused, bool frozen,
           std::optional<std::uint64_t> limit = std::nullopt) {
    group_controls c;
    c.paused = paused;
    c.frozen = frozen;
    c.limit_override = limit;
    book.set_controls(c, now);
  }
};

} // namespace

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
  EXPECT_TRUE(book.release("a", std::nullopt, false, now));
  EXPECT_EQ(check("a"), D);
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(book.find("a"), nullptr);
}

TEST_F(controls_fixture, release_applies_the_ready_gate_by_default) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_TRUE(book.release("a", ready_gate{10min, ""}, false, now));
  EXPECT_EQ(check("a"), D);
  EXPECT_EQ(check("b"), R); // the slot is held by a's wait
  EXPECT_EQ(book.waiting_count(), 1u);
  now += 10min;
  EXPECT_EQ(check("b"), P);
}

TEST_F(controls_fixture, release_skipping_the_gate_ends_a_wait_too) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_TRUE(book.release("a", ready_gate{10min, ""}, false, now));
  EXPECT_EQ(request("a"), R); // waiting and queued again
  EXPECT_TRUE(book.release("a", std::nullopt, true, now));
  EXPECT_EQ(book.waiting_count(), 0u);
  EXPECT_EQ(check("b"), P);
  EXPECT_EQ(book.find("a"), nullptr);
}

TEST_F(controls_fixture, release_of_a_queued_machine_leaves_the_queue) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  EXPECT_EQ(request("c"), R);
  EXPECT_TRUE(book.release("b", ready_gate{10min, ""}, false, now));
  EXPECT_EQ(book.queue(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(book.waiting_count(), 0u); // no slot, no gate
}

TEST_F(controls_fixture, release_of_an_unknown_machine_changes_nothing) {
  EXPECT_EQ(request("a"), P);
  book.take_effects();
  EXPECT_FALSE(book.release("x", std::nullopt, true, now));
  EXPECT_TRUE(book.take_effects().changed_hosts.empty());
}

TEST_F(controls_fixture, release_in_a_paused_group_keeps_the_slot_free) {
  EXPECT_EQ(request("a"), P);
  EXPECT_EQ(request("b"), R);
  set(true, false);
  EXPECT_TRUE(book.release("a", std::nullopt, false, now));
  EXPECT_EQ(check("b"), R);
  set(false, false);
  EXPECT_EQ(check("b"), P);
}

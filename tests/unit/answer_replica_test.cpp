// The replica answers a check only when the group actor would give the same
// answer without changing the machine or the group's limit. Checked against
// the real group logic over long random histories, and rule by rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

#include "disruption/group_book.hpp"
#include "frontend/answer_replica.hpp"
#include "tests/support/call_names.hpp"

using namespace dm;
using namespace std::chrono_literals;
using dm::test::call_names::D;
using dm::test::call_names::P;
using dm::test::call_names::R;

namespace {

// Several groups as the router and the group actors keep them, with every
// change handed to the replica as the storage actor would after a sync.
struct fleet {
  explicit fleet(std::chrono::nanoseconds max = 1h)
      : max_duration(max), replica(max) {}

  std::chrono::nanoseconds max_duration;
  std::map<std::string, group_book> books;
  std::map<std::string, bool> emptied; // see save_changes
  answer_replica replica;
  timestamp now{std::chrono::hours(500000)};

  group_book& book(const std::string& group) {
    auto it = books.find(group);
    if (it == books.end())
      it = books.emplace(group, group_book(group, max_duration)).first;
    return it->second;
  }

  // Hands each book's changes to the replica; returns what changed.
  std::vector<state_change> sync() {
    std::vector<state_change> changes;
    for (auto& [group, b] : books) {
      auto fx = b.take_effects();
      auto saved = save_changes(b, fx.changed_hosts, fx.limit_changed,
                                emptied.try_emplace(group, true).first->second);
      changes.insert(changes.end(), saved.begin(), saved.end());
    }
    replica.apply(changes);
    return changes;
  }

  // A call as the router routes it: a machine known in another group is
  // evicted there first.
  disruption_state call(request_kind kind, const std::string& host,
                        const std::string& group, std::uint64_t limit,
                        std::optional<ready_gate> gate = std::nullopt) {
    for (auto& [other, b] : books)
      if (other != group && b.find(host) != nullptr)
        b.evict(host, now);
    return book(group).operate(kind, host, limit, gate, now);
  }
};

} // namespace

TEST(answer_replica, agrees_with_the_groups_over_random_histories) {
  std::mt19937_64 random(20261125);
  std::size_t local[3] = {0, 0, 0};
  std::size_t checks = 0;
  for (int history = 0; history < 40; ++history) {
    fleet f;
    auto pick = [&](std::size_t n) {
      return static_cast<std::size_t>(random() % n);
    };
    for (int step = 0; step < 3000; ++step) {
      std::string host = "m" + std::to_string(pick(10));
      std::string group = "g" + std::to_string(pick(3));
      // Mostly each group's usual limit, sometimes another.
      std::uint64_t limit =
          pick(10) == 0 ? 1 + pick(3) : 1 + group.back() - '0';
      switch (pick(8)) {
      case 0:
      case 1:
        f.call(request_kind::request, host, group, limit);
        break;
      case 2: {
        std::optional<ready_gate> gate;
        if (pick(2) == 0)
          gate = ready_gate{std::chrono::minutes(1 + pick(20)), ""};
        f.call(request_kind::cancel, host, group, limit, gate);
        break;
      }
      case 3:
        f.now += std::chrono::minutes(pick(15));
        break;
      case 4: // A timer fires.
        for (auto& [g, b] : f.books)
          b.expire(f.now);
        break;
      default: {
        ++checks;
        auto local_answer = f.replica.check(host, group, limit, "", f.now);
        auto before = f.sync(); // (nothing pending: every step syncs)
        ASSERT_TRUE(before.empty());
        auto limit_before = f.book(group).limit();
        auto answer = f.call(request_kind::check, host, group, limit);
        auto changes = f.sync();
        if (!local_answer)
          break;
        ++local[*local_answer == P ? 0 : *local_answer == R ? 1 : 2];
        ASSERT_EQ(answer, *local_answer)
            << "history " << history << " step " << step << " " << host
            << " in " << group;
        // Answered locally, the call must not have mattered to this
        // machine or to the limit of a group that has machines.
        for (const auto& change : changes) {
          EXPECT_NE(change.host, host)
              << "history " << history << " step " << step;
          EXPECT_FALSE(change.host.empty() && change.group == group &&
                       change.limit != limit_before)
              << "limit changed; history " << history << " step " << step;
        }
        break;
      }
      }
      f.sync();
    }
  }
  // The replica must actually answer most of the time, in every state.
  EXPECT_GT(local[0] + local[1] + local[2], checks / 2);
  EXPECT_GT(local[0], 500u);
  EXPECT_GT(local[1], 500u);
  EXPECT_GT(local[2], 500u);
}

TEST(answer_replica, unknown_machine_is_denied_unless_the_limit_would_change) {
  fleet f;
  // A group without machines: no check changes anything in it.
  EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now), D);
  EXPECT_EQ(f.replica.check("a", "g", 2, "", f.now), D);
  // A group with machines remembers its limit: another one changes it.
  f.call(request_kind::request, "b", "g", 3);
  f.sync();
  EXPECT_EQ(f.replica.check("a", "g", 3, "", f.now), D);
  EXPECT_EQ(f.replica.check("a", "g", 2, "", f.now), std::nullopt);
  // Its last machine gone, the group is kept nowhere.
  f.call(request_kind::cancel, "b", "g", 3);
  f.sync();
  EXPECT_EQ(f.replica.check("a", "g", 2, "", f.now), D);
  EXPECT_EQ(f.replica.host_count(), 0u);
}

TEST(answer_replica, permit_holds_until_its_own_expiry) {
  fleet f;
  f.call(request_kind::request, "a", "g", 1);
  f.sync();
  EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now), P);
  EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now + 59min), P);
  // It lapses once it has lasted longer than the hour, as in the group.
  EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now + 60min), P);
  EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now + 60min + 1ns),
            std::nullopt);
  EXPECT_EQ(f.replica.check("a", "g", 2, "", f.now), std::nullopt) << "limit";
  EXPECT_EQ(f.replica.check("a", "h", 1, "", f.now), std::nullopt) << "move";
}

TEST(answer_replica, queued_machine_needs_a_full_group_and_nothing_due) {
  fleet f;
  f.call(request_kind::request, "a", "g", 1);
  f.now += 10min;
  f.call(request_kind::request, "b", "g", 1);
  f.sync();
  EXPECT_EQ(f.replica.check("b", "g", 1, "", f.now), R);
  // a's permit ends at +60 min from its request: then b may be promoted.
  EXPECT_EQ(f.replica.check("b", "g", 1, "", f.now + 50min), R);
  EXPECT_EQ(f.replica.check("b", "g", 1, "", f.now + 50min + 1ns),
            std::nullopt);
}

TEST(answer_replica, waiting_machine_is_denied_and_moves_wait_for_both_saves) {
  fleet f;
  f.call(request_kind::request, "a", "g", 1);
  f.call(request_kind::cancel, "a", "g", 1, ready_gate{10min, ""});
  f.sync();
  EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now), D);
  // Only the new group's change is saved so far: known twice, not sure.
  answer_replica replica(1h);
  replica.apply({state_change::host_update(
      "g", "b", host_entry{holding{true, f.now, 1}, std::nullopt})});
  replica.apply({state_change::host_update(
      "h", "b", host_entry{holding{true, f.now, 1}, std::nullopt})});
  EXPECT_EQ(replica.check("b", "h", 1, "", f.now), std::nullopt);
  replica.apply({state_change::host_update("g", "b", host_entry{})});
  EXPECT_EQ(replica.check("b", "h", 1, "", f.now), P);
  EXPECT_EQ(replica.host_count(), 1u);
}

// A maximum duration up to Go's largest reaches past what 64 bits of
// nanoseconds hold; the permit must not lapse at once (docs/semantics.md,
// "Edges").
TEST(answer_replica, huge_maximum_duration_keeps_the_permit) {
  for (auto max : {std::chrono::nanoseconds(2500000h),
                   std::chrono::nanoseconds(INT64_MAX)}) {
    fleet f(max);
    f.call(request_kind::request, "a", "g", 1);
    f.call(request_kind::request, "b", "g", 1);
    f.sync();
    EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now + 300ms), P)
        << max.count();
    EXPECT_EQ(f.replica.check("b", "g", 1, "", f.now + 24h * 365 * 200), R)
        << max.count();
  }
}

TEST(answer_replica, huge_ready_timeout_keeps_the_machine_waiting) {
  for (auto timeout : {std::chrono::nanoseconds(2100000h),
                       std::chrono::nanoseconds(INT64_MAX)}) {
    fleet f;
    f.call(request_kind::request, "a", "g", 1);
    f.call(request_kind::cancel, "a", "g", 1, ready_gate{timeout, ""});
    f.call(request_kind::request, "b", "g", 1);
    f.sync();
    EXPECT_EQ(f.replica.check("a", "g", 1, "", f.now + 300ms), D);
    EXPECT_EQ(f.replica.check("b", "g", 1, "", f.now + 300ms), R)
        << timeout.count();
  }
}

// Operators' settings are the group actor's to apply: the replica answers
// no check of a paused group, a group with an override, or any group while
// frozen, and answers again once they are lifted.
TEST(answer_replica, leaves_groups_under_operator_control_to_the_actor) {
  fleet f;
  f.call(request_kind::request, "a", "G", 1);
  f.call(request_kind::request, "b", "H", 1);
  f.sync();
  ASSERT_EQ(f.replica.check("a", "G", 1, "", f.now), P);
  admin_settings admin;
  admin.groups["G"].paused = true;
  f.replica.apply({state_change::admin_update(admin)});
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), std::nullopt);
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), P);
  admin.groups["G"].paused = false;
  admin.groups["G"].limit_override = 4;
  f.replica.apply({state_change::admin_update(admin)});
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), std::nullopt);
  admin.groups.clear();
  admin.frozen = true;
  f.replica.apply({state_change::admin_update(admin)});
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), std::nullopt);
  EXPECT_EQ(f.replica.check("x", "K", 1, "", f.now), std::nullopt);
  admin.frozen = false;
  f.replica.apply({state_change::admin_update(admin)});
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), P);
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), P);
  // Loaded at start as well as heard of.
  stored_state state;
  state.admin.frozen = true;
  answer_replica fresh(1h);
  fresh.load(state);
  EXPECT_EQ(fresh.check("x", "K", 1, "", f.now), std::nullopt);
}

// Whether a window is open is the group actor's to say (docs/semantics.md,
// "Maintenance windows"): no check of a group with windows, an operator's
// or its records', nor one whose record names windows, is answered here.
TEST(answer_replica, leaves_groups_with_maintenance_windows_to_the_actor) {
  fleet f;
  f.call(request_kind::request, "a", "G", 1);
  f.book("H").operate(request_kind::request, "b", 1, std::nullopt, f.now,
                      "Mon 01:00-05:00 UTC");
  f.sync();
  ASSERT_EQ(f.replica.check("a", "G", 1, "", f.now), P);
  // The records' windows, saved with the group.
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), std::nullopt);
  EXPECT_EQ(f.replica.check("b", "H", 1, "Mon 01:00-05:00 UTC", f.now),
            std::nullopt);
  // A check naming windows for a group without them.
  EXPECT_EQ(f.replica.check("a", "G", 1, "Mon 01:00-05:00 UTC", f.now),
            std::nullopt);
  // An operator's windows.
  std::string error;
  admin_settings admin;
  admin.groups["G"].windows =
      window_schedule::parse("Mon-Sun 00:00-24:00 UTC", error);
  f.replica.apply({state_change::admin_update(admin)});
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), std::nullopt);
  // Loaded at start as well as heard of.
  stored_state state;
  state.groups["H"].windows = "Mon 01:00-05:00 UTC";
  state.groups["H"].hosts["b"] =
      host_entry{holding{true, f.now, 1}, std::nullopt};
  answer_replica fresh(1h);
  fresh.load(state);
  EXPECT_EQ(fresh.check("b", "H", 1, "", f.now), std::nullopt);
  state.groups["H"].windows.clear();
  fresh.load(state);
  EXPECT_EQ(fresh.check("b", "H", 1, "", f.now), P);
}

// Blocking alerts are the group actor's to apply too: no check of a group
// a firing alert (or Prometheus out of reach) blocks is answered here.
TEST(answer_replica, leaves_groups_blocked_by_alerts_to_the_actor) {
  fleet f;
  f.call(request_kind::request, "a", "G", 1);
  f.call(request_kind::request, "b", "H", 1);
  f.sync();
  ASSERT_EQ(f.replica.check("a", "G", 1, "", f.now), P);
  alert_blocking alerts;
  alerts.source = "http://prometheus/api/v1/alerts";
  alerts.alerts.push_back({"RackPower", std::string("G")});
  f.replica.set_alerts(alerts);
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), std::nullopt);
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), P);
  alerts.alerts = {{"DiskFull", std::nullopt}}; // every group
  f.replica.set_alerts(alerts);
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), std::nullopt);
  EXPECT_EQ(f.replica.check("x", "K", 1, "", f.now), std::nullopt);
  alerts.alerts.clear();
  alerts.trouble = "connect: refused";
  alerts.trouble_blocks = true;
  f.replica.set_alerts(alerts);
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), std::nullopt);
  alerts.trouble_blocks = false; // failures ignored
  f.replica.set_alerts(alerts);
  EXPECT_EQ(f.replica.check("a", "G", 1, "", f.now), P);
  EXPECT_EQ(f.replica.check("b", "H", 1, "", f.now), P);
}

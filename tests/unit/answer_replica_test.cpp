// The replica answers a check only when the group actor would give the same
// answer without changing the machine or the group's limit. Checked against
// the real group logic over long random histories, and rule by rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>

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

// A group's earliest deadline, shared by many machines: the queue stays
// put until it comes, and once the last machine holding it goes, the next
// one counts.
TEST(answer_replica, equal_earliest_deadlines_count_until_the_last_goes) {
  timestamp t0{std::chrono::hours(500000)};
  answer_replica replica(1h);
  std::vector<state_change> changes;
  // The slot is taken by a wait that ends in a day.
  host_entry waiting_one;
  waiting_one.wait = waiting{t0 + 24h, "", 1};
  changes.push_back(state_change::host_update("g", "w", waiting_one));
  for (int i = 0; i < 50; ++i)
    changes.push_back(state_change::host_update(
        "g", "q" + std::to_string(i),
        host_entry{holding{false, t0, std::uint64_t(i)}, std::nullopt}));
  changes.push_back(state_change::host_update(
      "g", "z", host_entry{holding{false, t0 + 30min, 50}, std::nullopt}));
  changes.push_back(state_change::limit_update("g", 1));
  replica.apply(changes);
  auto lapse = t0 + 1h + 1ns; // the 50 requests' lapse
  EXPECT_EQ(replica.check("z", "g", 1, "", lapse - 1ns), R);
  EXPECT_EQ(replica.check("z", "g", 1, "", lapse), std::nullopt);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(replica.check("z", "g", 1, "", lapse), std::nullopt) << i;
    replica.apply({state_change::host_update("g", "q" + std::to_string(i),
                                             host_entry{})});
    EXPECT_EQ(replica.layout_fault(), "");
  }
  EXPECT_EQ(replica.check("z", "g", 1, "", lapse), R);
  EXPECT_EQ(replica.check("z", "g", 1, "", t0 + 90min), R);
  EXPECT_EQ(replica.check("z", "g", 1, "", t0 + 90min + 1ns), std::nullopt);
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

namespace {

bool plain_due(const host_entry& entry, timestamp now,
               std::chrono::nanoseconds max_duration) {
  return (entry.hold &&
          now >= lapse_time(entry.hold->last_request, max_duration)) ||
         (entry.wait && now >= entry.wait->deadline);
}

// The replica's rules over the saved state, read the plain way: every
// group scanned for the machine, every machine of the group for a due
// deadline.
std::optional<disruption_state>
plain_answer(const stored_state& state, const std::string& host,
             const std::string& group, std::uint64_t limit, timestamp now,
             std::chrono::nanoseconds max_duration) {
  auto due = [&](const host_entry& entry) {
    return plain_due(entry, now, max_duration);
  };
  std::size_t known = 0;
  for (const auto& [identifier, stored] : state.groups)
    known += stored.hosts.count(host);
  auto g = state.groups.find(group);
  if (g == state.groups.end() || g->second.hosts.empty())
    return known == 0 ? std::optional(D) : std::nullopt;
  if (limit != g->second.limit || !g->second.windows.empty())
    return std::nullopt;
  if (known == 0)
    return D;
  auto mine = g->second.hosts.find(host);
  if (known > 1 || mine == g->second.hosts.end() || due(mine->second))
    return std::nullopt;
  if (!mine->second.hold)
    return D;
  if (mine->second.hold->permitted)
    return P;
  std::uint64_t occupied = 0;
  for (const auto& [other, entry] : g->second.hosts) {
    if (due(entry))
      return std::nullopt;
    if ((entry.hold && entry.hold->permitted) || entry.wait)
      ++occupied;
  }
  return occupied < limit ? std::nullopt : std::optional(R);
}

} // namespace

// The replica's table and its groups' deadline orders against a plain scan
// of the same saved state, at a size where the table grows and its rows
// move: hundreds of machines per group, many with equal deadlines (times
// on a coarse grid), the earliest deadline often removed or changed,
// machines known in two groups at once (a move saved half way), groups
// emptied and filled again; a replica loaded from the state at intervals
// must agree as well.
TEST(answer_replica, agrees_with_a_plain_scan_of_a_large_state) {
  std::mt19937_64 random(20261206);
  auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(random() % n);
  };
  const std::chrono::nanoseconds max_duration = 1h;
  timestamp clock{std::chrono::hours(500000)};
  const std::size_t hosts = 3000;
  const std::size_t groups = 6;
  auto host_name = [](std::size_t i) {
    return "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
  };
  answer_replica replica(max_duration);
  stored_state state;
  std::map<std::string, std::uint64_t> limits;
  // As the storage actor saves: each machine's line, then its group's.
  auto save = [&](const std::string& group, const std::string& host,
                  host_entry entry) {
    std::vector<state_change> changes{
        state_change::host_update(group, host, std::move(entry)),
        state_change::limit_update(group, limits[group])};
    for (const auto& change : changes)
      apply_change(state, change);
    replica.apply(changes);
  };
  std::map<std::optional<disruption_state>, std::size_t> answers;
  auto compare = [&](const answer_replica& r, const char* which, int step) {
    std::size_t i = pick(hosts + 100); // some known nowhere
    // Mostly the machine's own group; sometimes another, or one unknown.
    std::string group =
        "g" + std::to_string(pick(8) == 0 ? pick(groups + 1) : i % groups);
    std::uint64_t limit = pick(20) == 0
                              ? 1 + pick(400)
                              : limits.try_emplace(group, 1).first->second;
    // Around the earliest deadlines, or among the later ones.
    auto now = (pick(2) == 0 ? clock + 38min + std::chrono::minutes(pick(4))
                             : clock + 40min + std::chrono::minutes(pick(20))) +
               std::chrono::nanoseconds(pick(2));
    auto expected =
        plain_answer(state, host_name(i), group, limit, now, max_duration);
    ++answers[expected];
    ASSERT_EQ(r.check(host_name(i), group, limit, "", now), expected)
        << which << " step " << step << " " << host_name(i) << " in " << group
        << " limit " << limit;
  };
  for (int step = 0; step < 30000; ++step) {
    // A minute passes every 1000 saves, and what is due 40 minutes later
    // goes, as a group's timer would take it: a group's earliest deadlines
    // go that way, or as their machines are saved again.
    if (step % 1000 == 999) {
      clock += 1min;
      std::vector<std::pair<std::string, std::string>> due;
      for (const auto& [identifier, stored] : state.groups)
        for (const auto& [host, e] : stored.hosts)
          if (plain_due(e, clock + 40min, max_duration))
            due.emplace_back(identifier, host);
      for (const auto& [identifier, host] : due)
        save(identifier, host, host_entry{});
    }
    std::size_t i = pick(hosts);
    // Mostly the machine's own group, sometimes another: it is then known
    // in both until its line in the first one goes.
    std::string group =
        "g" + std::to_string(pick(10) == 0 ? pick(groups) : i % groups);
    auto& limit = limits.try_emplace(group, 1 + pick(400)).first->second;
    if (pick(50) == 0)
      limit = 1 + pick(400);
    host_entry entry;
    if (pick(10) < 7) {
      if (pick(5) != 0)
        entry.hold =
            holding{pick(2) == 0, clock - std::chrono::minutes(pick(3)),
                    static_cast<std::uint64_t>(step)};
      if (!entry.hold || pick(4) == 0)
        entry.wait =
            waiting{clock + 60min - std::chrono::minutes(pick(20)), "", 1};
    }
    save(group, host_name(i), std::move(entry));
    if (pick(5000) == 0) { // The whole group goes.
      auto g = state.groups.find(group);
      std::vector<std::string> members;
      if (g != state.groups.end())
        for (const auto& [host, e] : g->second.hosts)
          members.push_back(host);
      for (const auto& host : members)
        save(group, host, host_entry{});
      // Kept nowhere: another limit changes nothing.
      EXPECT_EQ(replica.check("unknown", group, limit + 1, "", clock), D);
    }
    if (step % 4 == 0) {
      ASSERT_EQ(replica.layout_fault(), "") << "step " << step;
    }
    for (int c = 0; c < 3; ++c)
      compare(replica, "fed", step);
    if (step % 3000 == 2999) {
      answer_replica loaded(max_duration);
      loaded.load(state);
      ASSERT_EQ(loaded.layout_fault(), "") << "step " << step;
      for (int c = 0; c < 2000; ++c)
        compare(loaded, "loaded", step);
      std::set<std::string> known;
      for (const auto& [identifier, stored] : state.groups)
        for (const auto& [host, e] : stored.hosts)
          known.insert(host);
      EXPECT_EQ(replica.host_count(), known.size()) << "step " << step;
      EXPECT_EQ(loaded.host_count(), known.size()) << "step " << step;
    }
  }
  // Every kind of answer, and declining, happened often.
  for (auto kind : {std::optional(P), std::optional(R), std::optional(D),
                    std::optional<disruption_state>()})
    EXPECT_GT(answers[kind], 2000u) << (kind ? int(*kind) : -1);
}

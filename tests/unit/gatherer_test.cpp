// The gatherer against stand-in routers and groups under CAF's testing
// scheduler: one gathering at a time shared by every request that waited,
// a bounded number of groups asked at once, and never a part of the state
// answered as if it were all of it.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <cstdio>
#include <optional>

#include "actors/gatherer.hpp"
#include "memory/heap_trimmer.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

// What the stand-ins saw and hold.
struct stage {
  std::vector<group_actor> groups;
  int rosters = 0; // roster requests answered
  // The group of each snapshot asked for and not answered yet.
  std::vector<group_actor> held;
  bool hold = false; // groups keep their answers until released
  // The groups asked for their machines and for their summaries.
  std::vector<std::string> snapshots;
  std::vector<std::string> summaries;
};

group_view view_of(const std::string& name) {
  group_view view;
  view.identifier = name;
  view.permitted = 1;
  machine_view m;
  m.host = name + "-m";
  m.group = name;
  m.state = "permitted";
  view.machines.push_back(m);
  return view;
}

// A group's snapshots held back (answered from within the group, as CAF
// wants promises delivered).
struct stand_in_group_state {
  std::vector<caf::typed_response_promise<group_view>> held;
};

group_actor::behavior_type
stand_in_group(group_actor::stateful_pointer<stand_in_group_state> self,
               std::string name, std::shared_ptr<stage> st) {
  return {
      [](operate_atom, disruption_call&) {},
      [](evict_atom, const std::string&) {},
      [](due_atom, std::uint64_t) {},
      [](ready_atom, const std::string&, std::uint64_t) {},
      [name, st](summary_atom) {
        st->summaries.push_back(name);
        auto view = view_of(name);
        view.machines.clear();
        view.listed = false;
        return view;
      },
      [self, name, st](snapshot_atom) -> caf::result<group_view> {
        st->snapshots.push_back(name);
        if (!st->hold)
          return view_of(name);
        auto promise = self->make_response_promise<group_view>();
        self->state.held.push_back(promise);
        st->held.push_back(caf::actor_cast<group_actor>(self));
        return promise;
      },
      // Here: release the snapshots held back.
      [self, name](flush_atom) {
        for (auto& promise : self->state.held)
          promise.deliver(view_of(name));
        self->state.held.clear();
      },
      [self](retire_atom) { self->quit(); },
      [](control_atom, const group_controls&) {},
      [](release_atom, const std::string&, bool) { return admin_result{}; },
  };
}

router_actor::behavior_type stand_in_router(router_actor::pointer,
                                            std::shared_ptr<stage> st) {
  return {
      [](operate_atom, disruption_call&) {},
      [](released_atom, const std::string&, const std::string&, std::uint64_t) {
      },
      [](idle_atom, const std::string&, std::uint64_t) {},
      [st](roster_atom) {
        ++st->rosters;
        return group_roster{st->groups, {}, {}};
      },
      [st](roster_atom, const std::string& name) {
        ++st->rosters;
        group_roster roster;
        // The stand-ins are named g00000, g00001, ... in roster order.
        auto index = std::atoi(name.c_str() + 1);
        if (name.size() == 6 && name[0] == 'g' && index >= 0 &&
            static_cast<std::size_t>(index) < st->groups.size())
          roster.groups.push_back(st->groups[index]);
        return roster;
      },
      [](admin_atom, admin_command&) { return admin_result{}; },
      [](alerts_atom, alert_blocking&) {},
  };
}

struct gatherer_fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<stage> st = std::make_shared<stage>();
  router_actor router_handle;
  gatherer_actor gatherer_handle;

  gatherer_fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    router_handle = sys->spawn(stand_in_router, st);
  }
  ~gatherer_fixture() override {
    for (auto& g : st->groups)
      caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(router_handle, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(gatherer_handle, caf::exit_reason::user_shutdown);
    st->held.clear();
    sched->run();
  }

  void start(gather_limits limits) {
    gatherer_handle = sys->spawn(gatherer, router_handle, limits);
    sched->run();
  }

  void add_groups(int n) {
    for (int i = 0; i < n; ++i) {
      char name[16];
      std::snprintf(name, sizeof(name), "g%05d", i);
      st->groups.push_back(sys->spawn(stand_in_group, std::string(name), st));
    }
  }

  // Asks `n` times at once; the answers come in as the scheduler runs.
  std::vector<std::shared_ptr<std::optional<gathered_state>>>
  ask(int n, std::optional<gather_scope> scope = std::nullopt) {
    std::vector<std::shared_ptr<std::optional<gathered_state>>> answers;
    for (int i = 0; i < n; ++i) {
      auto slot = std::make_shared<std::optional<gathered_state>>();
      // (`slot` as an argument: CAF 0.17 spawns with none through a null
      // pointer; docs/architecture.md, "Spawning".)
      auto asker = sys->spawn(
          [this, scope](caf::event_based_actor* self,
                        std::shared_ptr<std::optional<gathered_state>> slot) {
            auto store = [slot](gathered_state& g) { *slot = std::move(g); };
            if (scope)
              self->request(gatherer_handle, caf::infinite,
                            snapshot_atom::value, *scope)
                  .then(store);
            else
              self->request(gatherer_handle, caf::infinite,
                            snapshot_atom::value)
                  .then(store);
          },
          slot);
      answers.push_back(slot);
    }
    return answers;
  }

  void release_held() {
    auto held = std::move(st->held);
    st->held.clear();
    for (auto& group : held)
      caf::anon_send(group, flush_atom::value);
  }
};

} // namespace

// Finding: pages that gather the state cost quadratic time in the number of
// groups, stalled calls for as long, and answered an empty or partial state
// with 200 when groups were slow.
TEST_F(gatherer_fixture, pages_gather_in_one_pass_and_never_answer_a_part) {
  add_groups(1000);
  start(gather_limits{});
  auto answers = ask(10);
  sched->run();
  // Ten at once share gatherings: the first, and one for all who came
  // while it ran (here they all came before it began: one).
  EXPECT_LE(st->rosters, 2);
  for (auto& a : answers) {
    ASSERT_TRUE(a->has_value());
    ASSERT_TRUE((*a)->view) << (*a)->error;
    ASSERT_EQ((*a)->view->groups.size(), 1000u);
    EXPECT_EQ((*a)->view->groups.front().identifier, "g00000");
    EXPECT_EQ((*a)->view->groups.back().identifier, "g00999");
  }
  // Those who waited together read one view, shared.
  EXPECT_EQ((*answers[1])->view, (*answers[9])->view);
}

TEST_F(gatherer_fixture, groups_asked_at_once_are_bounded) {
  add_groups(100);
  gather_limits limits;
  limits.groups_in_flight = 8;
  start(limits);
  st->hold = true;
  auto answers = ask(1);
  sched->run();
  EXPECT_EQ(st->held.size(), 8u);
  int rounds = 0;
  while (!st->held.empty()) {
    EXPECT_LE(st->held.size(), 8u);
    release_held();
    sched->run();
    ++rounds;
  }
  EXPECT_GE(rounds, 13);
  ASSERT_TRUE(answers[0]->has_value());
  ASSERT_TRUE((*answers[0])->view);
  EXPECT_EQ((*answers[0])->view->groups.size(), 100u);
}

TEST_F(gatherer_fixture, a_group_that_does_not_answer_fails_the_whole_page) {
  add_groups(20);
  gather_limits limits;
  limits.groups_in_flight = 8;
  limits.deadline = 30s;
  start(limits);
  st->hold = true;
  auto answers = ask(3);
  sched->run();
  release_held(); // eight answer, the next ones never do
  sched->run();
  EXPECT_FALSE(answers[0]->has_value());
  sched->clock().advance_time(29s);
  sched->run();
  EXPECT_FALSE(answers[0]->has_value());
  sched->clock().advance_time(2s);
  sched->run();
  auto refused = [](const std::optional<gathered_state>& a) {
    return a && !a->view &&
           a->error.find("could not be gathered") != std::string::npos;
  };
  EXPECT_TRUE(refused(*answers[0]))
      << (answers[0]->has_value() ? (*answers[0])->error : "no answer");
  // Those who came meanwhile wait for a gathering of their own, which
  // fails the same way: no page waits beyond two deadlines.
  EXPECT_FALSE(answers[1]->has_value());
  sched->clock().advance_time(31s);
  sched->run();
  EXPECT_TRUE(refused(*answers[1]));
  EXPECT_TRUE(refused(*answers[2]));
  // The next request gets a gathering of its own.
  st->hold = false;
  st->held.clear();
  auto later = ask(1);
  sched->run();
  ASSERT_TRUE(later[0]->has_value());
  ASSERT_TRUE((*later[0])->view) << (*later[0])->error;
  EXPECT_EQ((*later[0])->view->groups.size(), 20u);
}

TEST_F(gatherer_fixture, waiting_requests_beyond_the_limit_are_refused) {
  add_groups(5);
  gather_limits limits;
  limits.waiting = 3;
  start(limits);
  st->hold = true;
  auto answers = ask(5);
  sched->run();
  int refused = 0;
  for (auto& a : answers)
    if (a->has_value()) {
      EXPECT_FALSE((*a)->view);
      EXPECT_NE((*a)->error.find("too many"), std::string::npos);
      ++refused;
    }
  EXPECT_EQ(refused, 2);
  while (!st->held.empty()) {
    release_held();
    sched->run();
  }
  for (auto& a : answers) {
    ASSERT_TRUE(a->has_value());
  }
}

TEST_F(gatherer_fixture, a_group_retired_meanwhile_is_left_out) {
  add_groups(10);
  start(gather_limits{});
  // Retired between the roster and its snapshot: it knew no machine.
  caf::anon_send(st->groups[4], retire_atom::value);
  sched->run();
  auto answers = ask(1);
  sched->run();
  ASSERT_TRUE(answers[0]->has_value());
  ASSERT_TRUE((*answers[0])->view) << (*answers[0])->error;
  EXPECT_EQ((*answers[0])->view->groups.size(), 9u);
}

// A narrower scope asks every group for its counts and only the groups
// holding the asked window of machines for their machines.
TEST_F(gatherer_fixture, a_window_lists_only_the_groups_that_hold_it) {
  add_groups(100);
  start(gather_limits{});
  gather_scope scope;
  scope.whole = false;
  scope.state = view_state::permitted;
  scope.first = 10; // each group holds one permitted machine
  scope.count = 5;
  auto answers = ask(1, scope);
  sched->run();
  ASSERT_TRUE(answers[0]->has_value());
  const auto& view = *(*answers[0])->view;
  ASSERT_EQ(view.groups.size(), 100u);
  EXPECT_EQ(st->summaries.size(), 100u);
  EXPECT_EQ(st->snapshots,
            (std::vector<std::string>{"g00010", "g00011", "g00012", "g00013",
                                      "g00014"}));
  for (std::size_t i = 0; i < view.groups.size(); ++i) {
    bool listed = i >= 10 && i < 15;
    EXPECT_EQ(view.groups[i].listed, listed) << i;
    EXPECT_EQ(view.groups[i].machines.size(), listed ? 1u : 0u) << i;
    EXPECT_EQ(view.groups[i].permitted, 1u) << i;
  }
}

TEST_F(gatherer_fixture, no_group_lists_machines_beyond_the_bound) {
  add_groups(20);
  start(gather_limits{});
  gather_scope scope;
  scope.whole = false;
  scope.count = 100;
  scope.list_at_most = 19; // 20 machines in all: none listed
  auto answers = ask(1, scope);
  sched->run();
  ASSERT_TRUE(answers[0]->has_value());
  ASSERT_TRUE((*answers[0])->view);
  EXPECT_EQ((*answers[0])->view->groups.size(), 20u);
  EXPECT_TRUE(st->snapshots.empty());
  // At the bound, all are.
  scope.list_at_most = 20;
  answers = ask(1, scope);
  sched->run();
  ASSERT_TRUE(answers[0]->has_value());
  EXPECT_EQ(st->snapshots.size(), 20u);
}

TEST_F(gatherer_fixture, one_group_is_asked_alone_and_scopes_do_not_mix) {
  add_groups(50);
  start(gather_limits{});
  gather_scope one;
  one.whole = false;
  one.group = "g00007";
  one.count = 10;
  gather_scope none = one;
  none.group = "nobody";
  // Two of each scope at once, and the whole state: the first starts at
  // once, then those that waited meanwhile share one gathering per scope.
  auto ones = ask(2, one);
  auto nones = ask(2, none);
  auto wholes = ask(1);
  sched->run();
  EXPECT_EQ(st->rosters, 4);
  for (auto& a : ones) {
    ASSERT_TRUE(a->has_value());
    ASSERT_TRUE((*a)->view);
    ASSERT_EQ((*a)->view->groups.size(), 1u);
    EXPECT_EQ((*a)->view->groups[0].identifier, "g00007");
    EXPECT_EQ((*a)->view->groups[0].machines.size(), 1u);
  }
  for (auto& a : nones) {
    ASSERT_TRUE(a->has_value());
    ASSERT_TRUE((*a)->view);
    EXPECT_TRUE((*a)->view->groups.empty());
  }
  EXPECT_EQ((*nones[0])->view, (*nones[1])->view);
  ASSERT_TRUE(wholes[0]->has_value());
  EXPECT_EQ((*wholes[0])->view->groups.size(), 50u);
  // The single group's snapshot twice and the whole state's: 52 in all.
  EXPECT_EQ(st->snapshots.size(), 52u);
  EXPECT_EQ(st->summaries.size(), 2u);
}

// Finding: the trimmer found a page's freed view by looking at malloc's
// free total every 250 ms, which at a million machines cost 34 ms of a
// core each time; a large view now asks for the trim itself, once freed.
TEST_F(gatherer_fixture, a_large_view_asks_for_a_heap_trim_once_let_go) {
  add_groups(10); // a machine each
  gather_limits limits;
  limits.trim_after_machines = 10;
  start(limits);
  take_heap_trim_request();
  // The first gathering answers the first; the two who came while it ran
  // share the second.
  auto answers = ask(3);
  sched->run();
  ASSERT_TRUE((*answers[0])->view);
  ASSERT_EQ((*answers[1])->view, (*answers[2])->view);
  answers[0]->reset();
  EXPECT_TRUE(take_heap_trim_request());
  answers[1]->reset();
  EXPECT_FALSE(take_heap_trim_request()); // Still read by the other.
  answers[2]->reset();
  EXPECT_TRUE(take_heap_trim_request());
  // Nine machines: below the bound, no trim asked.
  caf::anon_send_exit(st->groups.back(), caf::exit_reason::user_shutdown);
  st->groups.pop_back();
  sched->run();
  answers = ask(1);
  sched->run();
  ASSERT_TRUE((*answers[0])->view) << (*answers[0])->error;
  EXPECT_EQ((*answers[0])->view->groups.size(), 9u);
  answers[0]->reset();
  EXPECT_FALSE(take_heap_trim_request());
}

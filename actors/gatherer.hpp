// The gatherer: the one place the whole state is gathered for the pages
// and the state API. One gathering runs at a time; requests of the same
// scope that arrive meanwhile share the next one (which starts after they
// arrived, so each sees every change answered before it asked). A
// gathering asks the router for its groups, then a bounded number of
// groups at once, so calls to any group wait behind at most that many
// snapshots. A gathering of a narrower scope asks every group for a
// summary first and then only the groups it lists for their machines.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"

namespace dm {

// docs/testing.md, "Limits and where they are enforced".
struct gather_limits {
  std::size_t groups_in_flight = 64;      // snapshots asked for at once
  std::size_t summaries_in_flight = 1024; // summaries asked for at once
  std::size_t waiting = 256;              // requests waiting: more get 503
  std::chrono::nanoseconds deadline = std::chrono::seconds(30);
  // A view of this many machines or more asks for a heap trim once its
  // last reader lets it go (docs/performance.md, "Free heap given back"):
  // the whole state at a million machines is hundreds of megabytes.
  std::size_t trim_after_machines = 10'000;
};

// One gathering under way. (Outside gatherer_state: clang cannot
// default-construct a nested struct with member initializers before the
// enclosing one is complete.)
struct gathering_run {
  std::uint64_t id = 0;
  gather_scope scope;
  caf::actor_clock::time_point started;
  std::vector<caf::typed_response_promise<gathered_state>> waiters;
  std::vector<group_actor> roster;  // in identifier order
  std::vector<group_view> views;    // by roster position
  admin_settings admin;             // the operators', from the router
  alert_blocking alerts;            // what alerts block, from the router
  bool summaries = false;           // asking for summaries, not snapshots
  std::vector<std::size_t> targets; // roster positions asked in this phase
  std::size_t asked = 0;            // of targets
  std::size_t answered = 0;
};

// A request waiting for the next gathering of its scope.
struct gather_waiter {
  caf::typed_response_promise<gathered_state> promise;
  gather_scope scope;
};

struct gatherer_state {
  static inline const char* name = "gatherer";
  using promise = caf::typed_response_promise<gathered_state>;
  using gathering = gathering_run;

  router_actor router;
  gather_limits limits;
  // For the gatherings after the current one: the first one's scope goes
  // next, with every request of the same scope.
  std::vector<gather_waiter> next;
  std::optional<gathering> current;
  std::uint64_t last_id = 0;
  // One deadline check is pending at most (CAF 0.17 cannot cancel a
  // delayed message): it looks at whichever gathering runs when it comes.
  bool deadline_check_pending = false;
};

gatherer_actor::behavior_type
gatherer(gatherer_actor::stateful_pointer<gatherer_state> self,
         router_actor router, gather_limits limits);

} // namespace dm

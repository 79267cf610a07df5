// The router: finds (or starts) the group actor of each call, remembers
// which group each asking machine is in, moves machines between groups, and
// retires group actors that know no machine.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "actors/group.hpp"
#include "actors/interfaces.hpp"
#include "actors/route_table.hpp"
#include "storage/state_store.hpp"

namespace dm {

struct router_state {
  static inline const char* name = "router";

  // A live group actor and how many calls and evictions were sent to it:
  // it may be retired only when it has handled them all.
  struct group_entry {
    group_actor actor;
    std::uint64_t sent = 0;
  };

  // What every group actor is started with, held once for all of them.
  std::shared_ptr<const group_settings> settings;
  // What operators set, as last saved; `admin_busy` while a change is on
  // its way to storage (the next waits in `admin_queue`, in order).
  admin_settings admin;
  bool admin_busy = false;
  std::deque<
      std::pair<admin_command, caf::typed_response_promise<admin_result>>>
      admin_queue;
  // What firing alerts block, as the alert poller last said (not saved).
  alert_blocking alerts;
  std::map<std::string, group_entry> groups;
  // The group each machine last requested in (actors/route_table.hpp).
  route_table hosts;
  std::uint64_t next_seq = 0;
};

// Starts with the state read from storage (one group actor per stored
// group) and with what alerts block until the alert poller first says
// (docs/semantics.md, "Blocking alerts").
router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, stored_state initial,
       group_settings settings, alert_blocking alerts);

} // namespace dm

// The front desk: the bridge from an I/O thread into the actor system for
// state snapshots. It asks the router and hands the view to the thread's
// reply sink.
#pragma once

#include <chrono>
#include <memory>

#include "actors/interfaces.hpp"
#include "actors/reply.hpp"

namespace dm {

struct front_desk_state {
  static inline const char* name = "front_desk";
  std::shared_ptr<reply_sink> sink;
  router_actor router;
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);
};

front_desk_actor::behavior_type
front_desk(front_desk_actor::stateful_pointer<front_desk_state> self,
           router_actor router, std::shared_ptr<reply_sink> sink);

} // namespace dm

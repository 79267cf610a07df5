// The front desk: the bridge from an I/O thread into the actor system for
// state snapshots. It asks the gatherer and hands its answer to the
// thread's reply sink.
#pragma once

#include <memory>

#include "actors/interfaces.hpp"
#include "actors/reply.hpp"

namespace dm {

struct front_desk_state {
  static inline const char* name = "front_desk";
  std::shared_ptr<reply_sink> sink;
  gatherer_actor gatherer;
};

front_desk_actor::behavior_type
front_desk(front_desk_actor::stateful_pointer<front_desk_state> self,
           gatherer_actor gatherer, std::shared_ptr<reply_sink> sink);

} // namespace dm

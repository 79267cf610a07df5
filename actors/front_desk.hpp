// The front desk: the bridge from an I/O thread into the actor system. It
// asks the router and hands each answer to the thread's reply sink.
#pragma once

#include <chrono>
#include <memory>

#include "actors/interfaces.hpp"

namespace dm {

// Where answers for one I/O thread go. Implemented by the I/O loop: a
// thread-safe hand-off that wakes the loop.
class reply_sink {
public:
  virtual ~reply_sink() = default;
  virtual void deliver(std::uint64_t ticket, call_result result) = 0;
  virtual void deliver_state(std::uint64_t ticket, state_view view) = 0;
};

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

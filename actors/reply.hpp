// Where a call's answer goes. The I/O thread that read the call passes a
// reply_to along with it, and whichever actor knows the answer first (the
// group, or the storage actor once the change is durable) answers through
// it straight to that thread, with no actor in between.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "disruption/group_rules.hpp"

namespace dm {

struct gathered_state;

// The answer to a call: the machine's state, or an error text for the client.
struct call_result {
  disruption_state state = disruption_state::denied;
  std::string error;
  // For a machine left requested: its place in the group's queue (1 is
  // next) and the queue's length then; 0 otherwise.
  std::uint64_t queue_position = 0;
  std::uint64_t queue_length = 0;
  // The error is a replica's that does not lead and could not have the
  // leader decide (docs/architecture.md, "Forwarding").
  bool not_leader = false;
};

// The answer to a call whose change could not be saved.
call_result not_saved_result();

// Where answers for one I/O thread go. Implemented by the I/O loop: a
// thread-safe hand-off that wakes the loop.
class reply_sink {
public:
  virtual ~reply_sink() = default;
  virtual void deliver(std::uint64_t ticket, call_result result) = 0;
  virtual void deliver_state(std::uint64_t ticket, gathered_state state) = 0;
};

// One call's way back. Copies share one answer: the first given is the one
// delivered. When the last copy of an unanswered one goes (an actor that
// held it stopped), the client gets an internal error, never silence.
class reply_to {
public:
  reply_to() = default;
  reply_to(std::shared_ptr<reply_sink> sink, std::uint64_t ticket);

  explicit operator bool() const { return target_ != nullptr; }

  void answer(call_result result) const;

private:
  struct target;
  std::shared_ptr<target> target_;
};

} // namespace dm

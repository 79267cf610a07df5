// reply_to: answer-once delivery with an answer guaranteed on drop.
#include "actors/reply.hpp"

#include <atomic>

#include "actors/messages.hpp"

namespace dm {

call_result not_saved_result() {
  call_result failed;
  failed.state = disruption_state::denied;
  failed.error = "state could not be saved; try again";
  return failed;
}

struct reply_to::target {
  target(std::shared_ptr<reply_sink> s, std::uint64_t t)
      : sink(std::move(s)), ticket(t) {}
  target(const target&) = delete;
  target& operator=(const target&) = delete;

  ~target() {
    if (answered.exchange(true))
      return;
    call_result dropped;
    dropped.error = "internal error: the call was dropped; try again";
    sink->deliver(ticket, std::move(dropped));
  }

  std::shared_ptr<reply_sink> sink;
  std::uint64_t ticket;
  std::atomic<bool> answered{false};
};

reply_to::reply_to(std::shared_ptr<reply_sink> sink, std::uint64_t ticket)
    : target_(std::make_shared<target>(std::move(sink), ticket)) {}

void reply_to::answer(call_result result) const {
  if (!target_ || target_->answered.exchange(true))
    return;
  target_->sink->deliver(target_->ticket, std::move(result));
}

} // namespace dm

// Front desk: every call gets an answer, even when the actors time out.
#include "actors/front_desk.hpp"

namespace dm {

front_desk_actor::behavior_type
front_desk(front_desk_actor::stateful_pointer<front_desk_state> self,
           router_actor router, std::shared_ptr<reply_sink> sink) {
  self->state.router = std::move(router);
  self->state.sink = std::move(sink);
  return {
    [self](operate_atom, std::uint64_t ticket, disruption_call& call) {
      // No timeout: it would arm a timer on CAF's clock thread per call
      // (measured: a large share of the cost). Group actors always answer,
      // and a receiver that dies answers with an error.
      self->request(self->state.router, caf::infinite, operate_atom::value,
                    std::move(call))
        .then(
          [self, ticket](call_result& result) {
            self->state.sink->deliver(ticket, std::move(result));
          },
          [self, ticket](caf::error& err) {
            call_result failed;
            failed.error = "internal error: " + self->system().render(err);
            self->state.sink->deliver(ticket, std::move(failed));
          });
    },
    [self](snapshot_atom, std::uint64_t ticket) {
      auto timeout = std::chrono::duration_cast<caf::timespan>(
        self->state.timeout);
      self->request(self->state.router, timeout, snapshot_atom::value)
        .then(
          [self, ticket](state_view& view) {
            self->state.sink->deliver_state(ticket, std::move(view));
          },
          [self, ticket](caf::error&) {
            self->state.sink->deliver_state(ticket, state_view{});
          });
    },
  };
}

} // namespace dm

// Front desk: every snapshot asked for gets a view, empty when the actors
// time out.
#include "actors/front_desk.hpp"

namespace dm {

front_desk_actor::behavior_type
front_desk(front_desk_actor::stateful_pointer<front_desk_state> self,
           router_actor router, std::shared_ptr<reply_sink> sink) {
  self->state.router = std::move(router);
  self->state.sink = std::move(sink);
  return {
      [self](snapshot_atom, std::uint64_t ticket) {
        auto timeout =
            std::chrono::duration_cast<caf::timespan>(self->state.timeout);
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

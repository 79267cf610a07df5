// Front desk: every snapshot asked for gets the gatherer's answer, the
// whole state or the reason there is none (never an empty state that would
// read as "nothing disrupted").
#include "actors/front_desk.hpp"

namespace dm {

front_desk_actor::behavior_type
front_desk(front_desk_actor::stateful_pointer<front_desk_state> self,
           gatherer_actor gatherer, std::shared_ptr<reply_sink> sink) {
  self->state.gatherer = std::move(gatherer);
  self->state.sink = std::move(sink);
  return {
      [self](snapshot_atom, std::uint64_t ticket, gather_scope& scope) {
        // No timeout of its own: the gatherer answers every request within
        // its deadline, and a gatherer gone answers with an error.
        self->request(self->state.gatherer, caf::infinite, snapshot_atom::value,
                      std::move(scope))
            .then(
                [self, ticket](gathered_state& state) {
                  self->state.sink->deliver_state(ticket, std::move(state));
                },
                [self, ticket](caf::error& e) {
                  gathered_state none;
                  none.error =
                      "the state is not available (" + to_string(e) + ")";
                  self->state.sink->deliver_state(ticket, std::move(none));
                });
      },
  };
}

} // namespace dm

// Router: group actors are started on first use and live as long as the
// router, so a group's remembered limit survives idle periods.
#include "actors/router.hpp"

#include <memory>

namespace dm {

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

group_actor group_for(self_ptr self, const std::string& identifier,
                      stored_group initial = {}) {
  auto& st = self->state;
  auto it = st.groups.find(identifier);
  if (it != st.groups.end())
    return it->second;
  auto actor = self->spawn<caf::linked>(group, identifier, std::move(initial),
                                        st.settings,
                                        caf::actor_cast<router_actor>(self));
  st.groups.emplace(identifier, actor);
  return actor;
}

} // namespace

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, stored_state initial,
       group_settings settings) {
  self->state.settings = std::move(settings);
  for (auto& [identifier, stored] : initial.groups) {
    for (const auto& [host, entry] : stored.hosts)
      if (entry.hold)
        self->state.hosts[host] = {identifier, 0};
    group_for(self, identifier, std::move(stored));
  }
  return {
      [self](operate_atom, disruption_call& call) {
        auto& st = self->state;
        call.route_seq = ++st.next_seq;
        auto known = st.hosts.find(call.host);
        if (known != st.hosts.end() && known->second.group != call.group) {
          // Moved: its old holding is cancelled, without a gate.
          self->send(group_for(self, known->second.group), evict_atom::value,
                     call.host);
          st.hosts.erase(known);
          known = st.hosts.end();
        }
        if (call.kind == request_kind::request)
          st.hosts[call.host] = {call.group, call.route_seq};
        // (Should the group be gone, the dropped call's reply_to answers.)
        self->send(group_for(self, call.group), operate_atom::value,
                   std::move(call));
      },
      [self](released_atom, const std::string& group, const std::string& host,
             std::uint64_t seq) {
        auto& hosts = self->state.hosts;
        auto it = hosts.find(host);
        // A request forwarded after the group let go keeps the route.
        if (it != hosts.end() && it->second.group == group &&
            it->second.seq <= seq)
          hosts.erase(it);
      },
      [self](snapshot_atom) -> caf::result<state_view> {
        auto& st = self->state;
        if (st.groups.empty())
          return state_view{};
        // (A promise made takes the answer over: make it only when needed.)
        auto promise = self->make_response_promise<state_view>();
        struct gathering {
          state_view view;
          std::size_t missing = 0;
        };
        auto gathered = std::make_shared<gathering>();
        gathered->missing = st.groups.size();
        for (const auto& [identifier, actor] : st.groups) {
          auto finish = [promise, gathered]() mutable {
            if (--gathered->missing == 0) {
              auto& groups = gathered->view.groups;
              std::sort(groups.begin(), groups.end(),
                        [](const group_view& a, const group_view& b) {
                          return a.identifier < b.identifier;
                        });
              promise.deliver(std::move(gathered->view));
            }
          };
          self->request(actor, std::chrono::seconds(10), snapshot_atom::value)
              .then(
                  [gathered, finish](group_view& view) mutable {
                    if (!view.machines.empty() || view.limit > 1)
                      gathered->view.groups.push_back(std::move(view));
                    finish();
                  },
                  [finish](caf::error&) mutable { finish(); });
        }
        return promise;
      },
  };
}

} // namespace dm

// Router: a group actor is started by the first call that can change its
// group (a request), and retired once it knows no machine and has saved
// everything (docs/semantics.md, "Groups"). A check or cancel for a group
// without an actor is answered here: it knows no machine, so the answer is
// denied and nothing changes.
#include "actors/router.hpp"

namespace dm {

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

router_state::group_entry& group_for(self_ptr self,
                                     const std::string& identifier,
                                     stored_group initial = {}) {
  auto& st = self->state;
  auto it = st.groups.find(identifier);
  if (it != st.groups.end())
    return it->second;
  auto actor = self->spawn<caf::linked>(group, identifier, std::move(initial),
                                        st.settings,
                                        caf::actor_cast<router_actor>(self));
  return st.groups.emplace(identifier, router_state::group_entry{actor, 0})
      .first->second;
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
          // Moved: its old holding is cancelled, without a gate. (A route
          // names a live group: its machine keeps it from retiring.)
          auto old = st.groups.find(known->second.group);
          if (old != st.groups.end()) {
            ++old->second.sent;
            self->send(old->second.actor, evict_atom::value, call.host);
          }
          st.hosts.erase(known);
          known = st.hosts.end();
        }
        if (call.kind != request_kind::request &&
            st.groups.count(call.group) == 0) {
          // No actor: the group knows no machine, and a check or cancel
          // leaves a group without machines as it is (its limit matters
          // to no decision until a request or check sets it again).
          call_result denied;
          denied.state = disruption_state::denied;
          call.reply.answer(std::move(denied));
          return;
        }
        if (call.kind == request_kind::request)
          st.hosts[call.host] = {call.group, call.route_seq};
        auto& target = group_for(self, call.group);
        ++target.sent;
        // (Should the group be gone, the dropped call's reply_to answers.)
        self->send(target.actor, operate_atom::value, std::move(call));
      },
      [self](idle_atom, const std::string& group, std::uint64_t handled) {
        auto& groups = self->state.groups;
        auto it = groups.find(group);
        // Something sent since is on its way there: the group goes on.
        if (it == groups.end() || it->second.sent != handled)
          return;
        auto actor = std::move(it->second.actor);
        groups.erase(it);
        self->unlink_from(actor);
        self->send(actor, retire_atom::value);
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
      [self](roster_atom) {
        // Handles only: the gatherer asks the groups, a few at a time, so
        // calls keep flowing through here meanwhile.
        group_roster roster;
        roster.groups.reserve(self->state.groups.size());
        for (const auto& [identifier, entry] : self->state.groups)
          roster.groups.push_back(entry.actor);
        return roster;
      },
  };
}

} // namespace dm

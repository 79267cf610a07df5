// Router: a group actor is started by the first call that can change its
// group (a request), and retired once it knows no machine and has saved
// everything (docs/semantics.md, "Groups"). A check or cancel for a group
// without an actor is answered here: it knows no machine, so the answer is
// denied and nothing changes.
#include "actors/router.hpp"

#include <memory>

#include <spdlog/spdlog.h>

#include "actors/wall_clock.hpp"

namespace dm {

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

// What the group `identifier` obeys: the operators' settings and the
// firing alerts.
group_controls controls_of(const router_state& st,
                           const std::string& identifier) {
  auto controls = st.admin.controls_for(identifier);
  controls.blocked_by_alert = st.alerts.blocks(identifier);
  return controls;
}

router_state::group_entry& group_for(self_ptr self,
                                     const std::string& identifier,
                                     stored_group initial = {}) {
  auto& st = self->state;
  auto it = st.groups.find(identifier);
  if (it != st.groups.end())
    return it->second;
  // Not linked: a link is an entry in the router's list of attachables,
  // which CAF searches from the start to remove it, so each group retiring
  // cost a walk over every group (100,000 retiring at once, after a long
  // outage, kept the router busy for minutes). The router ends its groups
  // itself when it ends (below).
  auto actor = self->spawn(group, identifier, std::move(initial), st.settings,
                           controls_of(st, identifier),
                           caf::actor_cast<router_actor>(self));
  return st.groups.emplace(identifier, router_state::group_entry{actor, 0})
      .first->second;
}

const char* operation_name(admin_operation op) {
  switch (op) {
  case admin_operation::status:
    return "status";
  case admin_operation::release:
    return "release";
  case admin_operation::pause:
    return "pause";
  case admin_operation::resume:
    return "resume";
  case admin_operation::freeze:
    return "freeze";
  case admin_operation::thaw:
    return "thaw";
  case admin_operation::limit:
    return "limit";
  case admin_operation::window:
    return "window";
  }
  return "";
}

admin_result failure(int status, std::string error) {
  admin_result result;
  result.status = status;
  result.error = std::move(error);
  return result;
}

void next_admin(self_ptr self);

// The settings after `cmd`, with its audit entry.
admin_settings settings_after(const admin_settings& before,
                              const admin_command& cmd,
                              const std::string& detail, timestamp now) {
  auto after = before;
  switch (cmd.operation) {
  case admin_operation::pause:
  case admin_operation::resume:
    after.groups[cmd.group].paused = cmd.operation == admin_operation::pause;
    break;
  case admin_operation::freeze:
  case admin_operation::thaw:
    after.frozen = cmd.operation == admin_operation::freeze;
    break;
  case admin_operation::limit:
    if (cmd.limit == 0)
      after.groups[cmd.group].limit_override.reset();
    else
      after.groups[cmd.group].limit_override = cmd.limit;
    break;
  case admin_operation::window:
    after.groups[cmd.group].windows = cmd.windows;
    break;
  case admin_operation::status:
  case admin_operation::release:
    break;
  }
  if (!cmd.group.empty()) {
    auto it = after.groups.find(cmd.group);
    if (it != after.groups.end() && it->second.empty())
      after.groups.erase(it);
  }
  audit_entry entry;
  entry.when = now;
  entry.who = cmd.who;
  entry.operation = operation_name(cmd.operation);
  entry.target =
      cmd.operation == admin_operation::release ? cmd.host : cmd.group;
  entry.detail = cmd.operation == admin_operation::limit
                     ? (cmd.limit == 0 ? "clear" : std::to_string(cmd.limit))
                 : cmd.operation == admin_operation::window
                     ? (cmd.windows ? cmd.windows->spec() : "clear")
                     : detail;
  entry.reason = cmd.reason;
  after.record(std::move(entry));
  return after;
}

// Saves the settings after `cmd` (and its audit entry), then tells the
// groups and answers: nobody hears of a setting that is not durable.
void save_admin(self_ptr self, admin_command cmd,
                caf::typed_response_promise<admin_result> promise,
                std::string detail) {
  auto& st = self->state;
  auto after = settings_after(st.admin, cmd, detail,
                              wall_now(self, st.settings->wall_offset));
  persist_batch batch;
  batch.changes.push_back(state_change::admin_update(after));
  self->request(st.settings->storage, caf::infinite, persist_atom::value,
                std::move(batch))
      .then(
          [self, cmd, promise, after, detail](bool saved) mutable {
            auto& st = self->state;
            if (!saved) {
              promise.deliver(failure(503, "not saved: the state store fails"));
              next_admin(self);
              return;
            }
            const auto& entry = after.audit.back();
            auto target = cmd.operation == admin_operation::freeze ||
                                  cmd.operation == admin_operation::thaw
                              ? std::string("every group")
                          : cmd.operation == admin_operation::release
                              ? cmd.host
                              : group_text(cmd.group);
            spdlog::info("admin {} {} by {}{}{}", entry.operation, target,
                         entry.who,
                         entry.detail.empty() ? "" : " (" + entry.detail + ")",
                         entry.reason.empty() ? "" : ": " + entry.reason);
            st.admin = std::move(after);
            for (auto& [identifier, group] : st.groups) {
              auto controls = controls_of(st, identifier);
              ++group.sent;
              self->send(group.actor, control_atom::value, controls);
            }
            admin_result result;
            result.detail = detail;
            promise.deliver(std::move(result));
            next_admin(self);
          },
          [self, promise](caf::error& err) mutable {
            promise.deliver(failure(503, "not saved: " + to_string(err)));
            next_admin(self);
          });
}

// Runs one command: a release first asks the machine's group.
void run_admin(self_ptr self, admin_command cmd,
               caf::typed_response_promise<admin_result> promise) {
  auto& st = self->state;
  st.admin_busy = true;
  if (cmd.operation != admin_operation::release) {
    save_admin(self, std::move(cmd), std::move(promise), {});
    return;
  }
  auto route = st.hosts.find(cmd.host);
  auto target = route == st.hosts.end() ? st.groups.end()
                                        : st.groups.find(route->second.group());
  if (target == st.groups.end()) {
    promise.deliver(
        failure(404, "host \"" + cmd.host + "\" holds no permit or request"));
    next_admin(self);
    return;
  }
  ++target->second.sent;
  self->request(target->second.actor, caf::infinite, release_atom::value,
                cmd.host, cmd.skip_ready_gate)
      .then(
          [self, cmd, promise](admin_result& released) mutable {
            if (released.status != 200) {
              promise.deliver(std::move(released));
              next_admin(self);
              return;
            }
            // The group's batch went to storage before this answer: the
            // audit entry's sync covers it too.
            save_admin(self, std::move(cmd), std::move(promise),
                       std::move(released.detail));
          },
          [self, promise](caf::error& err) mutable {
            promise.deliver(failure(503, "release failed: " + to_string(err)));
            next_admin(self);
          });
}

void next_admin(self_ptr self) {
  auto& st = self->state;
  st.admin_busy = false;
  if (st.admin_queue.empty())
    return;
  auto next = std::move(st.admin_queue.front());
  st.admin_queue.pop_front();
  run_admin(self, std::move(next.first), std::move(next.second));
}

} // namespace

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, stored_state initial,
       group_settings settings, alert_blocking alerts) {
  auto& st = self->state;
  st.settings = std::make_shared<const group_settings>(std::move(settings));
  st.admin = std::move(initial.admin);
  st.alerts = std::move(alerts);
  // Machines holding a permit or request have a route; the table is sized
  // for them at once instead of growing (and hashing them all again) on
  // the way.
  std::size_t holding = 0;
  std::size_t holding_groups = 0;
  for (const auto& [identifier, stored] : initial.groups) {
    auto before = holding;
    for (const auto& [host, entry] : stored.hosts)
      holding += entry.hold ? 1 : 0;
    holding_groups += holding != before ? 1 : 0;
  }
  st.hosts.reserve(holding, holding_groups);
  // The groups end with the router (they are not linked to it).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (const auto& [identifier, entry] : self->state.groups)
      self->send_exit(entry.actor, msg.reason);
    self->quit(msg.reason);
  });
  for (auto& [identifier, stored] : initial.groups) {
    for (const auto& [host, entry] : stored.hosts)
      if (entry.hold)
        st.hosts.set(host, identifier, 0);
    group_for(self, identifier, std::move(stored));
  }
  return {
      [self](operate_atom, disruption_call& call) {
        auto& st = self->state;
        call.route_seq = ++st.next_seq;
        auto known = st.hosts.find(call.host);
        if (known != st.hosts.end() && known->second.group() != call.group) {
          // Moved: its old holding is cancelled, without a gate. (A route
          // names a live group: its machine keeps it from retiring.)
          auto old = st.groups.find(known->second.group());
          if (old != st.groups.end()) {
            ++old->second.sent;
            self->send(old->second.actor, evict_atom::value, call.host);
          }
          st.hosts.erase(known);
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
          st.hosts.set(call.host, call.group, call.route_seq);
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
        self->send(actor, retire_atom::value);
      },
      [self](released_atom, const std::string& group, const std::string& host,
             std::uint64_t seq) {
        auto& hosts = self->state.hosts;
        auto it = hosts.find(host);
        // A request forwarded after the group let go keeps the route.
        if (it != hosts.end() && it->second.group() == group &&
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
        roster.admin = self->state.admin;
        roster.alerts = self->state.alerts;
        return roster;
      },
      [self](roster_atom, const std::string& identifier) {
        group_roster roster;
        auto it = self->state.groups.find(identifier);
        if (it != self->state.groups.end())
          roster.groups.push_back(it->second.actor);
        roster.admin = self->state.admin;
        roster.alerts = self->state.alerts;
        return roster;
      },
      [self](alerts_atom, alert_blocking& alerts) {
        auto& st = self->state;
        auto before = std::move(st.alerts);
        st.alerts = std::move(alerts);
        // Only groups whose blocking changed: the rest obey as they did.
        for (auto& [identifier, group] : st.groups) {
          if (before.blocks(identifier) == st.alerts.blocks(identifier))
            continue;
          ++group.sent;
          self->send(group.actor, control_atom::value,
                     controls_of(st, identifier));
        }
      },
      [self](admin_atom, admin_command& cmd) -> caf::result<admin_result> {
        auto& st = self->state;
        if (cmd.operation == admin_operation::status) {
          // The settings; the pages' gatherer adds the groups.
          admin_result result;
          result.view.admin = st.admin;
          result.view.alerts = st.alerts;
          return result;
        }
        auto promise = self->make_response_promise<admin_result>();
        // One change at a time, in order: each builds on the one before.
        if (st.admin_busy)
          st.admin_queue.emplace_back(std::move(cmd), promise);
        else
          run_admin(self, std::move(cmd), promise);
        return promise;
      },
  };
}

} // namespace dm

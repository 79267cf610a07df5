#include "frontend/answer_replica.hpp"

#include <algorithm>
#include <climits>

namespace dm {

answer_replica::machine
answer_replica::summarize(const host_entry& entry) const {
  machine m;
  std::int64_t deadline = INT64_MAX;
  if (entry.hold) {
    m.holds = true;
    m.permitted = entry.hold->permitted;
    deadline = lapse_time(entry.hold->last_request, max_duration_)
                   .time_since_epoch()
                   .count();
  }
  if (entry.wait)
    deadline = std::min<std::int64_t>(
        deadline, entry.wait->deadline.time_since_epoch().count());
  m.occupies = m.permitted || entry.wait.has_value();
  m.deadline_ns = deadline;
  return m;
}

void answer_replica::set_admin(const admin_settings& admin) {
  frozen_ = admin.frozen;
  controlled_groups_.clear();
  for (const auto& [identifier, setting] : admin.groups)
    if (!setting.empty())
      controlled_groups_.insert(identifier);
}

void answer_replica::load(const stored_state& state) {
  groups_.clear();
  host_groups_.clear();
  set_admin(state.admin);
  for (const auto& [identifier, stored] : state.groups) {
    if (stored.hosts.empty())
      continue; // Not kept (see apply).
    groups_[identifier].limit = stored.limit;
    groups_[identifier].windows = !stored.windows.empty();
    for (const auto& [host, entry] : stored.hosts)
      set_host(identifier, host, entry);
  }
}

void answer_replica::apply(const std::vector<state_change>& changes) {
  for (const auto& change : changes) {
    if (change.admin) {
      set_admin(*change.admin);
      continue;
    }
    if (change.host.empty()) {
      // A group without machines is not kept (its limit line follows its
      // machines' lines in any batch that leaves machines in it).
      auto g = groups_.find(change.group);
      if (g != groups_.end()) {
        g->second.limit = change.limit;
        g->second.windows = !change.windows.empty();
      }
      continue;
    }
    set_host(change.group, change.host, change.entry);
  }
}

void answer_replica::set_host(const std::string& group, const std::string& host,
                              const host_entry& entry) {
  bool present = entry.hold || entry.wait;
  auto g = groups_.find(group);
  if (g == groups_.end()) {
    if (!present)
      return;
    g = groups_.emplace(group, group_copy{}).first;
  }
  auto& copy = g->second;
  auto old = copy.machines.find(host);
  if (old != copy.machines.end()) {
    copy.deadlines.erase(copy.deadlines.find(old->second.deadline_ns));
    if (old->second.occupies)
      --copy.occupied;
    if (!present) {
      copy.machines.erase(old);
      auto refs = host_groups_.find(host);
      if (--refs->second == 0)
        host_groups_.erase(refs);
      // A group without machines is the same as no group: nothing it
      // could decide depends on its limit.
      if (copy.machines.empty())
        groups_.erase(g);
      return;
    }
    old->second = summarize(entry);
  } else {
    if (!present)
      return;
    old = copy.machines.emplace(host, summarize(entry)).first;
    ++host_groups_[host];
  }
  copy.deadlines.insert(old->second.deadline_ns);
  if (old->second.occupies)
    ++copy.occupied;
}

std::optional<disruption_state>
answer_replica::check(const std::string& host, const std::string& group,
                      std::uint64_t limit, const std::string& windows,
                      timestamp now) const {
  if (frozen_ || controlled_groups_.count(group) != 0)
    return std::nullopt; // The group actor applies the operators' rules.
  if (!windows.empty())
    return std::nullopt; // The group actor knows whether a window is open.
  if (alerts_.blocks(group))
    return std::nullopt; // And the alerts'.
  auto g = groups_.find(group);
  auto refs = host_groups_.find(host);
  if (g == groups_.end()) {
    // A group without saved machines: a check of a machine known nowhere
    // changes nothing in it (its limit decides nothing until it has
    // machines, and the first request sets it).
    if (refs == host_groups_.end())
      return disruption_state::denied;
    return std::nullopt; // Known in another group: the call moves it.
  }
  if (limit != g->second.limit)
    return std::nullopt; // The check sets the group's limit.
  if (g->second.windows)
    return std::nullopt; // The check clears the group's windows.
  if (refs == host_groups_.end())
    return disruption_state::denied; // Known nowhere: denied, no change.
  if (refs->second != 1)
    return std::nullopt; // Known in another group: the call moves it.
  auto m = g->second.machines.find(host);
  if (m == g->second.machines.end())
    return std::nullopt;
  auto now_ns = now.time_since_epoch().count();
  const auto& mine = m->second;
  if (now_ns >= mine.deadline_ns)
    return std::nullopt; // Its own expiry (or wait end) is due.
  if (!mine.holds)
    return disruption_state::denied; // Waiting.
  if (mine.permitted)
    return disruption_state::permitted; // Only its own expiry ends that.
  // Queued: stays so while every slot is taken and nothing in the group
  // is due (a due permit or wait frees a slot for the queue's head).
  const auto& copy = g->second;
  if (copy.occupied < copy.limit)
    return std::nullopt;
  if (!copy.deadlines.empty() && now_ns >= *copy.deadlines.begin())
    return std::nullopt;
  return disruption_state::requested;
}

} // namespace dm

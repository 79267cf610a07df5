// The stored state model shared by every backend.
#include "storage/state_store.hpp"

namespace dm {

std::size_t stored_state::host_count() const {
  std::size_t count = 0;
  for (const auto& [id, group] : groups)
    count += group.hosts.size();
  return count;
}

state_change state_change::host_update(std::string group, std::string host,
                                       host_entry entry) {
  state_change change;
  change.group = std::move(group);
  change.host = std::move(host);
  change.entry = std::move(entry);
  return change;
}

state_change state_change::limit_update(std::string group, std::uint64_t limit,
                                        std::string windows) {
  state_change change;
  change.group = std::move(group);
  change.limit = limit;
  change.windows = std::move(windows);
  return change;
}

state_change state_change::admin_update(admin_settings settings) {
  state_change change;
  change.admin = std::move(settings);
  return change;
}

timestamp clamp_to_storable(timestamp when) {
  auto ns = when.time_since_epoch().count();
  if (ns < earliest_stored_ns)
    ns = earliest_stored_ns;
  if (ns > latest_stored_ns)
    ns = latest_stored_ns;
  return timestamp{std::chrono::nanoseconds(ns)};
}

bool storable_changes(const std::vector<state_change>& changes,
                      std::string& error) {
  for (const auto& change : changes) {
    const auto& hold = change.entry.hold;
    const auto& wait = change.entry.wait;
    if ((hold && !storable_time(hold->last_request)) ||
        (wait && !storable_time(wait->deadline))) {
      error = "a time out of the storable range (1970 to 2200) for " +
              change.host + " in group \"" + change.group + "\"";
      return false;
    }
  }
  return true;
}

void apply_change(stored_state& state, const state_change& change) {
  if (change.admin) {
    state.admin = *change.admin;
    return;
  }
  if (change.host.empty()) {
    auto& group = state.groups[change.group];
    group.limit = change.limit;
    group.windows = change.windows;
    return;
  }
  if (change.entry.hold || change.entry.wait) {
    state.groups[change.group].hosts[change.host] = change.entry;
    return;
  }
  auto group = state.groups.find(change.group);
  if (group == state.groups.end())
    return;
  group->second.hosts.erase(change.host);
  if (group->second.hosts.empty() && group->second.limit <= 1 &&
      group->second.windows.empty())
    state.groups.erase(group);
}

std::vector<state_change> save_changes(const group_book& book,
                                       const std::set<std::string>& changed,
                                       bool limit_changed, bool& emptied) {
  std::vector<state_change> changes;
  changes.reserve(changed.size() + 1);
  bool erases = false;
  for (const auto& host : changed) {
    auto entry = book.find(host);
    erases = erases || entry == nullptr;
    changes.push_back(state_change::host_update(book.identifier(), host,
                                                entry ? *entry : host_entry{}));
  }
  if (book.entries().empty()) {
    emptied = true;
  } else if (limit_changed || erases || emptied) {
    changes.push_back(state_change::limit_update(
        book.identifier(), book.limit(), book.tag_windows()));
    emptied = false;
  }
  return changes;
}

void forget_group_if_empty(stored_state& state, const std::string& group) {
  auto it = state.groups.find(group);
  if (it != state.groups.end() && it->second.hosts.empty())
    state.groups.erase(it);
}

void forget_empty_groups(stored_state& state) {
  for (auto it = state.groups.begin(); it != state.groups.end();)
    it = it->second.hosts.empty() ? state.groups.erase(it) : std::next(it);
}

} // namespace dm

#include "frontend/answer_replica.hpp"

#include <algorithm>
#include <climits>
#include <functional>

namespace dm {

void answer_replica::summarize(const host_entry& entry, machine& m) const {
  std::int64_t deadline = INT64_MAX;
  m.holds = entry.hold.has_value();
  m.permitted = entry.hold && entry.hold->permitted;
  if (entry.hold)
    deadline = lapse_time(entry.hold->last_request, max_duration_)
                   .time_since_epoch()
                   .count();
  if (entry.wait)
    deadline = std::min<std::int64_t>(
        deadline, entry.wait->deadline.time_since_epoch().count());
  m.occupies = m.permitted || entry.wait.has_value();
  m.deadline_ns = deadline;
}

void answer_replica::set_admin(const admin_settings& admin) {
  frozen_ = admin.frozen;
  controlled_groups_.clear();
  for (const auto& [identifier, setting] : admin.groups)
    if (!setting.empty())
      controlled_groups_.insert(identifier);
}

// The index.

std::size_t answer_replica::home(const std::string& host) const {
  return std::hash<std::string>{}(host) & (slots_.size() - 1);
}

std::uint32_t answer_replica::find(const std::string& host,
                                   const group_copy* group) const {
  if (slots_.empty())
    return none;
  auto mask = slots_.size() - 1;
  for (auto i = home(host); slots_[i] != none; i = (i + 1) & mask) {
    const auto& m = machines_[slots_[i]];
    if (m.group == group && m.host == host)
      return slots_[i];
  }
  return none;
}

void answer_replica::index_insert(std::uint32_t index) {
  auto mask = slots_.size() - 1;
  auto i = home(machines_[index].host);
  while (slots_[i] != none)
    i = (i + 1) & mask;
  slots_[i] = index;
}

std::size_t answer_replica::slot_holding(std::uint32_t index) const {
  auto mask = slots_.size() - 1;
  auto i = home(machines_[index].host);
  while (slots_[i] != index)
    i = (i + 1) & mask;
  return i;
}

void answer_replica::index_erase(std::uint32_t index) {
  // Backward shift: a later row of the probe run moves into the hole
  // unless its home lies (cyclically) after the hole, so every row stays
  // reachable from its home without tombstones.
  auto mask = slots_.size() - 1;
  auto hole = slot_holding(index);
  for (auto j = (hole + 1) & mask; slots_[j] != none; j = (j + 1) & mask) {
    auto k = home(machines_[slots_[j]].host);
    bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = none;
}

void answer_replica::index_reserve(std::size_t rows) {
  if (rows * 4 <= slots_.size() * 3)
    return;
  std::size_t size = 16;
  while (size * 3 < rows * 4)
    size *= 2;
  slots_.assign(size, none);
  for (std::uint32_t index = 0; index < machines_.size(); ++index)
    index_insert(index);
}

// The heap of a group's deadlines.

void answer_replica::heap_place(group_copy& g, std::size_t pos,
                                std::uint32_t index) {
  g.by_deadline[pos] = index;
  machines_[index].heap_pos = static_cast<std::uint32_t>(pos);
}

void answer_replica::sift_up(group_copy& g, std::size_t pos) {
  auto index = g.by_deadline[pos];
  auto deadline = machines_[index].deadline_ns;
  while (pos > 0) {
    auto parent = (pos - 1) / 2;
    if (deadline_at(g, parent) <= deadline)
      break;
    heap_place(g, pos, g.by_deadline[parent]);
    pos = parent;
  }
  heap_place(g, pos, index);
}

void answer_replica::sift_down(group_copy& g, std::size_t pos) {
  auto n = g.by_deadline.size();
  auto index = g.by_deadline[pos];
  auto deadline = machines_[index].deadline_ns;
  for (;;) {
    auto child = 2 * pos + 1;
    if (child >= n)
      break;
    if (child + 1 < n && deadline_at(g, child + 1) < deadline_at(g, child))
      ++child;
    if (deadline_at(g, child) >= deadline)
      break;
    heap_place(g, pos, g.by_deadline[child]);
    pos = child;
  }
  heap_place(g, pos, index);
}

void answer_replica::heap_fix(group_copy& g, std::size_t pos) {
  if (pos > 0 && deadline_at(g, (pos - 1) / 2) > deadline_at(g, pos))
    sift_up(g, pos);
  else
    sift_down(g, pos);
}

void answer_replica::heap_erase(group_copy& g, std::size_t pos) {
  auto last = g.by_deadline.back();
  g.by_deadline.pop_back();
  if (pos == g.by_deadline.size())
    return;
  heap_place(g, pos, last);
  heap_fix(g, pos);
}

// The machines.

void answer_replica::erase_machine(std::uint32_t index) {
  auto& m = machines_[index];
  auto& g = *m.group;
  heap_erase(g, m.heap_pos);
  if (m.occupies)
    --g.occupied;
  index_erase(index);
  // The last row fills the gap, so the table stays dense.
  auto last = static_cast<std::uint32_t>(machines_.size() - 1);
  if (index != last) {
    slots_[slot_holding(last)] = index;
    machines_[index] = std::move(machines_[last]);
    auto& moved = machines_[index];
    moved.group->by_deadline[moved.heap_pos] = index;
  }
  machines_.pop_back();
}

void answer_replica::load(const stored_state& state) {
  groups_.clear();
  machines_.clear();
  slots_.clear();
  set_admin(state.admin);
  std::size_t rows = 0;
  std::size_t kept = 0;
  for (const auto& [identifier, stored] : state.groups) {
    rows += stored.hosts.size();
    kept += stored.hosts.empty() ? 0 : 1;
  }
  machines_.reserve(rows);
  index_reserve(rows);
  groups_.reserve(kept);
  for (const auto& [identifier, stored] : state.groups) {
    if (stored.hosts.empty())
      continue; // Not kept (see apply).
    auto& copy = groups_[identifier];
    copy.limit = stored.limit;
    copy.windows = !stored.windows.empty();
    copy.by_deadline.reserve(stored.hosts.size());
    // A group's hosts are distinct: each is a new row, no lookup needed.
    for (const auto& [host, entry] : stored.hosts) {
      if (!entry.hold && !entry.wait)
        continue;
      auto index = static_cast<std::uint32_t>(machines_.size());
      auto& m = machines_.emplace_back();
      m.host = host;
      m.group = &copy;
      summarize(entry, m);
      m.heap_pos = static_cast<std::uint32_t>(copy.by_deadline.size());
      copy.by_deadline.push_back(index);
      if (m.occupies)
        ++copy.occupied;
      index_insert(index);
    }
    if (copy.by_deadline.empty()) {
      groups_.erase(identifier);
      continue;
    }
    for (auto pos = copy.by_deadline.size() / 2; pos-- > 0;)
      sift_down(copy, pos);
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
  auto index = find(host, &copy);
  if (index == none) {
    if (!present)
      return;
    index_reserve(machines_.size() + 1);
    index = static_cast<std::uint32_t>(machines_.size());
    auto& m = machines_.emplace_back();
    m.host = host;
    m.group = &copy;
    summarize(entry, m);
    if (m.occupies)
      ++copy.occupied;
    index_insert(index);
    copy.by_deadline.push_back(index);
    sift_up(copy, copy.by_deadline.size() - 1);
    return;
  }
  if (!present) {
    erase_machine(index);
    // A group without machines is the same as no group: nothing it could
    // decide depends on its limit.
    if (copy.by_deadline.empty())
      groups_.erase(g);
    return;
  }
  auto& m = machines_[index];
  if (m.occupies)
    --copy.occupied;
  summarize(entry, m);
  if (m.occupies)
    ++copy.occupied;
  heap_fix(copy, m.heap_pos);
}

std::size_t answer_replica::host_count() const {
  std::size_t count = 0;
  auto mask = slots_.size() - 1;
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s] == none)
      continue;
    // Counted at the first of its rows on its probe run.
    const auto& host = machines_[slots_[s]].host;
    auto i = home(host);
    while (machines_[slots_[i]].host != host)
      i = (i + 1) & mask;
    count += i == s ? 1 : 0;
  }
  return count;
}

std::string answer_replica::layout_fault() const {
  std::size_t indexed = 0;
  for (auto index : slots_)
    indexed += index == none ? 0 : 1;
  if (indexed != machines_.size())
    return std::to_string(indexed) + " slots for " +
           std::to_string(machines_.size()) + " rows";
  std::size_t rows = 0;
  for (const auto& [identifier, g] : groups_) {
    if (g.by_deadline.empty())
      return "group " + identifier + " kept without machines";
    std::uint32_t occupied = 0;
    for (std::size_t pos = 0; pos < g.by_deadline.size(); ++pos) {
      auto index = g.by_deadline[pos];
      if (index >= machines_.size())
        return "group " + identifier + " names row " + std::to_string(index);
      const auto& m = machines_[index];
      if (m.group != &g || m.heap_pos != pos)
        return "row of " + m.host + " not where group " + identifier +
               " has it";
      if (pos > 0 && deadline_at(g, (pos - 1) / 2) > m.deadline_ns)
        return "group " + identifier + " out of deadline order";
      if (find(m.host, &g) != index)
        return m.host + " in " + identifier + " not found";
      occupied += m.occupies ? 1 : 0;
    }
    if (occupied != g.occupied)
      return "group " + identifier + " counts " + std::to_string(g.occupied) +
             " occupied of " + std::to_string(occupied);
    rows += g.by_deadline.size();
  }
  if (rows != machines_.size())
    return std::to_string(machines_.size()) + " rows, " + std::to_string(rows) +
           " in groups";
  return {};
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
  // The host's rows: none, one, or two while a move is being saved.
  const machine* mine = nullptr;
  bool twice = false;
  if (!slots_.empty()) {
    auto mask = slots_.size() - 1;
    for (auto i = home(host); slots_[i] != none; i = (i + 1) & mask) {
      const auto& m = machines_[slots_[i]];
      if (m.host != host)
        continue;
      if (mine != nullptr) {
        twice = true;
        break;
      }
      mine = &m;
    }
  }
  auto g = groups_.find(group);
  if (g == groups_.end()) {
    // A group without saved machines: a check of a machine known nowhere
    // changes nothing in it (its limit decides nothing until it has
    // machines, and the first request sets it).
    if (mine == nullptr)
      return disruption_state::denied;
    return std::nullopt; // Known in another group: the call moves it.
  }
  const auto& copy = g->second;
  if (limit != copy.limit)
    return std::nullopt; // The check sets the group's limit.
  if (copy.windows)
    return std::nullopt; // The check clears the group's windows.
  if (mine == nullptr)
    return disruption_state::denied; // Known nowhere: denied, no change.
  if (twice || mine->group != &copy)
    return std::nullopt; // Known in another group: the call moves it.
  auto now_ns = now.time_since_epoch().count();
  if (now_ns >= mine->deadline_ns)
    return std::nullopt; // Its own expiry (or wait end) is due.
  if (!mine->holds)
    return disruption_state::denied; // Waiting.
  if (mine->permitted)
    return disruption_state::permitted; // Only its own expiry ends that.
  // Queued: stays so while every slot is taken and nothing in the group
  // is due (a due permit or wait frees a slot for the queue's head).
  if (copy.occupied < copy.limit)
    return std::nullopt;
  if (now_ns >= deadline_at(copy, 0))
    return std::nullopt;
  return disruption_state::requested;
}

} // namespace dm

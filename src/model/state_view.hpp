// What the status pages, the state API and the metrics show of the
// service: plain snapshots of every group, made by the actors on request.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/admin_settings.hpp"
#include "model/alert_blocking.hpp"

namespace dm {

// One machine as the status pages show it.
struct machine_view {
  std::string host;
  std::string group;
  std::string state; // permitted, requested, waiting
  std::int64_t last_request_ns = 0;
  std::int64_t expires_ns = 0;
  std::int64_t ready_deadline_ns = 0;
  std::string ready_url;
  std::uint64_t queue_position = 0; // 1 = next in line; 0 = not queued
};

// One group as the status pages show it.
struct group_view {
  std::string identifier;
  std::uint64_t limit = 1;
  std::uint64_t permitted = 0;
  std::uint64_t waiting = 0;
  std::uint64_t queued = 0;
  std::vector<machine_view> machines;   // permitted, then queue order, waiting
  std::vector<std::string> gate_errors; // recent "host: reason" lines
  std::uint64_t tag_limit = 1; // the records' tag; `limit` is what decides
  group_controls controls;     // what operators set for it
  // False for a summary: the counts above without `machines` and
  // `gate_errors`.
  bool listed = true;
  // The maintenance windows that apply (the operator's, else the records'
  // tag's; empty: none), whether they are open (controls.outside_window),
  // and when that next changes (0: not within days).
  std::string windows;
  bool windows_from_operator = false;
  std::int64_t window_change_ns = 0;
};

// A machine's state in a view, as `machine_view::state` names it.
enum class view_state { any, permitted, requested, waiting };

// How many of a group's machines are in `state` (by its counts, so a
// summary answers too).
inline std::uint64_t machines_in(const group_view& g, view_state state) {
  switch (state) {
  case view_state::permitted:
    return g.permitted;
  case view_state::requested:
    return g.queued;
  case view_state::waiting:
    return g.waiting;
  default:
    return g.permitted + g.queued + g.waiting;
  }
}

// What a gathering asks of the groups (docs/performance.md, "The dashboard
// at scale"). The whole scope (the default) lists every machine of every
// group. Otherwise every group (or the one named) answers with a summary,
// and only the groups holding the window [first, first + count) of the
// machines in `state`, counted in group order, list theirs; none do when
// more than `list_at_most` machines are in `state`.
struct gather_scope {
  bool whole = true;
  std::optional<std::string> group; // only this group
  view_state state = view_state::any;
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  std::uint64_t list_at_most = std::numeric_limits<std::uint64_t>::max();

  bool operator==(const gather_scope& o) const {
    return whole == o.whole && group == o.group && state == o.state &&
           first == o.first && count == o.count &&
           list_at_most == o.list_at_most;
  }
};

// The whole service state for pages and GET /api/v1/state.
struct state_view {
  std::vector<group_view> groups;
  admin_settings admin;  // freeze, groups' settings, the audit trail
  alert_blocking alerts; // what firing alerts block
};

// The whole state for a page, or why there is none: pages answer 503 with
// `error` rather than show a part of the state as if it were all of it.
// The view is shared by every request that waited for one gathering.
struct gathered_state {
  std::shared_ptr<const state_view> view; // null: see error
  std::string error;
};

} // namespace dm

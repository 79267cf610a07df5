// The narrow interface between the service and its durable state: load once
// at start, append changes, make them durable with one sync. A file journal
// implements it now; a replicated backend can implement it later.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/admin_settings.hpp"
#include "disruption/group_book.hpp"

namespace dm {

// The persisted part of one group.
struct stored_group {
  std::uint64_t limit = 1;
  std::string windows; // the records' maintenance window spec, if any
  std::map<std::string, host_entry> hosts;
};

// Everything the service must remember across restarts.
struct stored_state {
  std::map<std::string, stored_group> groups;
  // What operators set (kept whether or not its groups have machines).
  admin_settings admin;
  std::size_t host_count() const;
};

// One change: a host's whole entry in a group (an entry with neither hold
// nor wait erases it), or, with an empty host, the group's limit and
// window spec (the records' tags); or, when
// `admin` is set (group and host empty), the whole of the operators'
// settings, replacing what was there. Every store carries all three kinds.
struct state_change {
  std::string group;
  std::string host;
  host_entry entry;
  std::uint64_t limit = 0;
  std::string windows;
  std::optional<admin_settings> admin;

  static state_change host_update(std::string group, std::string host,
                                  host_entry entry);
  static state_change limit_update(std::string group, std::uint64_t limit,
                                   std::string windows = {});
  static state_change admin_update(admin_settings settings);
};

// Applies a change as journals have always been read: a group whose last
// host goes keeps its limit while it is above 1 (older versions relied on
// that when a group filled again), or while it has a window spec.
void apply_change(stored_state& state, const state_change& change);

// The times a state file may hold, in nanoseconds since the epoch:
// 1970-01-01 up to 2200-01-01. Wider values would overflow when a duration
// is added to or taken from them; outside this range a stored line is
// refused when read and a change when appended.
constexpr std::int64_t earliest_stored_ns = 0;
constexpr std::int64_t latest_stored_ns = 7'258'118'400'000'000'000;
static_assert(latest_stored_ns ==
                  latest_wait_deadline.time_since_epoch().count(),
              "a wait's deadline must be storable");

inline bool storable_time(timestamp when) {
  auto ns = when.time_since_epoch().count();
  return ns >= earliest_stored_ns && ns <= latest_stored_ns;
}

// Whether every time in `changes` is storable; else false with `error`
// naming the machine (a store refuses such a batch whole).
bool storable_changes(const std::vector<state_change>& changes,
                      std::string& error);

// `when` moved into that range (for times read from the original's file).
timestamp clamp_to_storable(timestamp when);

// What a store reports beyond whether its syncs work.
struct store_health {
  // Changes appended and not yet durable.
  std::size_t pending_changes = 0;
  // Changes written by the syncs that worked (a change retried after a
  // failed sync counts once, when it is written).
  std::uint64_t changes_written = 0;
  // The last compaction failed: every change is still durable (in the
  // journal), but the journal grows until one succeeds.
  bool compaction_failing = false;
  std::uint64_t compaction_failures = 0;
  // How long after the last failure the next compaction is tried.
  std::chrono::milliseconds compaction_backoff{0};
};

// The changes that save `book` after `changed` hosts changed: each host's
// entry (none: erased), then the group's limit (with its window spec)
// whenever the disk may not have it right: it changed (`limit_changed`), or the disk may have dropped
// the group, which it does with its last host: the book knew no machine at
// some point since the last save (`emptied`, which this updates), or a host
// goes in this very batch. Nothing is said of the limit of a book that
// knows no machine: the group goes with its last host.
std::vector<state_change> save_changes(const group_book& book,
                                       const std::set<std::string>& changed,
                                       bool limit_changed, bool& emptied);

// A group that knows no machine is not kept, its limit neither
// (docs/semantics.md, "Groups"): drops `group` if it has no host left.
void forget_group_if_empty(stored_state& state, const std::string& group);
// The same for every group (after reading a journal).
void forget_empty_groups(stored_state& state);

class state_store {
public:
  virtual ~state_store() = default;

  // The state as read when the store was opened.
  virtual const stored_state& loaded() const = 0;
  // The same, handed over once when the actors take over: a store that
  // need not keep it gives it away (loaded() is empty afterwards), since
  // at a million machines it is hundreds of megabytes that nothing reads
  // again (docs/performance.md, "A million machines").
  virtual stored_state take_loaded() { return loaded(); }

  // Buffers changes; they are durable only after the next successful sync.
  virtual bool append(const std::vector<state_change>& changes,
                      std::string& error) = 0;

  // Makes every appended change durable.
  virtual bool sync(std::string& error) = 0;
  // The store left work from opening to its first sync, which should come
  // at once even with nothing appended (the file store's snapshot of an
  // import).
  virtual bool sync_due() const { return false; }

  // A line for the log describing where the state lives.
  virtual std::string describe() const = 0;

  virtual store_health health() const { return {}; }
};

} // namespace dm

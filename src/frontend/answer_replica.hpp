// An I/O thread's copy of the durable state, kept only to answer `check`
// without leaving the thread. It is fed, in order, with the changes the
// storage actor has synced, before any answer that depends on them is sent,
// so a client that heard of a change and then checks (on any connection)
// finds it here. It answers only when the answer cannot depend on anything
// it does not know; otherwise the call goes to the group actor as before.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "disruption/group_book.hpp"
#include "model/alert_blocking.hpp"
#include "storage/state_store.hpp"

namespace dm {

class answer_replica {
public:
  explicit answer_replica(std::chrono::nanoseconds max_duration)
      : max_duration_(max_duration) {}

  // The state read at start, before any change.
  void load(const stored_state& state);
  // Changes in the order they were synced.
  void apply(const std::vector<state_change>& changes);
  // What firing alerts now block (not saved: from the alert poller).
  void set_alerts(alert_blocking alerts) { alerts_ = std::move(alerts); }

  // The answer the group actor would give to `check` from `host` of
  // `group` whose record carries `limit` and the maintenance window spec
  // `windows`, at `now`; nothing when the replica cannot be sure (the group
  // actor must decide):
  // * the group has saved machines and the call would change its
  //   remembered limit (a group without machines is kept nowhere: a check
  //   changes nothing in it),
  // * the host is known in another group (the call moves it),
  // * a permit or request has reached its expiry, or any deadline of the
  //   group has passed (a slot may be freed and the queue promoted),
  // * the host is queued and the group has a free slot,
  // * operators froze every group, or paused this one or set its limit
  //   (docs/semantics.md, "Operator control": the group actor applies
  //   those rules),
  // * the group has maintenance windows, an operator's or its records', or
  //   the check's record names some (docs/semantics.md, "Maintenance
  //   windows": whether one is open is the group actor's to say),
  // * a firing alert, or Prometheus out of reach, blocks the group
  //   (docs/semantics.md, "Blocking alerts").
  std::optional<disruption_state>
  check(const std::string& host, const std::string& group, std::uint64_t limit,
        const std::string& windows, timestamp now) const;

  std::size_t host_count() const { return host_groups_.size(); }

private:
  struct machine {
    bool holds = false; // permitted or queued
    bool permitted = false;
    bool occupies = false;        // permitted or waiting: holds a slot
    std::int64_t deadline_ns = 0; // earliest of expiry and wait end
  };
  struct group_copy {
    std::uint64_t limit = 1;
    bool windows = false;     // the records set a maintenance window
    std::size_t occupied = 0; // permitted + waiting
    std::unordered_map<std::string, machine> machines;
    std::multiset<std::int64_t> deadlines;
  };

  void set_host(const std::string& group, const std::string& host,
                const host_entry& entry);
  machine summarize(const host_entry& entry) const;

  void set_admin(const admin_settings& admin);

  std::chrono::nanoseconds max_duration_;
  std::unordered_map<std::string, group_copy> groups_;
  bool frozen_ = false;
  // Paused, with an override or with maintenance windows.
  std::set<std::string> controlled_groups_;
  alert_blocking alerts_;
  // How many groups know each host; more than one while a move is being
  // saved.
  std::unordered_map<std::string, std::uint32_t> host_groups_;
};

} // namespace dm

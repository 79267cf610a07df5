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

  // How many machines it knows (a machine known in two groups counts
  // once). Walks the whole table: for tests.
  std::size_t host_count() const;
  // What is wrong with the layout (a row its index does not reach, a
  // group's deadline order or counts not matching its rows), or nothing.
  // Walks everything: for tests.
  std::string layout_fault() const;

private:
  // Each machine is kept once, as a 56-byte row of one flat table with its
  // group as a pointer; an index of 4-byte slots finds it by host, and its
  // group's heap of deadlines holds its row number (4 bytes): about 70
  // bytes a machine, against 200 in a hash map per group, a multiset of
  // deadlines and a second map of hosts (docs/performance.md, "A million
  // machines: where memory and start-up time go").
  struct group_copy;
  // A machine as one group knows it. A machine is known in one group, or
  // in two while a move is being saved: then it has one row per group.
  struct machine {
    std::string host;
    group_copy* group = nullptr;
    std::int64_t deadline_ns = 0; // earliest of expiry and wait end
    std::uint32_t heap_pos = 0;   // where it is in group->by_deadline
    bool holds = false;           // permitted or queued
    bool permitted = false;
    bool occupies = false; // permitted or waiting: holds a slot
  };
  struct group_copy {
    std::uint64_t limit = 1;
    bool windows = false;       // the records set a maintenance window
    std::uint32_t occupied = 0; // permitted + waiting
    // Its machines (indices into machines_), a binary min-heap on their
    // deadlines: the earliest is at the front. Never empty (a group
    // without machines is not kept).
    std::vector<std::uint32_t> by_deadline;
  };
  static constexpr std::uint32_t none = UINT32_MAX;

  void set_host(const std::string& group, const std::string& host,
                const host_entry& entry);
  void summarize(const host_entry& entry, machine& m) const;
  void erase_machine(std::uint32_t index);
  void set_admin(const admin_settings& admin);

  // The index: open addressing with linear probing over machines_, keyed
  // by host; several rows of one host lie on one probe sequence.
  std::size_t home(const std::string& host) const;
  std::uint32_t find(const std::string& host, const group_copy* group) const;
  void index_insert(std::uint32_t index);
  void index_erase(std::uint32_t index);
  std::size_t slot_holding(std::uint32_t index) const;
  void index_reserve(std::size_t rows);

  // The heap of a group's deadlines.
  std::int64_t deadline_at(const group_copy& g, std::size_t pos) const {
    return machines_[g.by_deadline[pos]].deadline_ns;
  }
  void heap_place(group_copy& g, std::size_t pos, std::uint32_t index);
  void sift_up(group_copy& g, std::size_t pos);
  void sift_down(group_copy& g, std::size_t pos);
  void heap_fix(group_copy& g, std::size_t pos);
  void heap_erase(group_copy& g, std::size_t pos);

  std::chrono::nanoseconds max_duration_;
  // Dense: the last row fills the place of one that goes.
  std::vector<machine> machines_;
  // Slots of the index: a row of machines_, or none. A power of two in
  // size, at most three quarters full.
  std::vector<std::uint32_t> slots_;
  // Node-based: a group_copy stays where it is while the table grows, so
  // a machine points at it.
  std::unordered_map<std::string, group_copy> groups_;
  bool frozen_ = false;
  // Paused, with an override or with maintenance windows.
  std::set<std::string> controlled_groups_;
  alert_blocking alerts_;
};

} // namespace dm

// The group actor: owns one group's book (slots, FIFO queue, waits), keeps
// answers back until the changes behind them are durable, and runs the
// probers of its machines and one timer for the group's earliest deadline.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/prober.hpp"
#include "disruption/group_book.hpp"
#include "storage/state_store.hpp"

namespace dm {

// What every group actor is started with, the same for all: the router
// holds it once and each group keeps a pointer to it (docs/performance.md,
// "A million machines: where memory and start-up time go").
struct group_settings {
  std::chrono::nanoseconds max_duration = std::chrono::hours(1);
  std::chrono::nanoseconds wall_offset{0}; // wall clock minus actor clock
  storage_actor storage;
  timer_actor timer; // wakes the group at its earliest deadline
  // How probers GET a ready URL (the real HTTP client unless a test says
  // otherwise), how long one GET may take, and whether probers get their
  // own threads (they block on the network; tests run them inline).
  std::shared_ptr<const url_fetcher> fetcher;
  std::chrono::nanoseconds probe_timeout = std::chrono::seconds(5);
  bool detached_probers = true;
};

// One group actor's state. A CAF actor holds its state inline, and there is
// one actor per group: what a group only needs while it is busy is held
// apart (`traffic`), so an idle group costs its book and a few counters
// (docs/performance.md, "A million machines: where memory and start-up time
// go"). What operators set for the group lives in its book.
struct group_state {
  static inline const char* name = "group";

  // An answer held back until a batch sent earlier is on stable storage
  // (answers to the calls that made a batch travel with it instead).
  struct pending_reply {
    held_reply held;
    std::uint64_t needs_batch = 0;
  };

  // What the group keeps per machine beside its book entry.
  struct machine_slot {
    prober_actor prober;
    std::uint64_t route_seq = 0; // the router's order of its last request
    // The ready gate of the machine's last request or cancel, which an
    // operator's release applies (known since this process started).
    bool gate_known = false;
    std::optional<ready_gate> gate;
  };

  // What a group holds only while machines asked it since the start, while
  // changes are on their way to storage or answers wait for them, and
  // after gate errors: created when first needed, dropped once all empty.
  struct traffic_state {
    std::unordered_map<std::string, machine_slot> machines;
    std::set<std::string> unsaved; // hosts changed but not in a sent batch
    // The batch that carries each host's latest change: an answer about a
    // host waits for that batch only, so checks of saved machines go on
    // while the disk fails.
    std::unordered_map<std::string, std::uint64_t> host_batch;
    // Vectors, not deques: an empty std::deque holds about 600 bytes of
    // heap.
    std::vector<pending_reply> pending;
    std::vector<std::string> gate_errors; // recent, newest last

    bool empty() const {
      return machines.empty() && unsaved.empty() && host_batch.empty() &&
             pending.empty() && gate_errors.empty();
    }
  };

  // The traffic state, created if the group has none yet.
  traffic_state& traffic() {
    if (!traffic_)
      traffic_ = std::make_unique<traffic_state>();
    return *traffic_;
  }
  // The traffic state, or null when the group has none.
  traffic_state* traffic_if_any() { return traffic_.get(); }
  const traffic_state* traffic_if_any() const { return traffic_.get(); }
  // Drops the traffic state once it holds nothing.
  void drop_idle_traffic() {
    if (traffic_ && traffic_->empty())
      traffic_.reset();
  }

  std::optional<group_book> book;
  std::shared_ptr<const group_settings> settings;
  router_actor router;
  // The group's earliest deadline as the timer actor has it; a superseded
  // wake-up is told apart by its generation.
  std::uint64_t timer_generation = 0;
  std::optional<timestamp> timer_at;
  std::uint64_t batches_sent = 0;
  std::uint64_t batches_durable = 0;
  // Calls and evictions handled, and that count when the group last told
  // the router it is idle (the router retires it if it sent no more).
  std::uint64_t handled = 0;
  std::uint64_t reported_idle = ~std::uint64_t{0};
  bool limit_unsaved = false;
  // The book knew no machine at some point since the last batch: the disk
  // may have dropped the group (and its limit) meanwhile, so the next
  // batch that leaves machines in it also carries the limit.
  bool emptied_since_batch = true;
  bool retry_scheduled = false; // a flush_atom to self is on its way

private:
  std::unique_ptr<traffic_state> traffic_;
};

// `controls`: what operators set for the group as it starts (the router
// tells it of changes later).
group_actor::behavior_type
group(group_actor::stateful_pointer<group_state> self, std::string identifier,
      stored_group initial, std::shared_ptr<const group_settings> settings,
      group_controls controls, router_actor router);

} // namespace dm

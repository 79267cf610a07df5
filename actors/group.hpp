// The group actor: owns one group's book (slots, FIFO queue, waits), keeps
// answers back until the changes behind them are durable, and runs the
// probers of its machines and one timer for the group's earliest deadline.
#pragma once

#include <chrono>
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

// What every group actor is started with.
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
  // What operators set for the group when it starts (the router fills it
  // in per group and tells live groups of changes).
  group_controls controls;
};

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

  std::optional<group_book> book;
  group_settings settings;
  router_actor router;
  std::unordered_map<std::string, machine_slot> machines;
  // The group's earliest deadline as the timer actor has it; a superseded
  // wake-up is told apart by its generation.
  std::uint64_t timer_generation = 0;
  std::optional<timestamp> timer_at;
  std::uint64_t batches_sent = 0;
  std::uint64_t batches_durable = 0;
  std::set<std::string> unsaved; // hosts changed but not in a sent batch
  // The batch that carries each host's latest change: an answer about a
  // host waits for that batch only, so checks of saved machines go on
  // while the disk fails.
  std::unordered_map<std::string, std::uint64_t> host_batch;
  bool limit_unsaved = false;
  // The book knew no machine at some point since the last batch: the disk
  // may have dropped the group (and its limit) meanwhile, so the next
  // batch that leaves machines in it also carries the limit.
  bool emptied_since_batch = true;
  // Calls and evictions handled, and that count when the group last told
  // the router it is idle (the router retires it if it sent no more).
  std::uint64_t handled = 0;
  std::uint64_t reported_idle = ~std::uint64_t{0};
  bool retry_scheduled = false; // a flush_atom to self is on its way
  // Vectors, not deques: an empty std::deque holds about 600 bytes of
  // heap, in each of 100,000 groups.
  std::vector<pending_reply> pending;
  std::vector<std::string> gate_errors; // recent, newest last
};

group_actor::behavior_type
group(group_actor::stateful_pointer<group_state> self, std::string identifier,
      stored_group initial, group_settings settings, router_actor router);

} // namespace dm

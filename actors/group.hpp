// The group actor: owns one group's book (slots, FIFO queue, waits), keeps
// answers back until the changes behind them are durable, and runs the
// probers of its machines and one timer for the group's earliest deadline.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

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
  // How probers GET a ready URL (the real HTTP client unless a test says
  // otherwise), how long one GET may take, and whether probers get their
  // own threads (they block on the network; tests run them inline).
  std::shared_ptr<const url_fetcher> fetcher;
  std::chrono::nanoseconds probe_timeout = std::chrono::seconds(5);
  bool detached_probers = true;
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
  };

  std::optional<group_book> book;
  group_settings settings;
  router_actor router;
  std::unordered_map<std::string, machine_slot> machines;
  // One timer per group, for its earliest deadline: CAF 0.17 cannot cancel
  // a delayed message, so a superseded one is told apart by its generation.
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
  bool retry_scheduled = false; // a flush_atom to self is on its way
  std::deque<pending_reply> pending;
  std::deque<std::string> gate_errors; // recent, newest last
};

group_actor::behavior_type
group(group_actor::stateful_pointer<group_state> self, std::string identifier,
      stored_group initial, group_settings settings, router_actor router);

} // namespace dm

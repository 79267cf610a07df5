// Which replica leads, as this replica sees it: written by the election,
// read by the front end (may this replica decide now?), the pages and
// /metrics. Not actor code: a mutex guards the text, an atomic the deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "model/replica_role.hpp"

namespace dm {

class replica_role_board {
public:
  replica_role get() const;

  // This replica leads, and may decide until `deciding_until` (steady
  // clock): the end of its lease by its own clock, less a margin.
  void become_leader(std::chrono::steady_clock::time_point deciding_until);
  void extend(std::chrono::steady_clock::time_point deciding_until);
  // This replica follows `leader_address` (empty: none known).
  void become_follower(const std::string& leader_address);
  // A follower learnt of another leader.
  void set_leader(const std::string& leader_address);
  void set_self(const std::string& self);

  // Whether this replica may decide now: it leads and its lease holds.
  // Unreplicated, always.
  bool may_decide() const;
  // Whether a call is for another replica to decide: this one follows a
  // known leader.
  bool forwards() const;
  // The error a call gets when it may not.
  std::string refusal() const;

  // The leader's: the etcd revision its latest committed write (or, once
  // elected, its load) left, noted before any answer that depends on it
  // is released. A follower's check replica answers only from a revision
  // at least this (docs/architecture.md, "Checks on a follower").
  void note_committed(std::int64_t revision);
  std::int64_t committed_revision() const {
    return committed_revision_.load(std::memory_order_acquire);
  }

private:
  // Under the mutex: a change of leader is counted and dated.
  void learn_leader(const std::string& leader_address, std::int64_t now_ns);

  mutable std::mutex mutex_;
  replica_role role_;
  std::atomic<bool> replicated_{false};
  std::atomic<std::int64_t> deciding_until_ns_{0};
  std::atomic<std::int64_t> committed_revision_{0};
};

} // namespace dm

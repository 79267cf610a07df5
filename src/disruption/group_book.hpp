// The decisions of one group: its slots, FIFO queue, waiting machines and
// expiry, as docs/semantics.md defines them. Plain data, no actors and no
// clocks: the caller passes `now`, so every rule is testable directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/admin_settings.hpp"
#include "model/heap_optional.hpp"
#include "disruption/group_rules.hpp"
#include "disruption/place_heap.hpp"
#include "duration/saturating_time.hpp"
#include "model/machine_record.hpp"

namespace dm {

using timestamp = std::chrono::time_point<std::chrono::system_clock,
                                          std::chrono::nanoseconds>;

// A permit or request lapses once it has lasted longer than the maximum
// duration since its last request: from this instant on, not at the
// maximum itself (as in the original). A maximum too large to add lapses
// at the last representable instant, never in the past.
inline timestamp lapse_time(timestamp last_request,
                            std::chrono::nanoseconds max_duration) {
  return saturating_add(saturating_add(last_request, max_duration),
                        std::chrono::nanoseconds(1));
}

// The latest moment a wait may end: 2200-01-01, the last time the state
// files hold (storage/state_store.hpp). A longer ready timeout ends there,
// which is as good as never (docs/semantics.md, "Edges").
inline constexpr timestamp latest_wait_deadline{
    std::chrono::nanoseconds(7'258'118'400'000'000'000)};

// A machine that asked: permitted (holds a slot) or queued.
struct holding {
  bool permitted = false;
  timestamp last_request;      // expiry counts from here
  std::uint64_t queue_seq = 0; // order of first request: FIFO promotion
};

// A machine that cancelled a permit and holds its slot until ready.
struct waiting {
  timestamp deadline;
  std::string url;           // empty: a plain delay
  std::uint64_t wait_id = 0; // tells a stale prober result from a live one
};

// Everything the group knows of one machine. A machine may wait (its last
// permit's slot) and be queued again at the same time. Few machines wait,
// so the wait is kept apart (one pointer instead of 56 bytes in every
// entry of the books and the stored state).
struct host_entry {
  std::optional<holding> hold;
  heap_optional<waiting> wait;
};

// An entry as the book keeps it: with its places in the book's queue,
// expiry and wait orders (place_heap), which point at the entry where the
// name is kept once, as the key of the book's map (docs/performance.md,
// "A million machines: where memory and start-up time go").
struct book_entry : host_entry {
  std::uint32_t queue_place = no_place;
  std::uint32_t expiry_place = no_place;
  std::uint32_t wait_place = no_place;
};

class group_book {
public:
  // What the last operations changed, for the owner to log, persist and time.
  struct effects {
    std::vector<std::string> log_lines;  // "host: from->to", group text apart
    std::set<std::string> changed_hosts; // entries to persist (or erase)
    std::vector<std::string> new_waits;  // hosts whose wait just began
    std::vector<std::string> released;   // hosts now entirely unknown here
    bool limit_changed = false;
    // Counts for the metrics page.
    std::size_t expirations = 0;
    std::size_t waits_ready = 0;
    std::size_t waits_timed_out = 0;
    std::size_t delays_completed = 0;
  };

  group_book(std::string identifier, std::chrono::nanoseconds max_duration);
  // The indexes point into the entries: a book moves, it is not copied.
  group_book(group_book&&) noexcept = default;
  group_book& operator=(group_book&&) noexcept = default;
  group_book(const group_book&) = delete;
  group_book& operator=(const group_book&) = delete;
  ~group_book();

  // One client operation. `limit` and `tag_windows` (the record's
  // maintenance window spec, empty for none, already found valid) are the
  // caller's tag values, kept for a request or check; `gate` applies when a
  // permitted machine cancels. Returns the state the client sees.
  disruption_state operate(request_kind kind, const std::string& host,
                           std::uint64_t limit,
                           const std::optional<ready_gate>& gate, timestamp now,
                           const std::string& tag_windows = {});
  // Whether the last operate() was a cancel that freed a permit: where a
  // ready gate applies (after expiries and promotions it made first).
  bool last_cancel_freed_permit() const { return cancel_freed_permit_; }

  // The machine moved to another group: its holding goes, without a gate.
  void evict(const std::string& host, timestamp now);

  // Drops holdings past the maximum duration and waits past their deadline,
  // then hands freed slots to the queue.
  void expire(timestamp now);

  // The ready URL of `host` answered 200 (for wait `wait_id`).
  void end_wait(const std::string& host, std::uint64_t wait_id, timestamp now);

  // What operators set for this group (docs/semantics.md, "Operator
  // control"): while paused or frozen nothing new is granted (requests
  // queue, permits given stay); an override limit wins over the records'
  // tag. Granting again hands free slots to the queue in order.
  void set_controls(const group_controls& controls, timestamp now);
  const group_controls& controls() const;

  // What release() found to do.
  enum class release_outcome {
    released,     // a permit, a request or a wait was dropped
    only_waiting, // the machine only waits on the gate: kept, not ended
    nothing,      // the group knows nothing of the machine
  };
  // An operator drops `host`'s permit or request now. A freed permit's
  // slot is held by `gate` as a cancel's would be (none: the slot is free
  // at once); with `end_wait`, a wait the machine already has ends too.
  release_outcome release(const std::string& host,
                          const std::optional<ready_gate>& gate, bool end_wait,
                          timestamp now);

  // Puts back an entry read from storage (no effects recorded).
  void restore(const std::string& host, host_entry entry);
  void restore_limit(std::uint64_t limit);
  void restore_controls(const group_controls& controls);
  void restore_tag_windows(const std::string& spec);

  // Maintenance windows (docs/semantics.md, "Maintenance windows"): the
  // operator's, else the records' tag's; none when neither is set. Whether
  // the group is outside them is in controls().outside_window, as of the
  // last operation or track_windows().
  const window_schedule* windows() const;
  bool windows_from_operator() const {
    return controls_ && controls_->windows.has_value();
  }
  // The spec of the latest request or check (what is saved with the group).
  const std::string& tag_windows() const;
  // When the group next enters or leaves its windows (nothing: no windows,
  // or no change within days); part of earliest_deadline().
  std::optional<timestamp> next_window_change() const {
    return windows_ ? windows_->change : std::nullopt;
  }
  // Brings outside_window and the next change up to `now` without deciding
  // anything (a group just started, before its timer is set).
  void track_windows(timestamp now);

  disruption_state state_of(const std::string& host) const;
  const host_entry* find(const std::string& host) const;
  using entry_map = std::unordered_map<std::string, book_entry>;
  const entry_map& entries() const { return entries_; }
  // Hosts queued, first in line first.
  std::vector<std::string> queue() const;
  // Where `host` stands in the queue (1 is next), or 0 when not queued;
  // costs its place in line.
  std::size_t queue_position(const std::string& host) const;
  const std::string& identifier() const { return identifier_; }
  // The limit from the records' tag (what is saved with the group).
  std::uint64_t limit() const { return limit_; }
  // The limit that decides: an operator's override, else the tag's.
  std::uint64_t effective_limit() const {
    return controls_ && controls_->limit_override ? *controls_->limit_override
                                                  : limit_;
  }
  std::size_t occupied() const { return permitted_ + waiting_; }
  std::size_t permitted_count() const { return permitted_; }
  std::size_t waiting_count() const { return waiting_; }
  std::size_t queued_count() const { return queue_.size(); }
  std::chrono::nanoseconds max_duration() const { return max_duration_; }
  // The earliest moment anything in the group needs attention.
  std::optional<timestamp> earliest_deadline() const;

  effects take_effects();

private:
  using node = entry_map::value_type; // the host name and its entry

  // The orders of the indexes; ties go by host name.
  struct queue_order { // first requested first (FIFO promotion)
    static bool less(const node& a, const node& b);
    static std::uint32_t& place(node& n) { return n.second.queue_place; }
    static std::uint32_t place(const node& n) { return n.second.queue_place; }
  };
  struct expiry_order { // last request first
    static bool less(const node& a, const node& b);
    static std::uint32_t& place(node& n) { return n.second.expiry_place; }
    static std::uint32_t place(const node& n) { return n.second.expiry_place; }
  };
  struct wait_order { // deadline first
    static bool less(const node& a, const node& b);
    static std::uint32_t& place(node& n) { return n.second.wait_place; }
    static std::uint32_t place(const node& n) { return n.second.wait_place; }
  };

  // What only a group with maintenance windows needs: the records' window
  // spec, read (a spec that cannot be read, which the front ends refuse,
  // keeps the group closed); and what track_windows found, valid from
  // `from` until `change`. Gone while the group has no windows.
  struct window_state {
    std::string tag_windows;
    std::optional<window_schedule> tag_schedule;
    bool known = false;
    timestamp from;
    std::optional<timestamp> change;
  };

  effects& fx();
  group_controls& own_controls();
  void keep_controls_if_set();
  window_state& own_windows();
  void set_limit(std::uint64_t limit);
  void permit_from_queue(timestamp now);
  void drop_holding(node& n, const char* from_word);
  void start_wait(node& n, const ready_gate& gate, timestamp now);
  void finish_wait(node& n, const char* reason);
  void forget_if_empty(const std::string& host);
  void note(const std::string& host, std::string line);
  void set_tag_windows(const std::string& spec);

  // The layout keeps what every group needs inline and the rest behind
  // pointers, and one copy of each host name (docs/performance.md, "A
  // million machines: where memory and start-up time go").
  std::string identifier_;
  std::chrono::nanoseconds max_duration_;
  std::uint64_t limit_ = 1;
  std::size_t permitted_ = 0;
  std::size_t waiting_ = 0;
  std::uint64_t next_queue_seq_ = 1;
  std::uint64_t next_wait_id_ = 1;
  entry_map entries_;
  place_heap<node, queue_order> queue_;   // queued machines
  place_heap<node, expiry_order> expiry_; // every holding
  place_heap<node, wait_order> waits_;    // every wait
  // What operators set (none: nothing), and whether the group is outside
  // its windows (kept in the same struct, as controls() reports it).
  std::unique_ptr<group_controls> controls_;
  std::unique_ptr<window_state> windows_;
  // Only between an operation and take_effects().
  std::unique_ptr<effects> effects_;
  bool cancel_freed_permit_ = false;
};

} // namespace dm

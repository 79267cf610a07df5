// The group decisions: request, check, cancel, expiry, waits and FIFO
// promotion, keeping slot counts and indexes in step with the entries.
#include "disruption/group_book.hpp"

#include <algorithm>
#include <utility>

namespace dm {

group_book::group_book(std::string identifier,
                       std::chrono::nanoseconds max_duration)
    : identifier_(std::move(identifier)), max_duration_(max_duration) {
  // nop
}

void group_book::note(const std::string& host, std::string line) {
  effects_.log_lines.push_back(std::move(line));
  effects_.changed_hosts.insert(host);
}

void group_book::set_limit(std::uint64_t limit) {
  if (limit == 0)
    limit = 1;
  if (limit != limit_) {
    limit_ = limit;
    effects_.limit_changed = true;
  }
}

void group_book::track_expiry(const std::string& host, const holding* before,
                              const holding* after) {
  if (before != nullptr)
    expiry_.erase({before->last_request, host});
  if (after != nullptr)
    expiry_.emplace(after->last_request, host);
}

const window_schedule* group_book::windows() const {
  if (controls_.windows)
    return &*controls_.windows;
  if (tag_schedule_)
    return &*tag_schedule_;
  return nullptr;
}

void group_book::set_tag_windows(const std::string& spec) {
  if (spec == tag_windows_)
    return;
  restore_tag_windows(spec);
  effects_.limit_changed = true; // saved with the group's limit
}

void group_book::restore_tag_windows(const std::string& spec) {
  tag_windows_ = spec;
  tag_schedule_.reset();
  window_known_ = false;
  if (spec.empty())
    return;
  std::string error;
  tag_schedule_ = window_schedule::parse(spec, error);
  if (!tag_schedule_) // Never open: a spec nobody can read grants nothing.
    tag_schedule_ = window_schedule{};
}

void group_book::track_windows(timestamp now) {
  const window_schedule* schedule = windows();
  bool was_outside = controls_.outside_window;
  if (schedule == nullptr) {
    controls_.outside_window = false;
    window_change_.reset();
  } else if (!window_known_ || now < window_from_ ||
             (window_change_ && now >= *window_change_)) {
    controls_.outside_window = !schedule->open_at(now);
    window_change_ = schedule->next_change(now);
    window_from_ = now;
  }
  window_known_ = true;
  if (was_outside != controls_.outside_window)
    effects_.log_lines.push_back(controls_.outside_window
                                     ? "maintenance window closed"
                                     : "maintenance window open");
}

void group_book::permit_from_queue(timestamp now) {
  track_windows(now);
  if (!controls_.granting())
    return;
  while (occupied_ < effective_limit() && !queue_.empty()) {
    auto head = queue_.begin();
    std::string host = head->second;
    queue_.erase(head);
    auto& entry = entries_.at(host);
    entry.hold->permitted = true;
    ++occupied_;
    ++permitted_;
    note(host, host + ": requested->permitted");
  }
}

void group_book::drop_holding(const std::string& host, host_entry& entry,
                              const char* from_word) {
  auto& hold = *entry.hold;
  if (hold.permitted) {
    --occupied_;
    --permitted_;
  } else {
    queue_.erase(hold.queue_seq);
  }
  track_expiry(host, &hold, nullptr);
  entry.hold.reset();
  note(host, host + ": " + from_word + "->denied");
}

void group_book::start_wait(const std::string& host, host_entry& entry,
                            const ready_gate& gate, timestamp now) {
  if (entry.wait)
    finish_wait(host, entry, "ready wait replaced by a new one");
  waiting w;
  // Never wrapped into the past, and never past what the state files hold.
  w.deadline =
      std::min(saturating_add(now, gate.timeout), latest_wait_deadline);
  w.url = gate.url;
  w.wait_id = next_wait_id_++;
  wait_deadlines_.emplace(w.deadline, host);
  entry.wait = std::move(w);
  ++occupied_;
  ++waiting_;
  effects_.new_waits.push_back(host);
  effects_.changed_hosts.insert(host);
}

void group_book::finish_wait(const std::string& host, host_entry& entry,
                             const char* reason) {
  wait_deadlines_.erase({entry.wait->deadline, host});
  entry.wait.reset();
  --occupied_;
  --waiting_;
  note(host, host + ": " + reason);
}

void group_book::forget_if_empty(const std::string& host) {
  auto it = entries_.find(host);
  if (it == entries_.end() || it->second.hold || it->second.wait)
    return;
  entries_.erase(it);
  effects_.released.push_back(host);
  effects_.changed_hosts.insert(host);
}

disruption_state group_book::operate(request_kind kind, const std::string& host,
                                     std::uint64_t limit,
                                     const std::optional<ready_gate>& gate,
                                     timestamp now,
                                     const std::string& tag_windows) {
  cancel_freed_permit_ = false;
  // The windows of the latest request or check, as the limit below.
  if (kind != request_kind::cancel)
    set_tag_windows(tag_windows);
  expire(now);
  // The group keeps the limit of the latest request or check; a cancel
  // (whose record may lack the tag) leaves it as it is.
  if (kind != request_kind::cancel)
    set_limit(limit);
  permit_from_queue(now);
  auto it = entries_.find(host);
  host_entry* entry = it == entries_.end() ? nullptr : &it->second;
  switch (kind) {
  case request_kind::request: {
    if (entry != nullptr && entry->hold) {
      holding before = *entry->hold;
      entry->hold->last_request = now;
      track_expiry(host, &before, &*entry->hold);
      effects_.changed_hosts.insert(host);
      break;
    }
    if (entry == nullptr)
      entry = &entries_[host];
    holding hold;
    hold.last_request = now;
    hold.queue_seq = next_queue_seq_++;
    if (controls_.granting() && occupied_ < effective_limit() &&
        queue_.empty()) {
      hold.permitted = true;
      ++occupied_;
      ++permitted_;
      note(host, host + ": denied->permitted");
    } else {
      queue_.emplace(hold.queue_seq, host);
      note(host, host + ": denied->requested");
    }
    entry->hold = hold;
    track_expiry(host, nullptr, &*entry->hold);
    break;
  }
  case request_kind::check:
    break;
  case request_kind::cancel: {
    if (entry == nullptr || !entry->hold)
      break;
    if (!entry->hold->permitted) {
      drop_holding(host, *entry, "requested");
      break;
    }
    bool gated = gate && gate->timeout.count() > 0;
    cancel_freed_permit_ = true;
    drop_holding(host, *entry, "permitted");
    if (gated) {
      effects_.log_lines.back() = host + ": permitted->denied/waiting";
      start_wait(host, *entry, *gate, now);
    }
    permit_from_queue(now);
    break;
  }
  }
  auto state = state_of(host);
  forget_if_empty(host);
  return state;
}

void group_book::evict(const std::string& host, timestamp now) {
  auto it = entries_.find(host);
  if (it == entries_.end() || !it->second.hold)
    return;
  drop_holding(host, it->second,
               it->second.hold->permitted ? "permitted/moved"
                                          : "requested/moved");
  permit_from_queue(now);
  forget_if_empty(host);
}

void group_book::expire(timestamp now) {
  std::vector<std::string> touched;
  while (!expiry_.empty() &&
         lapse_time(expiry_.begin()->first, max_duration_) <= now) {
    std::string host = expiry_.begin()->second;
    auto& entry = entries_.at(host);
    drop_holding(host, entry,
                 entry.hold->permitted ? "permitted/expired"
                                       : "requested/expired");
    ++effects_.expirations;
    touched.push_back(host);
  }
  while (!wait_deadlines_.empty() && wait_deadlines_.begin()->first <= now) {
    std::string host = wait_deadlines_.begin()->second;
    auto& entry = entries_.at(host);
    if (entry.wait->url.empty())
      ++effects_.delays_completed;
    else
      ++effects_.waits_timed_out;
    finish_wait(host, entry,
                entry.wait->url.empty() ? "ready delay completed"
                                        : "ready check timed out");
    touched.push_back(host);
  }
  permit_from_queue(now);
  for (const auto& host : touched)
    forget_if_empty(host);
}

void group_book::end_wait(const std::string& host, std::uint64_t wait_id,
                          timestamp now) {
  auto it = entries_.find(host);
  if (it == entries_.end() || !it->second.wait ||
      it->second.wait->wait_id != wait_id)
    return;
  ++effects_.waits_ready;
  finish_wait(host, it->second, "ready");
  permit_from_queue(now);
  forget_if_empty(host);
}

void group_book::set_controls(const group_controls& controls, timestamp now) {
  bool outside = controls_.outside_window;
  controls_ = controls;
  // The new windows are looked at afresh (the log tells a change).
  controls_.outside_window = outside;
  window_known_ = false;
  // Granting again, or more room: the queue moves on in order.
  expire(now);
}

group_book::release_outcome
group_book::release(const std::string& host,
                    const std::optional<ready_gate>& gate, bool end_wait,
                    timestamp now) {
  expire(now);
  auto it = entries_.find(host);
  if (it == entries_.end())
    return release_outcome::nothing;
  auto& entry = it->second;
  if (!end_wait && !entry.hold)
    return release_outcome::only_waiting;
  bool released = false;
  if (end_wait && entry.wait) {
    finish_wait(host, entry, "ready wait ended by an operator");
    released = true;
  }
  if (entry.hold) {
    bool was_permitted = entry.hold->permitted;
    drop_holding(host, entry,
                 was_permitted ? "permitted/released" : "requested/released");
    if (was_permitted && gate && gate->timeout.count() > 0) {
      effects_.log_lines.back() = host + ": permitted/released->denied/waiting";
      start_wait(host, entry, *gate, now);
    }
    released = true;
  }
  permit_from_queue(now);
  forget_if_empty(host);
  return released ? release_outcome::released : release_outcome::nothing;
}

void group_book::restore(const std::string& host, host_entry entry) {
  if (!entry.hold && !entry.wait)
    return;
  auto& slot = entries_[host];
  slot = std::move(entry);
  if (slot.hold) {
    if (slot.hold->permitted) {
      ++occupied_;
      ++permitted_;
    } else {
      queue_.emplace(slot.hold->queue_seq, host);
    }
    if (slot.hold->queue_seq >= next_queue_seq_)
      next_queue_seq_ = slot.hold->queue_seq + 1;
    track_expiry(host, nullptr, &*slot.hold);
  }
  if (slot.wait) {
    slot.wait->wait_id = next_wait_id_++;
    wait_deadlines_.emplace(slot.wait->deadline, host);
    ++occupied_;
    ++waiting_;
  }
}

void group_book::restore_limit(std::uint64_t limit) {
  limit_ = limit == 0 ? 1 : limit;
}

disruption_state group_book::state_of(const std::string& host) const {
  auto it = entries_.find(host);
  if (it == entries_.end() || !it->second.hold)
    return disruption_state::denied;
  return it->second.hold->permitted ? disruption_state::permitted
                                    : disruption_state::requested;
}

const host_entry* group_book::find(const std::string& host) const {
  auto it = entries_.find(host);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> group_book::queue() const {
  std::vector<std::string> hosts;
  hosts.reserve(queue_.size());
  for (const auto& [seq, host] : queue_)
    hosts.push_back(host);
  return hosts;
}

std::size_t group_book::queue_position(const std::string& host) const {
  const host_entry* entry = find(host);
  if (!entry || !entry->hold || entry->hold->permitted)
    return 0;
  auto it = queue_.find(entry->hold->queue_seq);
  if (it == queue_.end())
    return 0;
  return static_cast<std::size_t>(std::distance(queue_.begin(), it)) + 1;
}

std::optional<timestamp> group_book::earliest_deadline() const {
  std::optional<timestamp> result;
  if (!expiry_.empty())
    result = lapse_time(expiry_.begin()->first, max_duration_);
  if (!wait_deadlines_.empty() &&
      (!result || wait_deadlines_.begin()->first < *result))
    result = wait_deadlines_.begin()->first;
  if (window_change_ && (!result || *window_change_ < *result))
    result = window_change_;
  return result;
}

group_book::effects group_book::take_effects() {
  return std::exchange(effects_, effects{});
}

} // namespace dm

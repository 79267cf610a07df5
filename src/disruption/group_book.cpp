// The group decisions: request, check, cancel, expiry, waits and FIFO
// promotion, keeping slot counts and indexes in step with the entries.
#include "disruption/group_book.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace dm {

namespace {

const group_controls no_controls{};
const std::string no_spec;

} // namespace

bool group_book::queue_order::less(const node& a, const node& b) {
  return std::tie(a.second.hold->queue_seq, a.first) <
         std::tie(b.second.hold->queue_seq, b.first);
}

bool group_book::expiry_order::less(const node& a, const node& b) {
  return std::tie(a.second.hold->last_request, a.first) <
         std::tie(b.second.hold->last_request, b.first);
}

bool group_book::wait_order::less(const node& a, const node& b) {
  return std::tie(a.second.wait->deadline, a.first) <
         std::tie(b.second.wait->deadline, b.first);
}

group_book::group_book(std::string identifier,
                       std::chrono::nanoseconds max_duration)
    : identifier_(std::move(identifier)), max_duration_(max_duration) {
  // nop
}

group_book::~group_book() = default;

group_book::effects& group_book::fx() {
  if (!effects_)
    effects_ = std::make_unique<effects>();
  return *effects_;
}

group_controls& group_book::own_controls() {
  if (!controls_)
    controls_ = std::make_unique<group_controls>();
  return *controls_;
}

// Controls equal to none are not kept.
void group_book::keep_controls_if_set() {
  if (controls_ && *controls_ == no_controls)
    controls_.reset();
}

group_book::window_state& group_book::own_windows() {
  if (!windows_)
    windows_ = std::make_unique<window_state>();
  return *windows_;
}

const group_controls& group_book::controls() const {
  return controls_ ? *controls_ : no_controls;
}

const std::string& group_book::tag_windows() const {
  return windows_ ? windows_->tag_windows : no_spec;
}

void group_book::note(const std::string& host, std::string line) {
  auto& effects = fx();
  effects.log_lines.push_back(std::move(line));
  effects.changed_hosts.insert(host);
}

void group_book::set_limit(std::uint64_t limit) {
  if (limit == 0)
    limit = 1;
  if (limit != limit_) {
    limit_ = limit;
    fx().limit_changed = true;
  }
}

const window_schedule* group_book::windows() const {
  if (controls_ && controls_->windows)
    return &*controls_->windows;
  if (windows_ && windows_->tag_schedule)
    return &*windows_->tag_schedule;
  return nullptr;
}

void group_book::set_tag_windows(const std::string& spec) {
  if (spec == tag_windows())
    return;
  restore_tag_windows(spec);
  fx().limit_changed = true; // saved with the group's limit
}

void group_book::restore_tag_windows(const std::string& spec) {
  // Without a window state nothing is known of the windows already.
  if (spec.empty() && !windows_)
    return;
  auto& w = own_windows();
  w.tag_windows = spec;
  w.tag_schedule.reset();
  w.known = false;
  if (spec.empty())
    return;
  std::string error;
  w.tag_schedule = window_schedule::parse(spec, error);
  if (!w.tag_schedule) // Never open: a spec nobody can read grants nothing.
    w.tag_schedule = window_schedule{};
}

void group_book::restore_controls(const group_controls& controls) {
  own_controls() = controls;
  keep_controls_if_set();
  if (windows_)
    windows_->known = false;
}

void group_book::track_windows(timestamp now) {
  const window_schedule* schedule = windows();
  bool was_outside = controls().outside_window;
  bool outside = was_outside;
  if (schedule == nullptr) {
    outside = false;
    windows_.reset(); // no spec, and nothing to track
  } else {
    auto& w = own_windows();
    if (!w.known || now < w.from || (w.change && now >= *w.change)) {
      outside = !schedule->open_at(now);
      w.change = schedule->next_change(now);
      w.from = now;
    }
    w.known = true;
  }
  if (was_outside == outside)
    return;
  own_controls().outside_window = outside;
  keep_controls_if_set();
  fx().log_lines.push_back(outside ? "maintenance window closed"
                                   : "maintenance window open");
}

void group_book::permit_from_queue(timestamp now) {
  track_windows(now);
  if (!controls().granting())
    return;
  while (occupied() < effective_limit() && !queue_.empty()) {
    node& head = queue_.top();
    queue_.erase(head);
    head.second.hold->permitted = true;
    ++permitted_;
    note(head.first, head.first + ": requested->permitted");
  }
}

void group_book::drop_holding(node& n, const char* from_word) {
  auto& hold = *n.second.hold;
  if (hold.permitted)
    --permitted_;
  else
    queue_.erase(n);
  expiry_.erase(n);
  n.second.hold.reset();
  note(n.first, n.first + ": " + from_word + "->denied");
}

void group_book::start_wait(node& n, const ready_gate& gate, timestamp now) {
  auto& entry = n.second;
  if (entry.wait)
    finish_wait(n, "ready wait replaced by a new one");
  waiting w;
  // Never wrapped into the past, and never past what the state files hold.
  w.deadline =
      std::min(saturating_add(now, gate.timeout), latest_wait_deadline);
  w.url = gate.url;
  w.wait_id = next_wait_id_++;
  entry.wait = std::move(w);
  waits_.push(n);
  ++waiting_;
  auto& effects = fx();
  effects.new_waits.push_back(n.first);
  effects.changed_hosts.insert(n.first);
}

void group_book::finish_wait(node& n, const char* reason) {
  waits_.erase(n);
  n.second.wait.reset();
  --waiting_;
  note(n.first, n.first + ": " + reason);
}

void group_book::forget_if_empty(const std::string& host) {
  auto it = entries_.find(host);
  if (it == entries_.end() || it->second.hold || it->second.wait)
    return;
  auto& effects = fx();
  effects.released.push_back(host);
  effects.changed_hosts.insert(host);
  entries_.erase(it); // (after the uses of `host`, which may be its key)
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
  node* n = it == entries_.end() ? nullptr : &*it;
  switch (kind) {
  case request_kind::request: {
    if (n != nullptr && n->second.hold) {
      n->second.hold->last_request = now;
      expiry_.update(*n);
      fx().changed_hosts.insert(host);
      break;
    }
    if (n == nullptr)
      n = &*entries_.try_emplace(host).first;
    holding hold;
    hold.last_request = now;
    hold.queue_seq = next_queue_seq_++;
    bool permit = controls().granting() && occupied() < effective_limit() &&
                  queue_.empty();
    hold.permitted = permit;
    n->second.hold = hold;
    if (permit) {
      ++permitted_;
      note(host, host + ": denied->permitted");
    } else {
      queue_.push(*n);
      note(host, host + ": denied->requested");
    }
    expiry_.push(*n);
    break;
  }
  case request_kind::check:
    break;
  case request_kind::cancel: {
    if (n == nullptr || !n->second.hold)
      break;
    if (!n->second.hold->permitted) {
      drop_holding(*n, "requested");
      break;
    }
    bool gated = gate && gate->timeout.count() > 0;
    cancel_freed_permit_ = true;
    drop_holding(*n, "permitted");
    if (gated) {
      fx().log_lines.back() = host + ": permitted->denied/waiting";
      start_wait(*n, *gate, now);
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
  drop_holding(*it, it->second.hold->permitted ? "permitted/moved"
                                               : "requested/moved");
  permit_from_queue(now);
  forget_if_empty(host);
}

void group_book::expire(timestamp now) {
  std::vector<std::string> touched;
  while (!expiry_.empty() && lapse_time(expiry_.top().second.hold->last_request,
                                        max_duration_) <= now) {
    node& n = expiry_.top();
    drop_holding(n, n.second.hold->permitted ? "permitted/expired"
                                             : "requested/expired");
    ++fx().expirations;
    touched.push_back(n.first);
  }
  while (!waits_.empty() && waits_.top().second.wait->deadline <= now) {
    node& n = waits_.top();
    bool delay = n.second.wait->url.empty();
    if (delay)
      ++fx().delays_completed;
    else
      ++fx().waits_timed_out;
    finish_wait(n, delay ? "ready delay completed" : "ready check timed out");
    touched.push_back(n.first);
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
  ++fx().waits_ready;
  finish_wait(*it, "ready");
  permit_from_queue(now);
  forget_if_empty(host);
}

void group_book::set_controls(const group_controls& controls, timestamp now) {
  bool outside = this->controls().outside_window;
  own_controls() = controls;
  // The new windows are looked at afresh (the log tells a change).
  controls_->outside_window = outside;
  keep_controls_if_set();
  if (windows_)
    windows_->known = false;
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
  node& n = *it;
  if (!end_wait && !n.second.hold)
    return release_outcome::only_waiting;
  bool released = false;
  if (end_wait && n.second.wait) {
    finish_wait(n, "ready wait ended by an operator");
    released = true;
  }
  if (n.second.hold) {
    bool was_permitted = n.second.hold->permitted;
    drop_holding(n,
                 was_permitted ? "permitted/released" : "requested/released");
    if (was_permitted && gate && gate->timeout.count() > 0) {
      fx().log_lines.back() = host + ": permitted/released->denied/waiting";
      start_wait(n, *gate, now);
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
  node& n = *entries_.try_emplace(host).first;
  // A host restored twice: the later entry replaces the earlier.
  if (n.second.hold) {
    if (n.second.hold->permitted)
      --permitted_;
    else
      queue_.erase(n);
    expiry_.erase(n);
  }
  if (n.second.wait) {
    waits_.erase(n);
    --waiting_;
  }
  static_cast<host_entry&>(n.second) = std::move(entry);
  if (n.second.hold) {
    if (n.second.hold->permitted)
      ++permitted_;
    else
      queue_.push(n);
    if (n.second.hold->queue_seq >= next_queue_seq_)
      next_queue_seq_ = n.second.hold->queue_seq + 1;
    expiry_.push(n);
  }
  if (n.second.wait) {
    n.second.wait->wait_id = next_wait_id_++;
    waits_.push(n);
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
  std::vector<const node*> order(queue_.items().begin(), queue_.items().end());
  std::sort(order.begin(), order.end(), [](const node* a, const node* b) {
    return queue_order::less(*a, *b);
  });
  std::vector<std::string> hosts;
  hosts.reserve(order.size());
  for (const node* n : order)
    hosts.push_back(n->first);
  return hosts;
}

std::size_t group_book::queue_position(const std::string& host) const {
  auto it = entries_.find(host);
  if (it == entries_.end() || !it->second.hold || it->second.hold->permitted)
    return 0;
  if (!queue_.contains(*it))
    return 0;
  return queue_.count_before(*it) + 1;
}

std::optional<timestamp> group_book::earliest_deadline() const {
  std::optional<timestamp> result;
  if (!expiry_.empty())
    result = lapse_time(expiry_.top().second.hold->last_request, max_duration_);
  if (!waits_.empty() &&
      (!result || waits_.top().second.wait->deadline < *result))
    result = waits_.top().second.wait->deadline;
  auto change = next_window_change();
  if (change && (!result || *change < *result))
    result = change;
  return result;
}

group_book::effects group_book::take_effects() {
  if (!effects_)
    return {};
  effects taken = std::move(*effects_);
  effects_.reset();
  return taken;
}

} // namespace dm

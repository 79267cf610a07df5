// The group book against a plain model of docs/semantics.md's group rules,
// over long random histories with fixed seeds: requests, checks, cancels
// with and without ready gates, evictions, lapses with time moving (forward,
// standing still so that deadlines tie, and back), ends of waits, operator
// controls and windows, releases and restores. The model keeps its machines
// in a map by host name and finds every "next" by a linear scan, so its
// orders are plain to read: the queue by first request, lapses by last
// request, waits by deadline, ties by host name. After every step both must
// agree on every machine, the queue, the counts, the next deadline and the
// effects (log lines in order included).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "disruption/group_book.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

// The model: what docs/semantics.md says a group does, as plainly as it
// can be said.
struct model_book {
  struct hold {
    bool permitted = false;
    timestamp last_request;
    std::uint64_t seq = 0;
  };
  struct wait {
    timestamp deadline;
    std::string url;
    std::uint64_t id = 0;
  };
  struct entry {
    std::optional<hold> h;
    std::optional<wait> w;
  };

  std::chrono::nanoseconds max_duration;
  std::map<std::string, entry> entries;
  std::uint64_t limit = 1;
  group_controls controls; // outside_window included
  std::string tag_spec;
  std::optional<timestamp> window_change;
  std::uint64_t next_seq = 1;
  std::uint64_t next_wait_id = 1;
  bool cancel_freed = false;
  group_book::effects fx;

  explicit model_book(std::chrono::nanoseconds max) : max_duration(max) {}

  std::optional<window_schedule> schedule() const {
    if (controls.windows)
      return controls.windows;
    if (tag_spec.empty())
      return std::nullopt;
    std::string error;
    return window_schedule::parse(tag_spec, error)
        .value_or(window_schedule{}); // unreadable: never open
  }
  std::uint64_t effective_limit() const {
    return controls.limit_override ? *controls.limit_override : limit;
  }
  std::size_t permitted() const {
    std::size_t n = 0;
    for (const auto& [host, e] : entries)
      n += e.h && e.h->permitted;
    return n;
  }
  std::size_t waiting() const {
    std::size_t n = 0;
    for (const auto& [host, e] : entries)
      n += e.w.has_value();
    return n;
  }
  std::size_t occupied() const { return permitted() + waiting(); }
  std::vector<std::string> queue() const {
    std::vector<std::pair<std::uint64_t, std::string>> queued;
    for (const auto& [host, e] : entries)
      if (e.h && !e.h->permitted)
        queued.emplace_back(e.h->seq, host);
    std::sort(queued.begin(), queued.end());
    std::vector<std::string> hosts;
    for (const auto& q : queued)
      hosts.push_back(q.second);
    return hosts;
  }
  disruption_state state_of(const std::string& host) const {
    auto it = entries.find(host);
    if (it == entries.end() || !it->second.h)
      return disruption_state::denied;
    return it->second.h->permitted ? disruption_state::permitted
                                   : disruption_state::requested;
  }

  void note(const std::string& host, const std::string& line) {
    fx.log_lines.push_back(line);
    fx.changed_hosts.insert(host);
  }
  void track_windows(timestamp now) {
    auto s = schedule();
    bool outside = s && !s->open_at(now);
    window_change = s ? s->next_change(now) : std::nullopt;
    if (outside != controls.outside_window)
      fx.log_lines.push_back(outside ? "maintenance window closed"
                                     : "maintenance window open");
    controls.outside_window = outside;
  }
  void permit_from_queue(timestamp now) {
    track_windows(now);
    if (!controls.granting())
      return;
    while (occupied() < effective_limit()) {
      auto q = queue();
      if (q.empty())
        return;
      entries[q.front()].h->permitted = true;
      note(q.front(), q.front() + ": requested->permitted");
    }
  }
  void drop(const std::string& host, const std::string& word) {
    entries[host].h.reset();
    note(host, host + ": " + word + "->denied");
  }
  void finish_wait(const std::string& host, const std::string& reason) {
    entries[host].w.reset();
    note(host, host + ": " + reason);
  }
  void start_wait(const std::string& host, const ready_gate& gate,
                  timestamp now) {
    auto& e = entries[host];
    if (e.w)
      finish_wait(host, "ready wait replaced by a new one");
    e.w =
        wait{std::min(saturating_add(now, gate.timeout), latest_wait_deadline),
             gate.url, next_wait_id++};
    fx.new_waits.push_back(host);
    fx.changed_hosts.insert(host);
  }
  void forget_if_empty(const std::string& host) {
    auto it = entries.find(host);
    if (it == entries.end() || it->second.h || it->second.w)
      return;
    entries.erase(it);
    fx.released.push_back(host);
    fx.changed_hosts.insert(host);
  }
  void expire(timestamp now) {
    std::vector<std::string> touched;
    for (;;) { // the earliest last request, ties by host name
      const std::string* next = nullptr;
      for (const auto& [host, e] : entries)
        if (e.h && (next == nullptr ||
                    e.h->last_request < entries[*next].h->last_request))
          next = &host;
      if (next == nullptr ||
          lapse_time(entries[*next].h->last_request, max_duration) > now)
        break;
      std::string host = *next;
      drop(host, entries[host].h->permitted ? "permitted/expired"
                                            : "requested/expired");
      ++fx.expirations;
      touched.push_back(host);
    }
    for (;;) { // the earliest deadline, ties by host name
      const std::string* next = nullptr;
      for (const auto& [host, e] : entries)
        if (e.w &&
            (next == nullptr || e.w->deadline < entries[*next].w->deadline))
          next = &host;
      if (next == nullptr || entries[*next].w->deadline > now)
        break;
      std::string host = *next;
      bool delay = entries[host].w->url.empty();
      ++(delay ? fx.delays_completed : fx.waits_timed_out);
      finish_wait(host,
                  delay ? "ready delay completed" : "ready check timed out");
      touched.push_back(host);
    }
    permit_from_queue(now);
    for (const auto& host : touched)
      forget_if_empty(host);
  }
  disruption_state operate(request_kind kind, const std::string& host,
                           std::uint64_t new_limit,
                           const std::optional<ready_gate>& gate, timestamp now,
                           const std::string& spec) {
    cancel_freed = false;
    if (kind != request_kind::cancel && spec != tag_spec) {
      tag_spec = spec;
      fx.limit_changed = true;
    }
    expire(now);
    if (kind != request_kind::cancel) {
      new_limit = std::max<std::uint64_t>(new_limit, 1);
      if (new_limit != limit)
        fx.limit_changed = true;
      limit = new_limit;
    }
    permit_from_queue(now);
    auto it = entries.find(host);
    if (kind == request_kind::request) {
      if (it != entries.end() && it->second.h) {
        it->second.h->last_request = now;
        fx.changed_hosts.insert(host);
      } else {
        bool permit = controls.granting() && occupied() < effective_limit() &&
                      queue().empty();
        entries[host].h = hold{permit, now, next_seq++};
        note(host,
             host + (permit ? ": denied->permitted" : ": denied->requested"));
      }
    } else if (kind == request_kind::cancel && it != entries.end() &&
               it->second.h) {
      if (!it->second.h->permitted) {
        drop(host, "requested");
      } else {
        cancel_freed = true;
        drop(host, "permitted");
        if (gate && gate->timeout.count() > 0) {
          fx.log_lines.back() = host + ": permitted->denied/waiting";
          start_wait(host, *gate, now);
        }
        permit_from_queue(now);
      }
    }
    auto state = state_of(host);
    forget_if_empty(host);
    return state;
  }
  void evict(const std::string& host, timestamp now) {
    auto it = entries.find(host);
    if (it == entries.end() || !it->second.h)
      return;
    drop(host, it->second.h->permitted ? "permitted/moved" : "requested/moved");
    permit_from_queue(now);
    forget_if_empty(host);
  }
  void end_wait(const std::string& host, std::uint64_t id, timestamp now) {
    auto it = entries.find(host);
    if (it == entries.end() || !it->second.w || it->second.w->id != id)
      return;
    ++fx.waits_ready;
    finish_wait(host, "ready");
    permit_from_queue(now);
    forget_if_empty(host);
  }
  void set_controls(group_controls c, timestamp now) {
    c.outside_window = controls.outside_window;
    controls = c;
    expire(now);
  }
  group_book::release_outcome release(const std::string& host,
                                      const std::optional<ready_gate>& gate,
                                      bool skip_gate, timestamp now) {
    expire(now);
    auto it = entries.find(host);
    if (it == entries.end())
      return group_book::release_outcome::nothing;
    if (!skip_gate && !it->second.h)
      return group_book::release_outcome::only_waiting;
    bool released = false;
    if (skip_gate && it->second.w) {
      finish_wait(host, "ready wait ended by an operator");
      released = true;
    }
    if (it->second.h) {
      bool was_permitted = it->second.h->permitted;
      drop(host, was_permitted ? "permitted/released" : "requested/released");
      if (was_permitted && gate && gate->timeout.count() > 0) {
        fx.log_lines.back() = host + ": permitted/released->denied/waiting";
        start_wait(host, *gate, now);
      }
      released = true;
    }
    permit_from_queue(now);
    forget_if_empty(host);
    return released ? group_book::release_outcome::released
                    : group_book::release_outcome::nothing;
  }
  // A new machine as storage gives it back; a wait gets a new id.
  void restore(const std::string& host, const host_entry& stored) {
    auto& e = entries[host];
    if (stored.hold) {
      e.h = hold{stored.hold->permitted, stored.hold->last_request,
                 stored.hold->queue_seq};
      next_seq = std::max(next_seq, stored.hold->queue_seq + 1);
    }
    if (stored.wait)
      e.w = wait{stored.wait->deadline, stored.wait->url, next_wait_id++};
  }
  std::optional<timestamp> earliest_deadline() const {
    std::optional<timestamp> result = window_change;
    for (const auto& [host, e] : entries) {
      if (e.h) {
        auto lapse = lapse_time(e.h->last_request, max_duration);
        if (!result || lapse < *result)
          result = lapse;
      }
      if (e.w && (!result || e.w->deadline < *result))
        result = e.w->deadline;
    }
    return result;
  }
  host_entry stored(const std::string& host) const {
    host_entry out;
    const auto& e = entries.at(host);
    if (e.h)
      out.hold = holding{e.h->permitted, e.h->last_request, e.h->seq};
    if (e.w) {
      dm::waiting w;
      w.deadline = e.w->deadline;
      w.url = e.w->url;
      out.wait = w;
    }
    return out;
  }
};

// Host names whose order by name differs from the order they come in; a
// larger group gets more, of other lengths.
std::vector<std::string> host_names(std::size_t count) {
  std::vector<std::string> names = {"m07", "a", "zz", "m1", "b2",  "m10", "c",
                                    "aa",  "z", "m2", "k",  "b10", "x3",  "e"};
  for (std::size_t i = 0; names.size() < count; ++i)
    names.push_back("n" + std::to_string(i * 7919 % 1009));
  names.resize(count);
  return names;
}

const std::vector<std::string> specs = {
    "", "Mon-Sun 01:00-05:00 UTC", "Mon-Sun 00:00-12:00 UTC",
    "Mon,Wed,Fri 06:00-18:00 UTC; Sat-Sun 20:00-04:00 UTC",
    "Mox 01:00-02:00 UTC"}; // unreadable: the group never opens

struct differential {
  std::mt19937_64 rng;
  timestamp now{std::chrono::hours(500000)};
  std::chrono::nanoseconds max_duration;
  group_book book;
  model_book model;
  std::vector<std::string> hosts;
  std::string step_text;

  differential(std::uint64_t seed, std::chrono::nanoseconds max,
               std::size_t machines = 14)
      : rng(seed), max_duration(max), book("G", max), model(max),
        hosts(host_names(machines)) {}

  std::uint64_t pick(std::uint64_t n) { return rng() % n; }
  bool chance(unsigned percent) { return pick(100) < percent; }
  const std::string& host() { return hosts[pick(hosts.size())]; }
  // Half the time one of the machines that hold a permit (or wait), so
  // that cancels, releases and ends of waits find something to do.
  std::string host_holding(bool waits) {
    std::vector<std::string> some;
    for (const auto& [name, e] : model.entries)
      if (waits ? e.w.has_value() : e.h && e.h->permitted)
        some.push_back(name);
    if (some.empty() || chance(50))
      return host();
    return some[pick(some.size())];
  }

  std::optional<ready_gate> gate() {
    switch (pick(4)) {
    case 0:
      return std::nullopt;
    case 1:
      return ready_gate{}; // a zero timeout: no gate
    case 2:
      return ready_gate{std::chrono::minutes(1 + pick(90)), ""};
    default:
      return ready_gate{std::chrono::minutes(1 + pick(90)),
                        "http://" + host() + "/ready"};
    }
  }
  std::optional<window_schedule> operator_windows() {
    const auto& spec = specs[1 + pick(specs.size() - 2)];
    std::string error;
    return window_schedule::parse(spec, error);
  }
  // Time stands still (deadlines tie), moves on or, now and then, back.
  void move_time() {
    auto r = pick(100);
    if (r < 30)
      return;
    if (r < 36)
      now -= std::chrono::minutes(1 + pick(30));
    else if (r < 96)
      now += std::chrono::minutes(pick(40)) + std::chrono::seconds(pick(3));
    else
      now += std::chrono::hours(1 + pick(6));
  }

  // Storage's copy of everything, back in a fresh book and model.
  void restart() {
    std::vector<std::pair<std::string, host_entry>> saved;
    for (const auto& [name, e] : model.entries)
      saved.emplace_back(name, model.stored(name));
    // In an order other than the queue's or the names'.
    std::shuffle(saved.begin(), saved.end(), rng);
    model_book fresh(max_duration);
    fresh.limit = model.limit;
    fresh.tag_spec = model.tag_spec;
    fresh.controls = model.controls;
    fresh.controls.outside_window = false; // the operator's copy
    book = group_book("G", max_duration);
    book.restore_limit(model.limit);
    book.restore_tag_windows(model.tag_spec);
    book.restore_controls(fresh.controls);
    for (const auto& [name, e] : saved) {
      book.restore(name, e);
      fresh.restore(name, e);
    }
    model = std::move(fresh);
    book.track_windows(now);
    model.track_windows(now);
    book.take_effects();
    model.fx = {};
  }

  void step() {
    move_time();
    auto r = pick(100);
    std::string h =
        r >= 40 && r < 85 ? host_holding(r >= 66 && r < 72) : host();
    std::uint64_t limit = 1 + pick(4);
    std::string spec = chance(85) ? model.tag_spec : specs[pick(specs.size())];
    step_text = "at " + std::to_string(now.time_since_epoch().count()) + " ";
    if (r < 30) {
      step_text += "request " + h;
      EXPECT_EQ(book.operate(request_kind::request, h, limit, std::nullopt, now,
                             spec),
                model.operate(request_kind::request, h, limit, std::nullopt,
                              now, spec));
    } else if (r < 40) {
      step_text += "check " + h;
      EXPECT_EQ(
          book.operate(request_kind::check, h, limit, std::nullopt, now, spec),
          model.operate(request_kind::check, h, limit, std::nullopt, now,
                        spec));
    } else if (r < 55) {
      step_text += "cancel " + h;
      auto g = gate();
      EXPECT_EQ(book.operate(request_kind::cancel, h, limit, g, now, spec),
                model.operate(request_kind::cancel, h, limit, g, now, spec));
      EXPECT_EQ(book.last_cancel_freed_permit(), model.cancel_freed);
    } else if (r < 60) {
      step_text += "evict " + h;
      book.evict(h, now);
      model.evict(h, now);
    } else if (r < 66) {
      step_text += "expire";
      book.expire(now);
      model.expire(now);
    } else if (r < 72) {
      step_text += "end_wait " + h;
      auto it = model.entries.find(h);
      std::uint64_t id = it != model.entries.end() && it->second.w
                             ? it->second.w->id - (chance(20) ? 1 : 0)
                             : 1 + pick(5);
      book.end_wait(h, id, now);
      model.end_wait(h, id, now);
    } else if (r < 78) {
      step_text += "controls";
      group_controls c;
      c.paused = chance(25);
      c.frozen = chance(10);
      c.blocked_by_alert = chance(10);
      if (chance(30))
        c.limit_override = 1 + pick(4);
      if (chance(20))
        c.windows = operator_windows();
      book.set_controls(c, now);
      model.set_controls(c, now);
    } else if (r < 85) {
      step_text += "release " + h;
      auto g = gate();
      bool skip = chance(40);
      EXPECT_EQ(book.release(h, g, skip, now), model.release(h, g, skip, now));
    } else if (r < 90) {
      // A machine storage knew of comes back (a host not known now).
      if (model.entries.count(h))
        return;
      step_text += "restore " + h;
      host_entry e;
      if (chance(80)) {
        std::uint64_t seq = 0;
        do
          seq = 1 + pick(model.next_seq + 5);
        while (std::any_of(model.entries.begin(), model.entries.end(),
                           [&](const auto& m) {
                             return m.second.h && m.second.h->seq == seq;
                           }));
        e.hold = holding{chance(30), now - std::chrono::minutes(pick(50)), seq};
      }
      if (!e.hold || chance(30)) {
        waiting w;
        w.deadline = now + std::chrono::minutes(pick(60));
        w.url = chance(50) ? "" : "http://" + h + "/ready";
        e.wait = w;
      }
      book.restore(h, e);
      model.restore(h, e);
    } else if (r < 93) {
      step_text += "restart";
      restart();
    } else {
      step_text += "queue_position " + h;
    }
  }

  void compare() {
    SCOPED_TRACE(step_text);
    EXPECT_EQ(book.entries().size(), model.entries.size());
    auto queue = model.queue();
    for (const auto& name : hosts) {
      SCOPED_TRACE(name);
      ASSERT_EQ(book.state_of(name), model.state_of(name));
      auto place = std::find(queue.begin(), queue.end(), name);
      std::size_t position =
          place == queue.end() ? 0 : place - queue.begin() + 1;
      ASSERT_EQ(book.queue_position(name), position);
      const host_entry* e = book.find(name);
      auto m = model.entries.find(name);
      ASSERT_EQ(e != nullptr, m != model.entries.end());
      if (e == nullptr)
        continue;
      ASSERT_EQ(e->hold.has_value(), m->second.h.has_value());
      if (e->hold) {
        EXPECT_EQ(e->hold->permitted, m->second.h->permitted);
        EXPECT_EQ(e->hold->last_request, m->second.h->last_request);
        EXPECT_EQ(e->hold->queue_seq, m->second.h->seq);
      }
      ASSERT_EQ(e->wait.has_value(), m->second.w.has_value());
      if (e->wait) {
        EXPECT_EQ(e->wait->deadline, m->second.w->deadline);
        EXPECT_EQ(e->wait->url, m->second.w->url);
        EXPECT_EQ(e->wait->wait_id, m->second.w->id);
      }
    }
    ASSERT_EQ(book.queue(), queue);
    EXPECT_EQ(book.occupied(), model.occupied());
    EXPECT_EQ(book.permitted_count(), model.permitted());
    EXPECT_EQ(book.waiting_count(), model.waiting());
    EXPECT_EQ(book.queued_count(), queue.size());
    EXPECT_EQ(book.limit(), model.limit);
    EXPECT_EQ(book.effective_limit(), model.effective_limit());
    EXPECT_EQ(book.controls(), model.controls);
    EXPECT_EQ(book.tag_windows(), model.tag_spec);
    EXPECT_EQ(book.earliest_deadline(), model.earliest_deadline());
    if (chance(70)) { // else the effects of two steps add up
      auto fx = book.take_effects();
      ASSERT_EQ(fx.log_lines, model.fx.log_lines);
      EXPECT_EQ(fx.changed_hosts, model.fx.changed_hosts);
      EXPECT_EQ(fx.new_waits, model.fx.new_waits);
      EXPECT_EQ(fx.released, model.fx.released);
      EXPECT_EQ(fx.limit_changed, model.fx.limit_changed);
      EXPECT_EQ(fx.expirations, model.fx.expirations);
      EXPECT_EQ(fx.waits_ready, model.fx.waits_ready);
      EXPECT_EQ(fx.waits_timed_out, model.fx.waits_timed_out);
      EXPECT_EQ(fx.delays_completed, model.fx.delays_completed);
      model.fx = {};
    }
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      step();
      compare();
      if (::testing::Test::HasFailure())
        return;
    }
  }
};

// 3000 steps from each seed of [first, last]; stops at the first failure.
void run_histories(std::uint64_t first, std::uint64_t last,
                   std::chrono::nanoseconds max_duration,
                   std::size_t machines = 14) {
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    differential(seed, max_duration, machines).run(3000);
    if (::testing::Test::HasFailure())
      return;
  }
}

} // namespace

TEST(group_book_differential, agrees_with_the_model_over_random_histories) {
  run_histories(1, 40, 1h);
}

// Short lapses: most machines lapse, often at the same instant.
TEST(group_book_differential, agrees_when_lapses_come_in_crowds) {
  run_histories(101, 120, 10min);
}

// A group of a few hundred machines with long lapses: a long queue, deep
// heaps, many places in line.
TEST(group_book_differential, agrees_in_a_large_group) {
  run_histories(201, 204, 48h, 300);
}

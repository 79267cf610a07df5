// Group actor: every operation runs on the book, then settle() turns the
// book's effects into log lines, one storage batch, timers and probers.
#include "actors/group.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/prober.hpp"
#include "actors/wall_clock.hpp"
#include "metrics/service_metrics.hpp"

namespace dm {

namespace {

using self_ptr = group_actor::stateful_pointer<group_state>;

constexpr std::size_t max_gate_errors = 32;

timestamp now_of(self_ptr self) {
  return wall_now(self, self->state.settings->wall_offset);
}

// Delivers the answers whose batch is durable; with `failed`, those whose
// batch `failed_batch` could not be saved get an error instead.
void deliver_durable(self_ptr self, std::uint64_t failed_batch = 0) {
  auto& st = self->state;
  auto* traffic = st.traffic_if_any();
  if (traffic == nullptr)
    return;
  auto& pending = traffic->pending;
  for (auto it = pending.begin(); it != pending.end();) {
    if (it->needs_batch > st.batches_durable) {
      ++it;
      continue;
    }
    if (it->needs_batch == failed_batch)
      it->held.reply.answer(not_saved_result());
    else
      it->held.reply.answer(std::move(it->held.result));
    it = pending.erase(it);
  }
}

// Keeps the timer actor waking the group at its earliest deadline. A wake-up
// already asked for that moment or before stays, even with nothing left
// due: when it comes, the group looks again.
void rearm(self_ptr self) {
  auto& st = self->state;
  auto next = st.book->earliest_deadline();
  if (!next)
    return;
  if (st.timer_at && *st.timer_at <= *next)
    return;
  st.timer_at = next;
  self->send(st.settings->timer, arm_atom::value,
             caf::actor_cast<group_actor>(self),
             next->time_since_epoch().count(), ++st.timer_generation);
}

// A machine the book no longer knows needs no prober.
void forget_if_gone(self_ptr self, const std::string& host) {
  auto& st = self->state;
  auto* traffic = st.traffic_if_any();
  if (traffic == nullptr || st.book->find(host) != nullptr)
    return;
  auto slot = traffic->machines.find(host);
  if (slot == traffic->machines.end())
    return;
  if (slot->second.prober)
    self->send_exit(slot->second.prober, caf::exit_reason::user_shutdown);
  traffic->machines.erase(slot);
}

void start_prober(self_ptr self, const std::string& host) {
  auto& st = self->state;
  auto entry = st.book->find(host);
  if (entry == nullptr || !entry->wait || entry->wait->url.empty())
    return;
  auto& slot = st.traffic().machines[host];
  if (slot.prober)
    self->send_exit(slot.prober, caf::exit_reason::user_shutdown);
  probe_plan plan;
  plan.host = host;
  plan.url = entry->wait->url;
  plan.wait_id = entry->wait->wait_id;
  plan.deadline_ns = entry->wait->deadline.time_since_epoch().count();
  plan.wall_offset = st.settings->wall_offset;
  plan.request_timeout = st.settings->probe_timeout;
  plan.fetcher = st.settings->fetcher;
  auto me = caf::actor_cast<group_actor>(self);
  if (st.settings->detached_probers)
    slot.prober =
        self->spawn<caf::detached + caf::linked>(prober, me, std::move(plan));
  else
    slot.prober = self->spawn<caf::linked>(prober, me, std::move(plan));
}

void retry_later(self_ptr self);
void batch_failed(self_ptr self, std::uint64_t number,
                  const std::vector<std::string>& hosts, bool had_limit);

// Tells the router once the group knows no machine and has nothing left to
// save or answer: it may then be retired. Once per count of handled calls.
// (Ends every handler: drops the traffic state once it holds nothing.)
void report_if_idle(self_ptr self) {
  auto& st = self->state;
  st.drop_idle_traffic();
  const auto* traffic = st.traffic_if_any();
  bool busy = traffic != nullptr &&
              (!traffic->machines.empty() || !traffic->unsaved.empty() ||
               !traffic->pending.empty());
  if (!st.book->entries().empty() || busy || st.limit_unsaved ||
      st.retry_scheduled || st.batches_durable < st.batches_sent ||
      st.reported_idle == st.handled)
    return;
  st.reported_idle = st.handled;
  self->send(st.router, idle_atom::value, st.book->identifier(), st.handled);
}

// Turns the book's effects into log lines, a storage batch, timers and
// probers. When the batch carries `host`'s latest change, `reply` (the
// answer to that host's call) travels with it and is emptied.
void settle(self_ptr self, const std::string* host = nullptr,
            held_reply* reply = nullptr) {
  auto& st = self->state;
  auto fx = st.book->take_effects();
  auto& metrics = service_metrics::instance();
  metrics.expirations += fx.expirations;
  metrics.gate_ready += fx.waits_ready;
  metrics.gate_timed_out += fx.waits_timed_out;
  metrics.gate_delay_completed += fx.delays_completed;
  metrics.gate_waits_started += fx.new_waits.size();
  if (!fx.log_lines.empty()) {
    auto text = group_text(st.book->identifier());
    for (const auto& line : fx.log_lines)
      spdlog::info("{} ({})", line, text);
  }
  if (!fx.changed_hosts.empty()) {
    auto& unsaved = st.traffic().unsaved;
    unsaved.insert(fx.changed_hosts.begin(), fx.changed_hosts.end());
  }
  if (fx.limit_changed)
    st.limit_unsaved = true;
  for (const auto& host : fx.released) {
    auto* traffic = st.traffic_if_any();
    std::uint64_t seq = 0;
    if (traffic != nullptr) {
      auto slot = traffic->machines.find(host);
      if (slot != traffic->machines.end()) {
        seq = slot->second.route_seq;
        if (slot->second.prober)
          self->send_exit(slot->second.prober, caf::exit_reason::user_shutdown);
        traffic->machines.erase(slot);
      }
    }
    self->send(st.router, released_atom::value, st.book->identifier(), host,
               seq);
  }
  for (const auto& host : fx.changed_hosts)
    forget_if_gone(self, host);
  rearm(self);
  for (const auto& host : fx.new_waits)
    start_prober(self, host);
  if (st.book->entries().empty()) {
    // Nothing of a group without machines is kept: the disk drops it with
    // its last machine, its limit too (docs/semantics.md, "Groups").
    st.limit_unsaved = false;
    st.emptied_since_batch = true;
  }
  auto* traffic = st.traffic_if_any();
  bool hosts_unsaved = traffic != nullptr && !traffic->unsaved.empty();
  if (!hosts_unsaved && !st.limit_unsaved)
    return;
  static const std::set<std::string> none;
  persist_batch batch;
  batch.changes =
      save_changes(*st.book, hosts_unsaved ? traffic->unsaved : none,
                   st.limit_unsaved, st.emptied_since_batch);
  if (traffic != nullptr)
    traffic->unsaved.clear();
  st.limit_unsaved = false;
  auto number = ++st.batches_sent;
  auto hosts = std::make_shared<std::vector<std::string>>();
  for (const auto& change : batch.changes)
    if (!change.host.empty()) {
      hosts->push_back(change.host);
      st.traffic().host_batch[change.host] = number;
    }
  bool had_limit = batch.changes.size() != hosts->size();
  if (host != nullptr && reply != nullptr && reply->reply && !hosts->empty()) {
    auto& host_batch = st.traffic().host_batch;
    auto carried = host_batch.find(*host);
    if (carried != host_batch.end() && carried->second == number)
      batch.replies.push_back(std::move(*reply));
  }
  self->request(st.settings->storage, caf::infinite, persist_atom::value,
                std::move(batch))
      .then(
          [self, number, hosts, had_limit](bool saved) {
            if (!saved) {
              batch_failed(self, number, *hosts, had_limit);
              return;
            }
            auto& st = self->state;
            if (number > st.batches_durable)
              st.batches_durable = number;
            // Durable now: answers about these hosts need not wait any more.
            if (auto* traffic = st.traffic_if_any())
              for (const auto& host : *hosts) {
                auto it = traffic->host_batch.find(host);
                if (it != traffic->host_batch.end() && it->second == number)
                  traffic->host_batch.erase(it);
              }
            deliver_durable(self);
            report_if_idle(self);
          },
          [self, number, hosts, had_limit](caf::error&) {
            batch_failed(self, number, *hosts, had_limit);
          });
}

// Batch `number` (the latest changes of `hosts`, and the limit if
// `had_limit`) could not be saved: they go again with the next batch, and
// answers tied to this one fail, so no client hears of a change that is not
// on disk.
void batch_failed(self_ptr self, std::uint64_t number,
                  const std::vector<std::string>& hosts, bool had_limit) {
  auto& st = self->state;
  if (number > st.batches_durable)
    st.batches_durable = number;
  if (auto* traffic = st.traffic_if_any())
    for (const auto& host : hosts) {
      auto it = traffic->host_batch.find(host);
      if (it != traffic->host_batch.end() && it->second == number)
        traffic->unsaved.insert(host);
    }
  st.limit_unsaved = st.limit_unsaved || had_limit;
  deliver_durable(self, number);
  retry_later(self);
}

// After a failed save, the changes go again a second later even if no call
// comes: until they are saved, checks answered from the I/O threads'
// replicas see the state before them.
void retry_later(self_ptr self) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  self->delayed_send(self, std::chrono::seconds(1), flush_atom::value);
}

// Answers now if the host's own latest change is durable, else once the
// batch carrying it is.
void answer(self_ptr self, const std::string& host, held_reply reply) {
  auto& st = self->state;
  if (auto* traffic = st.traffic_if_any()) {
    auto it = traffic->host_batch.find(host);
    if (it != traffic->host_batch.end() && it->second > st.batches_durable) {
      traffic->pending.push_back({std::move(reply), it->second});
      return;
    }
  }
  reply.reply.answer(std::move(reply.result));
}

// The group's counts and settings, without its machines.
group_view summary_of(const group_book& book) {
  group_view view;
  view.identifier = book.identifier();
  view.limit = book.effective_limit();
  view.tag_limit = book.limit();
  view.controls = book.controls();
  if (const auto* windows = book.windows()) {
    view.windows = windows->spec();
    view.windows_from_operator = book.windows_from_operator();
    if (auto change = book.next_window_change())
      view.window_change_ns = change->time_since_epoch().count();
  }
  view.permitted = book.permitted_count();
  view.waiting = book.waiting_count();
  view.queued = book.queued_count();
  view.listed = false;
  return view;
}

machine_view view_of(const group_book& book, const std::string& host,
                     const host_entry& entry, const char* state) {
  machine_view view;
  view.host = host;
  view.group = book.identifier();
  view.state = state;
  if (entry.hold) {
    view.last_request_ns = entry.hold->last_request.time_since_epoch().count();
    view.expires_ns =
        saturating_add(entry.hold->last_request, book.max_duration())
            .time_since_epoch()
            .count();
  }
  if (entry.wait && std::string_view(state) == "waiting") {
    view.ready_deadline_ns = entry.wait->deadline.time_since_epoch().count();
    view.ready_url = entry.wait->url;
  }
  return view;
}

} // namespace

group_actor::behavior_type
group(group_actor::stateful_pointer<group_state> self, std::string identifier,
      stored_group initial, std::shared_ptr<const group_settings> settings,
      group_controls controls, router_actor router) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.router = std::move(router);
  st.book.emplace(std::move(identifier), st.settings->max_duration);
  st.book->restore_limit(initial.limit);
  st.book->restore_tag_windows(initial.windows);
  st.book->restore_controls(controls);
  for (auto& [host, entry] : initial.hosts)
    st.book->restore(host, std::move(entry));
  // Restored machines need the timer and, when waiting, their probers.
  st.emptied_since_batch = st.book->entries().empty();
  st.book->track_windows(now_of(self));
  st.book->take_effects(); // (a start changes nothing to log)
  rearm(self);
  for (const auto& [host, entry] : st.book->entries())
    if (entry.wait)
      start_prober(self, host);
  report_if_idle(self);
  return {
      [self](operate_atom, disruption_call& call) {
        auto& st = self->state;
        auto now = now_of(self);
        std::optional<ready_gate> gate;
        if (call.has_gate) {
          gate = ready_gate{std::chrono::nanoseconds(call.gate_timeout_ns),
                            call.gate_url};
        }
        held_reply reply{std::move(call.reply), {}};
        reply.result.state = st.book->operate(call.kind, call.host, call.limit,
                                              gate, now, call.windows);
        if (call.wants_queue_position &&
            reply.result.state == disruption_state::requested) {
          reply.result.queue_position = st.book->queue_position(call.host);
          reply.result.queue_length = st.book->queued_count();
        }
        // Told only where a gate would have applied: a cancel that freed a
        // permit (not one that lapsed a moment before).
        if (!call.gate_error.empty() && st.book->last_cancel_freed_permit()) {
          spdlog::warn("{}: no ready gate applied: {}", call.host,
                       call.gate_error);
          ++service_metrics::instance().gate_errors;
          auto& errors = st.traffic().gate_errors;
          errors.push_back(call.host + ": " + call.gate_error);
          if (errors.size() > max_gate_errors)
            errors.erase(errors.begin());
        }
        if (call.kind == request_kind::request) {
          auto& slot = st.traffic().machines[call.host];
          slot.route_seq = call.route_seq;
          slot.gate_known = true;
          slot.gate = gate;
        }
        settle(self, &call.host, &reply);
        if (reply.reply) // Not sent with a batch: now, or after an earlier one.
          answer(self, call.host, std::move(reply));
        ++st.handled;
        report_if_idle(self);
      },
      [self](evict_atom, const std::string& host) {
        self->state.book->evict(host, now_of(self));
        settle(self);
        ++self->state.handled;
        report_if_idle(self);
      },
      [self](due_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation)
          return; // Superseded by an earlier deadline.
        st.timer_at.reset();
        st.book->expire(now_of(self));
        settle(self); // (sets the timer for what is next)
        report_if_idle(self);
      },
      [self](ready_atom, const std::string& host, std::uint64_t wait_id) {
        auto& st = self->state;
        if (auto* traffic = st.traffic_if_any()) {
          auto slot = traffic->machines.find(host);
          if (slot != traffic->machines.end())
            slot->second.prober = nullptr;
        }
        st.book->end_wait(host, wait_id, now_of(self));
        settle(self);
        report_if_idle(self);
      },
      [self](flush_atom) {
        self->state.retry_scheduled = false;
        settle(self);
        report_if_idle(self);
      },
      [self](control_atom, const group_controls& controls) {
        auto& st = self->state;
        st.book->set_controls(controls, now_of(self));
        settle(self);
        ++st.handled;
        report_if_idle(self);
      },
      [self](release_atom, const std::string& host,
             bool skip_gate) -> admin_result {
        auto& st = self->state;
        std::optional<ready_gate> gate;
        admin_result result;
        result.detail = "ready gate skipped";
        const group_state::machine_slot* slot = nullptr;
        if (const auto* traffic = st.traffic_if_any()) {
          auto it = traffic->machines.find(host);
          if (it != traffic->machines.end())
            slot = &it->second;
        }
        if (!skip_gate) {
          if (slot != nullptr && slot->gate_known) {
            gate = slot->gate;
            result.detail = gate && gate->timeout.count() > 0
                                ? "ready gate applied"
                                : "no ready gate in the machine's record";
          } else {
            result.detail = "no ready gate known (none asked since the "
                            "service started)";
          }
        }
        using outcome = group_book::release_outcome;
        switch (st.book->release(host, gate, skip_gate, now_of(self))) {
        case outcome::released:
          break;
        case outcome::only_waiting:
          result.status = 409;
          result.error = "host \"" + host +
                         "\" only waits on its group's ready gate; release "
                         "it skipping the ready gate to end the wait";
          break;
        case outcome::nothing:
          result.status = 404;
          result.error = "host \"" + host + "\" holds no permit or request";
          break;
        }
        settle(self);
        ++st.handled;
        report_if_idle(self);
        return result;
      },
      [self](retire_atom) {
        // The router sent nothing since the group said it was idle, and
        // forgot it: nothing of it is left to keep.
        self->send(self->state.settings->timer, disarm_atom::value,
                   caf::actor_cast<group_actor>(self));
        self->quit();
      },
      [self](summary_atom) -> group_view {
        return summary_of(*self->state.book);
      },
      [self](snapshot_atom) -> group_view {
        auto& st = self->state;
        const auto& book = *st.book;
        auto view = summary_of(book);
        view.listed = true;
        // Permitted first, then the queue in order, then waiting; each part
        // in a stable order a person can scan.
        for (const auto& [host, entry] : book.entries())
          if (entry.hold && entry.hold->permitted)
            view.machines.push_back(view_of(book, host, entry, "permitted"));
        auto by_host = [](const machine_view& a, const machine_view& b) {
          return a.host < b.host;
        };
        std::sort(view.machines.begin(), view.machines.end(), by_host);
        std::uint64_t position = 0;
        for (const auto& host : book.queue()) {
          auto m = view_of(book, host, *book.find(host), "requested");
          m.queue_position = ++position;
          view.machines.push_back(std::move(m));
        }
        auto waiting_from = view.machines.size();
        for (const auto& [host, entry] : book.entries())
          if (entry.wait)
            view.machines.push_back(view_of(book, host, entry, "waiting"));
        std::sort(view.machines.begin() + static_cast<long>(waiting_from),
                  view.machines.end(), by_host);
        if (const auto* traffic = st.traffic_if_any())
          view.gate_errors = traffic->gate_errors;
        return view;
      },
  };
}

} // namespace dm

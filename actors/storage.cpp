// Storage actor: a flush message queued behind the appends makes every
// append received before it share one write and one sync.
#include "actors/storage.hpp"

#include <spdlog/spdlog.h>

#include "metrics/service_metrics.hpp"

namespace dm {

storage_actor::behavior_type
storage(storage_actor::stateful_pointer<storage_state> self,
        std::shared_ptr<state_store> store,
        std::vector<synced_listener> listeners) {
  // The actor is the store's only user from here on.
  self->state.store = std::move(store);
  self->state.listeners = std::move(listeners);
  // Work the store left from opening is done first, while the service
  // already answers.
  if (self->state.store->sync_due()) {
    self->state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return {
      [self](persist_atom, persist_batch& batch) -> caf::result<bool> {
        std::string error;
        if (!self->state.store->append(batch.changes, error)) {
          spdlog::error("state not saved: {}", error);
          for (auto& held : batch.replies)
            held.reply.answer(not_saved_result());
          return false;
        }
        if (!self->state.listeners.empty())
          self->state.unsynced_changes.insert(
              self->state.unsynced_changes.end(),
              std::make_move_iterator(batch.changes.begin()),
              std::make_move_iterator(batch.changes.end()));
        self->state.unsynced_replies.insert(
            self->state.unsynced_replies.end(),
            std::make_move_iterator(batch.replies.begin()),
            std::make_move_iterator(batch.replies.end()));
        auto promise = self->make_response_promise<bool>();
        self->state.unsynced.push_back(promise);
        if (!self->state.flush_scheduled) {
          self->state.flush_scheduled = true;
          self->send(self, flush_atom::value);
        }
        return promise;
      },
      [self](flush_atom) {
        self->state.flush_scheduled = false;
        std::string error;
        auto& metrics = service_metrics::instance();
        auto started = std::chrono::steady_clock::now();
        bool ok = self->state.store->sync(error);
        metrics.storage_sync_latency.observe(std::chrono::steady_clock::now() -
                                             started);
        ++metrics.storage_batches;
        metrics.storage_failing = !ok;
        auto health = self->state.store->health();
        metrics.storage_pending = health.pending_changes;
        metrics.storage_changes = health.changes_written;
        metrics.compaction_failing = health.compaction_failing;
        metrics.compaction_failures = health.compaction_failures;
        metrics.compaction_backoff_ms =
            static_cast<std::uint64_t>(health.compaction_backoff.count());
        if (!ok) {
          ++metrics.storage_failures;
          if (!self->state.failing)
            spdlog::error("state not saved: {}", error);
          self->state.failing = true;
        } else {
          if (self->state.failing)
            spdlog::info("state saved again");
          self->state.failing = false;
          if (!error.empty())
            spdlog::warn("state compaction failed: {}", error);
        }
        // The replicas hear of what is durable before anyone is answered;
        // what failed is sent again by its group and heard of then.
        if (ok && !self->state.unsynced_changes.empty()) {
          auto synced = std::make_shared<const std::vector<state_change>>(
              std::move(self->state.unsynced_changes));
          for (const auto& listener : self->state.listeners)
            listener(synced);
        }
        self->state.unsynced_changes.clear();
        // Clients first: their answers wait for nothing else.
        for (auto& held : self->state.unsynced_replies)
          held.reply.answer(ok ? std::move(held.result) : not_saved_result());
        self->state.unsynced_replies.clear();
        for (auto& promise : self->state.unsynced)
          promise.deliver(ok);
        self->state.unsynced.clear();
      },
  };
}

} // namespace dm

// Storage actor: a flush message queued behind the appends makes every
// append received before it share one write and one sync.
#include "actors/storage.hpp"

#include <spdlog/spdlog.h>

#include "metrics/service_metrics.hpp"

namespace dm {

storage_actor::behavior_type
storage(storage_actor::stateful_pointer<storage_state> self,
        std::shared_ptr<state_store> store) {
  // The actor is the store's only user from here on.
  self->state.store = std::move(store);
  return {
    [self](persist_atom, persist_batch& batch) -> caf::result<bool> {
      std::string error;
      if (!self->state.store->append(batch.changes, error)) {
        spdlog::error("state not saved: {}", error);
        return false;
      }
      service_metrics::instance().storage_changes += batch.changes.size();
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
      metrics.storage_sync_latency.observe(std::chrono::steady_clock::now()
                                           - started);
      ++metrics.storage_batches;
      metrics.storage_failing = !ok;
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
      for (auto& promise : self->state.unsynced)
        promise.deliver(ok);
      self->state.unsynced.clear();
    },
  };
}

} // namespace dm

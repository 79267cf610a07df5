// The storage actor: owns the state store, appends what groups send and
// syncs once per batch of queued messages (group commit). It runs detached,
// on its own thread, since a sync blocks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "storage/state_store.hpp"

namespace dm {

// Told, on the storage thread, of every change once it is synced and before
// any answer that waits for it is released: the I/O threads' replicas.
using synced_listener =
    std::function<void(std::shared_ptr<const std::vector<state_change>>)>;

struct storage_state {
  static inline const char* name = "storage";
  std::shared_ptr<state_store> store;
  std::vector<synced_listener> listeners;
  std::vector<caf::typed_response_promise<bool>> unsynced;
  std::vector<held_reply> unsynced_replies;
  std::vector<state_change> unsynced_changes;
  bool flush_scheduled = false;
  bool failing = false;
};

storage_actor::behavior_type
storage(storage_actor::stateful_pointer<storage_state> self,
        std::shared_ptr<state_store> store,
        std::vector<synced_listener> listeners);

} // namespace dm

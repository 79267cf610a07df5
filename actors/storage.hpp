// The storage actor: owns the state store, appends what groups send and
// syncs once per batch of queued messages (group commit). It runs detached,
// on its own thread, since a sync blocks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "storage/state_store.hpp"

namespace dm {

struct storage_state {
  static inline const char* name = "storage";
  std::shared_ptr<state_store> store;
  std::vector<caf::typed_response_promise<bool>> unsynced;
  bool flush_scheduled = false;
  bool failing = false;
};

storage_actor::behavior_type
storage(storage_actor::stateful_pointer<storage_state> self,
        std::shared_ptr<state_store> store);

} // namespace dm

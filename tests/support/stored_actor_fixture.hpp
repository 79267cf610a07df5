// What the actor tests over real storage start from: a state directory, an
// actor system in virtual time, the storage actor on the directory's
// store, the timer actor, and the settings group actors get.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "actors/group.hpp"
#include "actors/storage.hpp"
#include "actors/timer.hpp"
#include "net/url_fetcher.hpp"
#include "tests/support/state_directory.hpp"
#include "tests/support/virtual_time_system.hpp"

namespace dm::test {

struct stored_actor_fixture : ::testing::Test {
  state_directory dir;
  virtual_time_system actors;
  storage_actor storage_handle;
  timer_actor timer_handle;
  // Virtual time plus this is the wall clock the groups and the timer read.
  std::chrono::nanoseconds wall_offset{0};

  // Opens the directory's store as the service does at start and starts
  // the storage actor on it; the store, or null (and a failed test).
  std::shared_ptr<file_store>
  start_storage(std::vector<synced_listener> listeners = {}) {
    auto store = dir.open_store();
    if (store)
      storage_handle =
          actors.system().spawn(storage, store, std::move(listeners));
    timer_handle = actors.system().spawn(timer, wall_offset);
    return store;
  }

  // Permits last an hour, deadlines go to the timer actor, probers run on the testing scheduler (not on
  // threads of their own) and GET with the real HTTP client, and changes
  // are saved through the storage actor.
  group_settings settings() const {
    group_settings s;
    s.max_duration = std::chrono::hours(1);
    s.wall_offset = wall_offset;
    s.storage = storage_handle;
    s.timer = timer_handle;
    s.fetcher = std::make_shared<http_url_fetcher>();
    s.detached_probers = false;
    return s;
  }
};

} // namespace dm::test

// A state directory for actor tests: a fresh file store on it for the
// storage actor, and what a restarted service would read back from it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/file_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace dm::test {

// A permitted machine `host` of group "G", queued `seq`-th, as a change
// for the store.
inline state_change permit_change(const std::string& host, std::uint64_t seq) {
  return state_change::host_update(
      "G", host,
      host_entry{holding{true, timestamp{std::chrono::seconds(1000)}, seq},
                 std::nullopt});
}

class state_directory : public temp_dir {
public:
  // The store as the service opens it at start; null (and a failed test)
  // when it cannot be opened.
  std::shared_ptr<file_store> open_store() const {
    std::string error;
    std::vector<std::string> notes;
    file_store_options options;
    options.directory = path();
    auto store = file_store::open(options, error, notes);
    EXPECT_TRUE(store) << error;
    return store;
  }

  // What is durable now, read as a restart would.
  stored_state on_disk() const {
    auto store = open_store();
    return store ? store->loaded() : stored_state{};
  }
};

} // namespace dm::test

// A reply sink for tests: keeps every answer given through a reply_to, in
// order, with its ticket. Calls only: a state view delivered is a failure.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/reply.hpp"

namespace dm::test {

struct recording_sink final : reply_sink {
  void deliver(std::uint64_t ticket, call_result result) override {
    answers.emplace_back(ticket, std::move(result));
  }
  void deliver_state(std::uint64_t, gathered_state) override {
    ADD_FAILURE() << "a state view delivered for a call";
  }
  std::vector<std::pair<std::uint64_t, call_result>> answers;
};

} // namespace dm::test

// The prober actor: GETs one waiting machine's ready URL with exponential
// back-off until it answers 200 (then tells the group) or the wait ends.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "net/url_fetcher.hpp"

namespace dm {

struct probe_plan {
  std::string host;
  std::string url;
  std::uint64_t wait_id = 0;
  std::int64_t deadline_ns = 0; // the wait's end, wall clock
  std::chrono::nanoseconds wall_offset{0};
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(5);
  std::shared_ptr<const url_fetcher> fetcher;
};

// Back-off bounds for a wait of `timeout`, as the original polls: up to
// 1/64 of it, capped at 5 minutes, starting from 1/16 of that bound (so
// 1/1024 of the timeout until the cap applies, above 5h20m: then 18.75 s),
// and never more often than once a millisecond.
struct probe_backoff {
  std::chrono::nanoseconds first;
  std::chrono::nanoseconds most;
};
probe_backoff backoff_for(std::chrono::nanoseconds timeout);

struct prober_state {
  static inline const char* name = "prober";
  probe_plan plan;
  group_actor group;
  std::chrono::nanoseconds delay{0};
  probe_backoff backoff{};
  std::uint64_t attempts = 0;
};

prober_actor::behavior_type
prober(prober_actor::stateful_pointer<prober_state> self, group_actor group,
       probe_plan plan);

} // namespace dm

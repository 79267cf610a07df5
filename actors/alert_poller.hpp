// The alert poller: GETs Prometheus's /api/v1/alerts every interval on its
// own thread and, when what the firing alerts block changes, logs it and
// tells the I/O threads' replicas, then the router (docs/semantics.md,
// "Blocking alerts").
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "alerts/prometheus_alerts.hpp"
#include "net/url_fetcher.hpp"

namespace dm {

// Told of each change on the poller's thread, before the router is.
using alert_listener = std::function<void(const alert_blocking&)>;

struct alert_poll_plan {
  std::string url; // the alerts API: alerts_api_url(-blockingAlertsUrl)
  std::shared_ptr<const alert_name_match> match;
  std::chrono::nanoseconds interval = std::chrono::seconds(5);
  bool block_when_unavailable = true;
  std::shared_ptr<const http_url_fetcher> fetcher;
  std::vector<alert_listener> listeners;
};

// What holds until the first poll of `url` answers (the router and the
// replicas start with it): with the block policy every group is blocked.
alert_blocking blocking_before_first_poll(const std::string& url,
                                          bool block_when_unavailable);

// How long one GET may take: the interval, from 1 to 10 seconds.
std::chrono::nanoseconds alert_poll_timeout(std::chrono::nanoseconds interval);

struct alert_poller_state {
  static inline const char* name = "alert_poller";
  alert_poll_plan plan;
  router_actor router;
  alert_blocking last; // as the router and the replicas have it
  bool polled = false; // a poll has been made (`last` is its outcome)
};

alert_poller_actor::behavior_type
alert_poller(alert_poller_actor::stateful_pointer<alert_poller_state> self,
             alert_poll_plan plan, router_actor router);

} // namespace dm

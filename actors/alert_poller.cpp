// Alert poller: one GET per poll message; detached, so a Prometheus that
// hangs delays nobody but the poller.
#include "actors/alert_poller.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "metrics/service_metrics.hpp"

namespace dm {

namespace {

// An alerts answer beyond this is refused as garbage.
constexpr std::size_t max_alerts_answer_bytes = 16u << 20;

} // namespace

alert_blocking blocking_before_first_poll(const std::string& url,
                                          bool block_when_unavailable) {
  auto blocking = blocking_unavailable("no answer from Prometheus yet",
                                       block_when_unavailable);
  blocking.source = url;
  return blocking;
}

std::chrono::nanoseconds alert_poll_timeout(std::chrono::nanoseconds interval) {
  return std::clamp<std::chrono::nanoseconds>(interval, std::chrono::seconds(1),
                                              std::chrono::seconds(10));
}

alert_poller_actor::behavior_type
alert_poller(alert_poller_actor::stateful_pointer<alert_poller_state> self,
             alert_poll_plan plan, router_actor router) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.router = std::move(router);
  st.last =
      blocking_before_first_poll(st.plan.url, st.plan.block_when_unavailable);
  self->send(self, poll_atom::value);
  return {
      [self](poll_atom) {
        auto& st = self->state;
        auto& metrics = service_metrics::instance();
        ++metrics.alert_polls;
        std::string error;
        auto answer = st.plan.fetcher->get(st.plan.url,
                                           alert_poll_timeout(st.plan.interval),
                                           max_alerts_answer_bytes, error);
        auto now =
            answer
                ? blocking_from_answer(answer->status, answer->body,
                                       *st.plan.match,
                                       st.plan.block_when_unavailable)
                : blocking_unavailable(error, st.plan.block_when_unavailable);
        now.source = st.plan.url;
        if (!now.trouble.empty()) {
          ++metrics.alert_poll_failures;
          spdlog::debug("alerts from {}: {}", st.plan.url, now.trouble);
          // While Prometheus stays out of reach, the first reason stands:
          // a changing error text changes nothing any group obeys.
          if (st.polled && !st.last.trouble.empty())
            now.trouble = st.last.trouble;
        }
        st.polled = true;
        metrics.alerts_unavailable = !now.trouble.empty();
        if (now != st.last) {
          for (const auto& line : blocking_changes(st.last, now)) {
            if (!now.trouble.empty() && line.rfind("Prometheus", 0) == 0)
              spdlog::warn("{}: {}", st.plan.url, line);
            else
              spdlog::info("{}", line);
          }
          for (const auto& listener : st.plan.listeners)
            listener(now);
          self->send(st.router, alerts_atom::value, now);
          st.last = std::move(now);
        }
        self->delayed_send(self, st.plan.interval, poll_atom::value);
      },
  };
}

} // namespace dm

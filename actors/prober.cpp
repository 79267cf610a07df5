// Prober: one GET per probe message; a detached prober blocks only its own
// thread, so a hanging URL cannot delay any other group.
#include "actors/prober.hpp"

#include <spdlog/spdlog.h>

#include "actors/wall_clock.hpp"
#include "duration/saturating_time.hpp"
#include "metrics/service_metrics.hpp"

namespace dm {

probe_backoff backoff_for(std::chrono::nanoseconds timeout) {
  auto most = timeout / 64;
  if (most > std::chrono::minutes(5))
    most = std::chrono::minutes(5);
  auto first = most / 16;
  if (first < std::chrono::milliseconds(1))
    first = std::chrono::milliseconds(1);
  if (most < first)
    most = first;
  return {first, most};
}

prober_actor::behavior_type
prober(prober_actor::stateful_pointer<prober_state> self, group_actor group,
       probe_plan plan) {
  auto& st = self->state;
  st.group = std::move(group);
  st.plan = std::move(plan);
  auto now = wall_now(self, st.plan.wall_offset).time_since_epoch();
  st.backoff = backoff_for(saturating_difference(
      std::chrono::nanoseconds(st.plan.deadline_ns), now));
  st.delay = st.backoff.first;
  self->send(self, probe_atom::value);
  return {
      [self](probe_atom) {
        auto& st = self->state;
        auto now = wall_now(self, st.plan.wall_offset).time_since_epoch();
        if (now.count() >= st.plan.deadline_ns) {
          self->quit();
          return;
        }
        ++st.attempts;
        ++service_metrics::instance().probes;
        std::string error;
        int status = st.plan.fetcher
                         ? st.plan.fetcher->get_status(
                               st.plan.url, st.plan.request_timeout, error)
                         : -1;
        if (status == 200) {
          self->send(st.group, ready_atom::value, st.plan.host,
                     st.plan.wait_id);
          self->quit();
          return;
        }
        if (status >= 0)
          spdlog::debug("{}: {} answered {}", st.plan.host, st.plan.url,
                        status);
        else
          spdlog::debug("{}: {}: {}", st.plan.host, st.plan.url, error);
        self->delayed_send(self, st.delay, probe_atom::value);
        st.delay = std::min(st.delay * 2, st.backoff.most);
      },
  };
}

} // namespace dm

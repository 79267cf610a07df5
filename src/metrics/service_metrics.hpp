// Process-wide counters and histograms for /metrics. Written from I/O
// threads and actors alike, so every figure is a relaxed atomic: no locks,
// and a reader sees each figure whole (not all figures at one instant).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/alert_blocking.hpp"
#include "model/machine_record.hpp"
#include "model/replica_role.hpp"

namespace dm {

// What /metrics shows of the service state: machines by state, and each
// group's slots in use and limit.
struct state_figures {
  std::uint64_t permitted = 0;
  std::uint64_t requested = 0;
  std::uint64_t waiting = 0;
  struct group {
    std::string identifier;
    std::uint64_t slots_in_use = 0; // permitted plus waiting
    std::uint64_t limit = 1;
    // 1 inside its maintenance windows, 0 outside, -1 without windows.
    int window_open = -1;
  };
  std::vector<group> groups;
  std::vector<blocking_alert> blocking_alerts; // firing, matching alerts
};

// A Prometheus histogram with fixed bounds in seconds.
class latency_histogram {
public:
  static constexpr std::array<double, 12> bounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

  void observe(std::chrono::nanoseconds elapsed);
  // Appends the _bucket, _sum and _count lines.
  void render(const std::string& name, const std::string& labels,
              std::string& out) const;

private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

enum class front_end { rest = 0, srpc = 1, fleetlock = 2 };
inline constexpr unsigned front_end_count = 3;

// How an admin operation ended: done, refused for want of power, or
// rejected (bad input, unknown host, not saved).
enum class admin_outcome { done, refused, rejected };

// The admin operations, in the order /metrics lists them.
inline constexpr std::array<std::string_view, 7> admin_operation_names = {
    "status", "release", "pause", "resume", "freeze", "thaw", "limit"};

class service_metrics {
public:
  static service_metrics& instance();

  // A call answered with a state (error: the answer carried an error).
  void count_call(front_end fe, request_kind kind, disruption_state state,
                  bool error, std::chrono::nanoseconds elapsed);
  // An HTTP response by status code (all paths).
  void count_http_status(int status);
  // An admin operation (docs/protocol.md, "Admin API") by name and outcome.
  void count_admin(std::string_view operation, admin_outcome outcome);

  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_refused{0}; // over the limit
  std::atomic<std::uint64_t> connections_timed_out{0};
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> tls_handshake_failures{0};
  std::atomic<std::uint64_t> access_refused{0};          // self-only rule
  std::atomic<std::uint64_t> checks_answered_locally{0}; // by a replica

  std::atomic<std::uint64_t> gate_waits_started{0};
  std::atomic<std::uint64_t> gate_ready{0};
  std::atomic<std::uint64_t> gate_timed_out{0};
  std::atomic<std::uint64_t> gate_delay_completed{0};
  std::atomic<std::uint64_t> gate_errors{0}; // unusable gate tags
  std::atomic<std::uint64_t> probes{0};
  std::atomic<std::uint64_t> expirations{0};

  // Times accepting paused for lack of descriptors or memory.
  std::atomic<std::uint64_t> accept_pauses{0};

  std::atomic<std::uint64_t> storage_batches{0}; // syncs
  std::atomic<std::uint64_t> storage_changes{0};
  std::atomic<std::uint64_t> storage_failures{0};
  std::atomic<bool> storage_failing{false};
  std::atomic<std::uint64_t> storage_pending{0}; // changes waiting for a sync
  std::atomic<bool> compaction_failing{false};
  std::atomic<std::uint64_t> compaction_failures{0};
  std::atomic<std::uint64_t> compaction_backoff_ms{0};
  latency_histogram storage_sync_latency;

  // Polls of Prometheus's alerts (shown with -blockingAlertsUrl).
  std::atomic<bool> alerts_polled{false};
  std::atomic<std::uint64_t> alert_polls{0};
  std::atomic<std::uint64_t> alert_poll_failures{0}; // no usable answer
  std::atomic<bool> alerts_unavailable{false};       // the last one failed

  // The replicated store (shown only when the state is in etcd).
  std::atomic<bool> replicated{false};
  std::atomic<std::uint64_t> etcd_txns{0};
  std::atomic<std::uint64_t> etcd_txn_failures{0};     // errors and refusals
  std::atomic<std::uint64_t> etcd_fence_refusals{0};   // leader key gone
  std::atomic<std::uint64_t> calls_forwarded{0};       // to the leader
  std::atomic<std::uint64_t> forwarded_calls_taken{0}; // from followers
  latency_histogram etcd_txn_latency;

  // The whole page; `state` gives the machine and group gauges.
  // With a replica's role, also the role and the etcd figures.
  std::string render(const state_figures& state,
                     const std::optional<replica_role>& role = {}) const;

private:
  service_metrics();
  std::array<std::atomic<std::uint64_t>, front_end_count * 3 * 5> calls_{};
  std::array<latency_histogram, front_end_count> call_latency_;
  std::array<std::atomic<std::uint64_t>, 600> http_status_{};
  // By operation (plus one for a name that is none of them) and outcome.
  std::array<std::atomic<std::uint64_t>, (admin_operation_names.size() + 1) * 3>
      admin_{};
  std::chrono::system_clock::time_point started_;
};

} // namespace dm

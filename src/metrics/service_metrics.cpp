// Prometheus text rendering of the service's figures.
#include "metrics/service_metrics.hpp"

#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>

namespace dm {

namespace {

constexpr const char* prefix = "disruption_manager_";

void header(std::string& out, const char* name, const char* type,
            const char* help) {
  out += "# HELP ";
  out += prefix;
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += prefix;
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const char* name, const std::string& labels,
            double value) {
  char number[64];
  std::snprintf(number, sizeof(number), "%.17g", value);
  out += prefix;
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += number;
  out += '\n';
}

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

const char* state_names[] = {"anytime", "permitted", "requested", "denied"};
const char* kind_names[] = {"check", "request", "cancel"};
const char* front_names[] = {"rest", "srpc", "fleetlock"};

} // namespace

void latency_histogram::observe(std::chrono::nanoseconds elapsed) {
  double seconds = static_cast<double>(elapsed.count()) / 1e9;
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(
      static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0)),
      std::memory_order_relaxed);
}

void latency_histogram::render(const std::string& name,
                               const std::string& labels,
                               std::string& out) const {
  std::uint64_t cumulative = 0;
  auto sep = labels.empty() ? std::string() : labels + ",";
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    char bound[32];
    if (i < bounds.size())
      std::snprintf(bound, sizeof(bound), "%g", bounds[i]);
    else
      std::snprintf(bound, sizeof(bound), "+Inf");
    sample(out, (name + "_bucket").c_str(), sep + "le=\"" + bound + "\"",
           static_cast<double>(cumulative));
  }
  sample(out, (name + "_sum").c_str(), labels,
         static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  sample(out, (name + "_count").c_str(), labels,
         static_cast<double>(count_.load(std::memory_order_relaxed)));
}

service_metrics& service_metrics::instance() {
  static service_metrics metrics;
  return metrics;
}

service_metrics::service_metrics()
    : started_(std::chrono::system_clock::now()) {
  // nop
}

void service_metrics::count_call(front_end fe, request_kind kind,
                                 disruption_state state, bool error,
                                 std::chrono::nanoseconds elapsed) {
  auto outcome = error ? 4u : static_cast<unsigned>(state);
  auto index = static_cast<unsigned>(fe) * 15 +
               static_cast<unsigned>(kind) * 5 + outcome;
  calls_[index].fetch_add(1, std::memory_order_relaxed);
  call_latency_[static_cast<unsigned>(fe)].observe(elapsed);
}

void service_metrics::count_http_status(int status) {
  if (status >= 100 && status < 600)
    http_status_[static_cast<std::size_t>(status)].fetch_add(
        1, std::memory_order_relaxed);
}

void service_metrics::count_admin(std::string_view operation,
                                  admin_outcome outcome) {
  std::size_t op = 0;
  while (op < admin_operation_names.size() &&
         admin_operation_names[op] != operation)
    ++op;
  admin_[op * 3 + static_cast<std::size_t>(outcome)].fetch_add(
      1, std::memory_order_relaxed);
}

std::string
service_metrics::render(const state_figures& state,
                        const std::optional<replica_role>& role) const {
  std::string out;
  out.reserve(8192);
  auto load = [](const std::atomic<std::uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  header(out, "machines", "gauge", "Machines not denied, by state.");
  sample(out, "machines", "state=\"permitted\"", double(state.permitted));
  sample(out, "machines", "state=\"requested\"", double(state.requested));
  sample(out, "machines", "state=\"waiting\"", double(state.waiting));
  header(out, "groups", "gauge", "Groups that know a machine.");
  sample(out, "groups", "", double(state.groups.size()));
  header(out, "group_slots_in_use", "gauge",
         "Permitted plus waiting machines per group.");
  for (const auto& g : state.groups)
    sample(out, "group_slots_in_use",
           "group=\"" + escape_label(g.identifier) + "\"",
           double(g.slots_in_use));
  header(out, "group_limit", "gauge", "Remembered limit per group.");
  for (const auto& g : state.groups)
    sample(out, "group_limit", "group=\"" + escape_label(g.identifier) + "\"",
           double(g.limit));
  header(out, "group_window_open", "gauge",
         "1 while a group with maintenance windows is inside one, else 0.");
  for (const auto& g : state.groups)
    if (g.window_open >= 0)
      sample(out, "group_window_open",
             "group=\"" + escape_label(g.identifier) + "\"",
             double(g.window_open));

  if (alerts_polled.load(std::memory_order_relaxed)) {
    header(out, "blocking_alerts", "gauge",
           "Firing alerts that stop new permits: in every group "
           "(scope=\"every_group\") or in the group named by their "
           "disruption_manager_group label.");
    for (const auto& a : state.blocking_alerts)
      sample(out, "blocking_alerts",
             "alert=\"" + escape_label(a.alert) + "\",scope=\"" +
                 (a.group ? "group" : "every_group") + "\",group=\"" +
                 escape_label(a.group ? *a.group : std::string()) + "\"",
             1);
    header(out, "alerts_polls_total", "counter",
           "GETs of Prometheus's alerts.");
    sample(out, "alerts_polls_total", "", load(alert_polls));
    header(out, "alerts_poll_failures_total", "counter",
           "Polls of Prometheus's alerts without a usable answer.");
    sample(out, "alerts_poll_failures_total", "", load(alert_poll_failures));
    header(out, "alerts_prometheus_unavailable", "gauge",
           "1 when the last poll of Prometheus's alerts failed.");
    sample(out, "alerts_prometheus_unavailable", "",
           alerts_unavailable.load(std::memory_order_relaxed) ? 1 : 0);
  }

  header(out, "calls_total", "counter",
         "Calls by front end, operation and answer.");
  for (unsigned fe = 0; fe < front_end_count; ++fe)
    for (unsigned kind = 0; kind < 3; ++kind)
      for (unsigned outcome = 1; outcome < 5; ++outcome) {
        auto labels = std::string("protocol=\"") + front_names[fe] +
                      "\",operation=\"" + kind_names[kind] + "\",answer=\"" +
                      (outcome == 4 ? "error" : state_names[outcome]) + "\"";
        sample(out, "calls_total", labels,
               load(calls_[fe * 15 + kind * 5 + outcome]));
      }
  header(out, "call_duration_seconds", "histogram",
         "Time from a decoded call to its answer being queued.");
  for (unsigned fe = 0; fe < front_end_count; ++fe)
    call_latency_[fe].render(
        "call_duration_seconds",
        std::string("protocol=\"") + front_names[fe] + "\"", out);
  header(out, "http_responses_total", "counter", "HTTP responses by status.");
  for (int code = 100; code < 600; ++code) {
    auto n = http_status_[static_cast<std::size_t>(code)].load();
    if (n > 0)
      sample(out, "http_responses_total",
             "code=\"" + std::to_string(code) + "\"", double(n));
  }
  header(out, "connections_open", "gauge", "Open client connections.");
  sample(out, "connections_open", "",
         double(connections_open.load(std::memory_order_relaxed)));
  header(out, "connections_total", "counter", "Client connections by outcome.");
  sample(out, "connections_total", "outcome=\"accepted\"",
         load(connections_accepted));
  sample(out, "connections_total", "outcome=\"refused\"",
         load(connections_refused));
  sample(out, "connections_total", "outcome=\"timed_out\"",
         load(connections_timed_out));
  header(out, "accept_pauses_total", "counter",
         "Times accepting paused, out of descriptors or memory.");
  sample(out, "accept_pauses_total", "", load(accept_pauses));
  header(out, "tls_handshake_failures_total", "counter",
         "TLS handshakes that failed.");
  sample(out, "tls_handshake_failures_total", "", load(tls_handshake_failures));
  header(out, "access_refused_total", "counter",
         "Requests and cancels refused by the self-only rule, and admin "
         "operations refused for want of power.");
  sample(out, "access_refused_total", "", load(access_refused));
  header(out, "admin_operations_total", "counter",
         "Admin operations by name and outcome (done, refused: no power, "
         "rejected: bad input or not done).");
  static constexpr const char* outcome_names[] = {"done", "refused",
                                                  "rejected"};
  for (std::size_t op = 0; op <= admin_operation_names.size(); ++op)
    for (std::size_t outcome = 0; outcome < 3; ++outcome) {
      auto name = op < admin_operation_names.size()
                      ? std::string(admin_operation_names[op])
                      : std::string("unknown");
      sample(out, "admin_operations_total",
             "operation=\"" + name + "\",outcome=\"" + outcome_names[outcome] +
                 "\"",
             load(admin_[op * 3 + outcome]));
    }
  header(out, "checks_answered_locally_total", "counter",
         "Checks answered on the I/O thread from its replica of the saved "
         "state (the others went to the group actors).");
  sample(out, "checks_answered_locally_total", "",
         load(checks_answered_locally));

  header(out, "ready_gate_total", "counter", "Ready gate events.");
  sample(out, "ready_gate_total", "event=\"started\"",
         load(gate_waits_started));
  sample(out, "ready_gate_total", "event=\"ready\"", load(gate_ready));
  sample(out, "ready_gate_total", "event=\"timed_out\"", load(gate_timed_out));
  sample(out, "ready_gate_total", "event=\"delay_completed\"",
         load(gate_delay_completed));
  header(out, "ready_gate_errors_total", "counter",
         "Cancels whose ready gate tags could not be used (no gate applied).");
  sample(out, "ready_gate_errors_total", "", load(gate_errors));
  header(out, "ready_probes_total", "counter", "Ready URL GETs made.");
  sample(out, "ready_probes_total", "", load(probes));
  header(out, "expirations_total", "counter",
         "Permits and requests dropped after the maximum duration.");
  sample(out, "expirations_total", "", load(expirations));

  header(out, "storage_syncs_total", "counter",
         "Durable write batches (one sync each).");
  sample(out, "storage_syncs_total", "", load(storage_batches));
  header(out, "storage_changes_total", "counter",
         "Changes written by the syncs that worked.");
  sample(out, "storage_changes_total", "", load(storage_changes));
  header(out, "storage_failures_total", "counter", "Failed syncs.");
  sample(out, "storage_failures_total", "", load(storage_failures));
  header(out, "storage_healthy", "gauge", "1 when the last sync succeeded.");
  sample(out, "storage_healthy", "",
         storage_failing.load(std::memory_order_relaxed) ? 0 : 1);
  header(out, "storage_pending_changes", "gauge",
         "Changes not yet saved (at most one per machine).");
  sample(out, "storage_pending_changes", "", load(storage_pending));
  header(out, "storage_compaction_healthy", "gauge",
         "1 unless the last compaction of the state journal failed.");
  sample(out, "storage_compaction_healthy", "",
         compaction_failing.load(std::memory_order_relaxed) ? 0 : 1);
  header(out, "storage_compaction_failures_total", "counter",
         "Failed compactions of the state journal.");
  sample(out, "storage_compaction_failures_total", "",
         load(compaction_failures));
  header(out, "storage_compaction_backoff_seconds", "gauge",
         "Wait after the last failed compaction before the next.");
  sample(out, "storage_compaction_backoff_seconds", "",
         static_cast<double>(load(compaction_backoff_ms)) / 1000.0);
  header(out, "storage_sync_duration_seconds", "histogram",
         "Time to write and sync one batch.");
  storage_sync_latency.render("storage_sync_duration_seconds", "", out);

  if (role && role->replicated) {
    header(out, "replica_leader", "gauge",
           "1 while this replica leads, 0 while it follows.");
    sample(out, "replica_leader", "", role->leader ? 1 : 0);
    header(out, "replica_leader_known", "gauge",
           "1 while this replica knows a leader (itself or another).");
    sample(out, "replica_leader_known", "",
           role->leader_address.empty() ? 0 : 1);
    header(out, "replica_role_since_seconds", "gauge",
           "Unix time at which this replica took its current role.");
    sample(out, "replica_role_since_seconds", "",
           static_cast<double>(role->since_unix_ns) / 1e9);
    header(out, "replica_leader_since_seconds", "gauge",
           "Unix time at which this replica learnt of the current leader "
           "(0: none known).");
    sample(out, "replica_leader_since_seconds", "",
           static_cast<double>(role->leader_since_unix_ns) / 1e9);
    header(out, "replica_leader_changes_total", "counter",
           "Leaders this replica has seen take over since it started.");
    sample(out, "replica_leader_changes_total", "",
           static_cast<double>(role->leader_changes));
    header(out, "etcd_txns_total", "counter",
           "etcd transactions sent by this replica's store.");
    sample(out, "etcd_txns_total", "", load(etcd_txns));
    header(out, "etcd_txn_failures_total", "counter",
           "etcd transactions that failed or were refused.");
    sample(out, "etcd_txn_failures_total", "", load(etcd_txn_failures));
    header(out, "etcd_fence_refusals_total", "counter",
           "etcd transactions refused because this replica's leader key was "
           "gone.");
    sample(out, "etcd_fence_refusals_total", "", load(etcd_fence_refusals));
    header(out, "replica_calls_forwarded_total", "counter",
           "Calls this replica forwarded to the leader.");
    sample(out, "replica_calls_forwarded_total", "", load(calls_forwarded));
    header(out, "replica_forwarded_calls_taken_total", "counter",
           "Calls other replicas forwarded to this one.");
    sample(out, "replica_forwarded_calls_taken_total", "",
           load(forwarded_calls_taken));
    header(out, "etcd_txn_duration_seconds", "histogram",
           "Time of one etcd transaction.");
    etcd_txn_latency.render("etcd_txn_duration_seconds", "", out);
  }

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  long pages = 0;
  {
    std::ifstream statm("/proc/self/statm");
    long size = 0;
    statm >> size >> pages;
  }
  int fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr)
      ++fds;
    closedir(dir);
    fds -= 3; // ".", ".." and the directory itself
  }
  header(out, "process_cpu_seconds_total", "counter", "CPU time used.");
  sample(out, "process_cpu_seconds_total", "",
         double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
             double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6);
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory.");
  sample(out, "process_resident_memory_bytes", "",
         double(pages) * double(sysconf(_SC_PAGESIZE)));
  header(out, "process_open_fds", "gauge", "Open file descriptors.");
  sample(out, "process_open_fds", "", double(fds));
  header(out, "process_start_time_seconds", "gauge",
         "Start time since the epoch.");
  sample(out, "process_start_time_seconds", "",
         double(std::chrono::duration_cast<std::chrono::seconds>(
                    started_.time_since_epoch())
                    .count()));
  return out;
}

} // namespace dm

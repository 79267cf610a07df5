// The service's settings: every flag of the original disruption-manager
// (its own, and those that the Dominator packages it links register) and
// this service's own, read from the flags files and the command line and
// checked, apart from main() so that it can be tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace dm {

struct service_config {
  // cmd/disruption-manager
  std::uint64_t port = 6979;
  std::string state_dir = "/var/lib/disruption-manager";
  std::chrono::nanoseconds max_duration = std::chrono::hours(1);
  bool generate_webcert = false;

  // Logging (lib/logbuf, lib/log/serverlogger)
  std::string log_dir = "/var/log/disruption-manager";
  std::uint64_t logbuf_lines = 1024;
  std::uint64_t log_file_max_bytes = 10u << 20;
  std::uint64_t log_quota_bytes = 100u << 20;
  bool also_log_to_stderr = false;
  std::chrono::nanoseconds idle_mark_timeout{0}; // 0: no MARK lines
  std::int64_t initial_log_debug_level = -1;     // -1: no debug lines
  bool log_at_startup = true;
  bool log_subseconds = false;

  // TLS and the SRPC server (lib/srpc/setupserver, lib/srpc)
  std::string ca_file = "/etc/ssl/CA.pem";
  std::string identity_ca_file = "/etc/ssl/IdentityCA.pem";
  std::string cert_file = "/etc/ssl/disruption-manager/cert.pem";
  std::string key_file = "/etc/ssl/disruption-manager/key.pem";
  std::vector<std::string> trusted_users;
  std::vector<std::string> trusted_groups;
  std::chrono::nanoseconds tls_handshake_timeout = std::chrono::minutes(1);
  std::chrono::nanoseconds keep_alive_period = std::chrono::minutes(5);
  std::string unix_socket_path; // "" : no Unix socket; "@name": abstract

  // Accepted so that the original's flags files work; they steer SRPC
  // clients or SmallStack, which this service is not.
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(15);
  std::string srpc_proxy;
  bool client_do_not_use_method_powers = false;
  bool trust_vm_owners = true;
  // Which of those were given (flag names, for one line in the log).
  std::vector<std::string> inert_flags_given;

  // This service's own
  bool allow_root = false;
  std::uint64_t io_threads = 1;
  std::uint64_t actor_threads = 0; // 0: the cores the I/O threads leave
  std::string scheduler = "sharing";
  bool local_checks = true;
  bool tls_legacy_ciphers = false; // TLS 1.2 beyond forward-secret AEAD
  std::uint64_t max_connections = 10000;
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(2);
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(10);
  std::uint64_t max_body_bytes = 1u << 20;

  // Replicas on etcd (docs/architecture.md, "Replicas on etcd"); no
  // endpoints: one process on its state directory.
  std::string etcd_endpoints; // host:port,...
  std::string etcd_prefix = "/disruption-manager/";
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  std::chrono::nanoseconds etcd_lease_ttl = std::chrono::seconds(3);
  std::string advertise_address; // empty: host name and -portNum
  std::string etcd_import;       // a state directory or state.json to copy
  // FleetLock (docs/protocol.md, "FleetLock")
  std::string fleetlock_base_path; // "" : /v1/... at the root
  std::uint64_t fleetlock_default_limit = 1;
  std::string fleetlock_allowed_networks; // CIDR list; "": none
  std::string fleetlock_ready_timeout;    // "" : no ready delay
  std::string fleetlock_ready_url;        // "" : no ready URL
  // Blocking alerts (docs/semantics.md, "Blocking alerts")
  std::string blocking_alerts_url; // Prometheus; "" : off
  std::string blocking_alerts_match = ".*";
  std::chrono::nanoseconds blocking_alerts_interval = std::chrono::seconds(5);
  std::string blocking_alerts_unavailable = "block"; // or "ignore"
};

// The original's default for -srpcUnixSocketPath: "@SRPC.<pid>".
std::string default_unix_socket_path(long pid);

// Reads `config_dir`/flags.default and flags.extra, then the command line,
// into `config` (whose unix_socket_path default is made from `pid`), and
// checks the values. Returns nullopt when the service is to run; otherwise
// the exit status, with the help (-h), the version (-version) or a one-line
// reason written to `err`: 0 for -h and -version, 2 for a bad flag or
// value, as Go's flag package exits.
std::optional<int> parse_service_config(int argc, const char* const* argv,
                                        const std::string& config_dir, long pid,
                                        service_config& config,
                                        std::ostream& err);

} // namespace dm

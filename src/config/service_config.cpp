// The service's flags and their checks.
#include "config/service_config.hpp"

#include <regex>

#include "config/flag_set.hpp"
#include "duration/go_duration.hpp"

namespace dm {

namespace {

constexpr const char* program = "disruption-manager";

void add_flags(flag_set& flags, service_config& c) {
  // The original's own flags.
  flags.add_uint("portNum", &c.port,
                 "Port number to allocate and listen on for HTTP/RPC");
  flags.add_string("stateDir", &c.state_dir, "Name of state directory");
  flags.add_duration("maximumPermittedDuration", &c.max_duration,
                     "Maximum time disruption will be permitted after last "
                     "request");
  flags.add_bool("generateMissingWebcert", &c.generate_webcert,
                 "If true, generate a missing webcert (for SRPC server)");
  flags.add_action("version", "Print version information and exit");

  // Logging, as lib/logbuf and lib/log/serverlogger.
  flags.add_string("logDir", &c.log_dir,
                   "Directory to write log data to. If empty, no logs are "
                   "written");
  flags.add_uint("logbufLines", &c.logbuf_lines,
                 "Number of lines to store in the log buffer");
  flags.add_size("logFileMaxSize", &c.log_file_max_bytes,
                 "Maximum size for a log file. If exceeded, new file is "
                 "created");
  flags.add_size("logQuota", &c.log_quota_bytes,
                 "Log quota. If exceeded, old logs are deleted");
  flags.add_bool("alsoLogToStderr", &c.also_log_to_stderr,
                 "If true, also write logs to stderr");
  flags.add_duration("idleMarkTimeout", &c.idle_mark_timeout,
                     "time after last log before a 'MARK' message is written "
                     "to logfile");
  flags.add_int("initialLogDebugLevel", &c.initial_log_debug_level,
                "initial debug log level");
  flags.add_bool("logAtStartup", &c.log_at_startup,
                 "If true, write a log entry at startup");
  flags.add_bool("logSubseconds", &c.log_subseconds,
                 "if true, datestamps will have subsecond resolution");

  // TLS and SRPC, as lib/srpc/setupserver and lib/srpc.
  flags.add_string("CAfile", &c.ca_file,
                   "Name of file containing the root of trust for identity "
                   "and methods");
  flags.add_string("identityCAfile", &c.identity_ca_file,
                   "Name of file containing the root of trust for identity "
                   "only");
  flags.add_string("certFile", &c.cert_file,
                   "Name of file containing the SSL certificate");
  flags.add_string("keyFile", &c.key_file,
                   "Name of file containing the SSL key");
  flags.add_list("srpcTrustedUsers", &c.trusted_users,
                 "List of users trusted for all method access");
  flags.add_list("srpcTrustedGroups", &c.trusted_groups,
                 "List of groups trusted for all method access");
  flags.add_duration("srpcDefaultTlsHandshakeTimeout", &c.tls_handshake_timeout,
                     "Default timeout (I/O deadline) during TLS handshake");
  flags.add_duration("srpcDefaultKeepAlivePeriod", &c.keep_alive_period,
                     "Default TCP keep-alive period");
  flags.add_string("srpcUnixSocketPath", &c.unix_socket_path,
                   "Pathname for server Unix sockets");
  flags.add_duration("srpcDefaultConnectTimeout", &c.connect_timeout,
                     "Default timeout (I/O deadline) during HTTP CONNECT "
                     "(SRPC clients only: no effect here)");
  flags.add_string("srpcProxy", &c.srpc_proxy,
                   "Proxy to use (only works for some operations) (SRPC "
                   "clients only: no effect here)");
  flags.add_bool("srpcClientDoNotUseMethodPowers",
                 &c.client_do_not_use_method_powers,
                 "If true, do not use method powers when connecting to "
                 "servers (SRPC clients only: no effect here)");
  flags.add_bool("srpcTrustVmOwners", &c.trust_vm_owners,
                 "If true, trust the SmallStack VM owners for all method "
                 "access (SmallStack only: no effect here)");

  // This service's own.
  flags.add_bool("allowRoot", &c.allow_root, "If true, allow running as root");
  flags.add_uint("ioThreads", &c.io_threads,
                 "Number of threads serving connections");
  flags.add_uint("actorThreads", &c.actor_threads,
                 "Number of actor scheduler threads (0: the cores the I/O "
                 "threads leave, at least 1)");
  flags.add_string("scheduler", &c.scheduler,
                   "Actor scheduler policy: sharing (threads sleep when idle) "
                   "or stealing (work stealing, with polling)");
  flags.add_bool("answerChecksLocally", &c.local_checks,
                 "If true, I/O threads answer checks from their copy of the "
                 "saved state when the answer is certain");
  flags.add_bool("tlsLegacyCiphers", &c.tls_legacy_ciphers,
                 "If true, also offer TLS 1.2 cipher suites without forward "
                 "secrecy or AEAD (static RSA, CBC)");
  flags.add_uint("maxConnections", &c.max_connections,
                 "Maximum number of open client connections");
  flags.add_duration("idleTimeout", &c.idle_timeout,
                     "Close connections idle for this long (at least 1s)");
  flags.add_duration("requestTimeout", &c.request_timeout,
                     "Close connections whose request takes longer than this "
                     "to arrive (at least 1s)");
  flags.add_uint("maxRequestBytes", &c.max_body_bytes,
                 "Largest request body accepted (at least 1024)");
  flags.add_string("etcdEndpoints", &c.etcd_endpoints,
                   "If set, keep the state in this etcd v3 cluster "
                   "(host:port,...) and run as one of several replicas");
  flags.add_string("etcdPrefix", &c.etcd_prefix,
                   "Key prefix of the state and the election in etcd");
  flags.add_string("etcdCAfile", &c.etcd_ca_file,
                   "CA certificate of the etcd members (TLS to etcd)");
  flags.add_string("etcdCertFile", &c.etcd_cert_file,
                   "Client certificate for etcd");
  flags.add_string("etcdKeyFile", &c.etcd_key_file,
                   "Key of the client certificate for etcd");
  flags.add_duration("etcdLeaseTTL", &c.etcd_lease_ttl,
                     "Lease of the leader in etcd: a dead leader is replaced "
                     "after about this long (whole seconds, 2s to 60s)");
  flags.add_string("advertiseAddress", &c.advertise_address,
                   "Address (host:port) the other replicas are told to use "
                   "for this one (default: host name and -portNum)");
  flags.add_string("etcdImport", &c.etcd_import,
                   "Copy this state directory or state.json into the empty "
                   "-etcdPrefix of -etcdEndpoints, then exit");
  flags.add_string("fleetLockBasePath", &c.fleetlock_base_path,
                   "Path under which FleetLock's /v1/pre-reboot and "
                   "/v1/steady-state are served (empty: the root)");
  flags.add_uint("fleetLockDefaultLimit", &c.fleetlock_default_limit,
                 "Machines of a FleetLock group that may reboot at once");
  flags.add_string("fleetLockAllowedNetworks", &c.fleetlock_allowed_networks,
                   "Comma-separated networks (CIDR) whose FleetLock clients "
                   "are served without a certificate (empty: none)");
  flags.add_string("fleetLockReadyTimeout", &c.fleetlock_ready_timeout,
                   "Ready gate of FleetLock groups: how long a freed slot "
                   "waits (as DisruptionManagerReadyTimeout)");
  flags.add_string("fleetLockReadyUrl", &c.fleetlock_ready_url,
                   "Ready gate of FleetLock groups: URL template that must "
                   "answer 200 before a freed slot is given again");
  flags.add_string("blockingAlertsUrl", &c.blocking_alerts_url,
                   "Base URL of a Prometheus server: while an alert matching "
                   "-blockingAlertsMatch fires, nothing new is granted "
                   "(empty: off)");
  flags.add_string("blockingAlertsMatch", &c.blocking_alerts_match,
                   "Regular expression an alert's name must match in full "
                   "to block");
  flags.add_duration("blockingAlertsInterval", &c.blocking_alerts_interval,
                     "Time between polls of Prometheus's alerts (at least "
                     "100ms)");
  flags.add_string("blockingAlertsUnavailable", &c.blocking_alerts_unavailable,
                   "When Prometheus is unreachable or answers garbage: block "
                   "(every group) or ignore");
}

// The checks of values each flag's type allows but the service cannot use.
// Returns the reason, or "" when all are good.
std::string check(const service_config& c) {
  if (c.port > 65535)
    return "invalid value \"" + std::to_string(c.port) +
           "\" for flag -portNum: out of range";
  if (c.max_duration.count() <= 0)
    return "invalid value for flag -maximumPermittedDuration: must be "
           "positive";
  // Timeouts are checked once a second, so a shorter one cannot hold.
  for (auto [name, value] :
       {std::pair{"idleTimeout", c.idle_timeout},
        std::pair{"requestTimeout", c.request_timeout},
        std::pair{"srpcDefaultTlsHandshakeTimeout", c.tls_handshake_timeout}})
    if (value < std::chrono::seconds(1))
      return std::string("invalid value for flag -") + name +
             ": must be at least 1s";
  if (c.keep_alive_period < std::chrono::seconds(1))
    return "invalid value for flag -srpcDefaultKeepAlivePeriod: must be at "
           "least 1s";
  if (c.idle_mark_timeout.count() < 0)
    return "invalid value for flag -idleMarkTimeout: must not be negative";
  if (c.max_connections == 0)
    return "invalid value for flag -maxConnections: must be at least 1";
  if (c.max_body_bytes < 1024)
    return "invalid value for flag -maxRequestBytes: must be at least 1024";
  if (c.io_threads == 0 || c.io_threads > 64)
    return "invalid value for flag -ioThreads: must be 1 to 64";
  if (c.scheduler != "stealing" && c.scheduler != "sharing")
    return "invalid value \"" + c.scheduler +
           "\" for flag -scheduler: stealing or sharing";
  if (!c.etcd_endpoints.empty()) {
    auto ttl = c.etcd_lease_ttl;
    if (ttl < std::chrono::seconds(2) || ttl > std::chrono::seconds(60) ||
        ttl % std::chrono::seconds(1) != std::chrono::nanoseconds(0))
      return "invalid value for flag -etcdLeaseTTL: whole seconds from 2s "
             "to 60s";
    if (c.etcd_prefix.empty() || c.etcd_prefix.back() != '/')
      return "invalid value \"" + c.etcd_prefix +
             "\" for flag -etcdPrefix: must end with /";
  }
  if (!c.etcd_import.empty() && c.etcd_endpoints.empty())
    return "flag -etcdImport needs -etcdEndpoints";
  const auto& base = c.fleetlock_base_path;
  if (!base.empty() && (base[0] != '/' || base.back() == '/' ||
                        base.find_first_of("?# ") != std::string::npos))
    return "invalid value \"" + base +
           "\" for flag -fleetLockBasePath: a path such as /fleetlock, "
           "without a trailing /";
  if (c.fleetlock_default_limit == 0)
    return "invalid value for flag -fleetLockDefaultLimit: must be at least 1";
  if (!c.fleetlock_ready_timeout.empty()) {
    auto parsed = parse_go_duration(c.fleetlock_ready_timeout);
    if (!parsed.error.empty())
      return "invalid value \"" + c.fleetlock_ready_timeout +
             "\" for flag -fleetLockReadyTimeout: " + parsed.error;
  }
  const auto& alerts = c.blocking_alerts_url;
  if (!alerts.empty() && alerts.rfind("http://", 0) != 0 &&
      alerts.rfind("https://", 0) != 0)
    return "invalid value \"" + alerts +
           "\" for flag -blockingAlertsUrl: an http:// or https:// URL";
  try {
    std::regex(c.blocking_alerts_match, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return "invalid value \"" + c.blocking_alerts_match +
           "\" for flag -blockingAlertsMatch: " + e.what();
  }
  if (c.blocking_alerts_interval < std::chrono::milliseconds(100))
    return "invalid value for flag -blockingAlertsInterval: must be at least "
           "100ms";
  if (c.blocking_alerts_unavailable != "block" &&
      c.blocking_alerts_unavailable != "ignore")
    return "invalid value \"" + c.blocking_alerts_unavailable +
           "\" for flag -blockingAlertsUnavailable: block or ignore";
  // An abstract name is at most 107 bytes after its "@", a path 107 bytes.
  if (c.unix_socket_path.size() > 107)
    return "invalid value for flag -srpcUnixSocketPath: longer than 107 "
           "bytes";
  return "";
}

} // namespace

std::string default_unix_socket_path(long pid) {
  return "@SRPC." + std::to_string(pid);
}

std::optional<int> parse_service_config(int argc, const char* const* argv,
                                        const std::string& config_dir, long pid,
                                        service_config& config,
                                        std::ostream& err) {
  config.unix_socket_path = default_unix_socket_path(pid);
  flag_set flags(program);
  add_flags(flags, config);
  auto show_version = [&] {
    // As the original's -version: the name and version on one line.
    err << program << " " << DM_VERSION << "\n";
    return 0;
  };
  std::string error;
  if (!flags.load_files(config_dir, error)) {
    err << error << "\n";
    return 2;
  }
  if (!flags.action_requested().empty())
    return show_version();
  if (!flags.parse(argc, argv, error)) {
    err << error << "\n" << flags.usage();
    return 2;
  }
  if (flags.help_requested()) {
    err << flags.usage();
    return 0;
  }
  if (!flags.action_requested().empty())
    return show_version();
  if (!flags.args().empty()) {
    err << "unexpected argument: " << flags.args().front() << "\n";
    return 2;
  }
  auto reason = check(config);
  if (!reason.empty()) {
    err << reason << "\n";
    return 2;
  }
  for (const char* name :
       {"srpcDefaultConnectTimeout", "srpcProxy",
        "srpcClientDoNotUseMethodPowers", "srpcTrustVmOwners"})
    if (flags.was_set(name))
      config.inert_flags_given.emplace_back(name);
  return std::nullopt;
}

} // namespace dm

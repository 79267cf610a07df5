// From flags to the parts' options.
#include "service/service_setup.hpp"

#include "net/ip_address.hpp"
#include "srpc/local_upgrade.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "etcd/etcd_store.hpp"
#include "files/file_io.hpp"
#include "storage/file_store.hpp"
#include "storage/legacy_state.hpp"

#include <unistd.h>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

namespace dm {

namespace {

std::chrono::milliseconds to_ms(std::chrono::nanoseconds value) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(value);
}

} // namespace

log_options log_options_from(const service_config& config) {
  log_options options;
  options.directory = config.log_dir;
  options.buffer_lines = config.logbuf_lines;
  options.also_to_stderr = config.also_log_to_stderr;
  options.file_max_bytes = config.log_file_max_bytes;
  options.quota_bytes = config.log_quota_bytes;
  options.subseconds = config.log_subseconds;
  options.idle_mark = config.idle_mark_timeout;
  options.debug = config.initial_log_debug_level >= 0;
  return options;
}

bool load_server_tls(const service_config& config,
                     std::shared_ptr<const tls_context>& tls,
                     std::string& error) {
  tls.reset();
  if (config.generate_webcert &&
      generate_missing_webcert(config.cert_file, config.key_file, error) ==
          webcert_status::failed) {
    error = "cannot generate webcert: " + error;
    return false;
  }
  if (::access(config.cert_file.c_str(), F_OK) != 0 &&
      ::access(config.key_file.c_str(), F_OK) != 0) {
    spdlog::warn("no server certificate at {}: serving plain HTTP and SRPC "
                 "only, and every caller is treated as powerless (may act "
                 "only for its own machine); admin operations (/api/v1/admin/) "
                 "are open to every caller on this host (loopback) and to "
                 "nobody else",
                 config.cert_file);
    return true;
  }
  server_tls_options options;
  options.cert_file = config.cert_file;
  options.key_file = config.key_file;
  options.ca_file = config.ca_file;
  options.identity_ca_file = config.identity_ca_file;
  options.trust.users = config.trusted_users;
  options.trust.groups = config.trusted_groups;
  options.legacy_ciphers = config.tls_legacy_ciphers;
  auto context = tls_context::make_server(options, error);
  if (!context) {
    error = "TLS: " + error;
    return false;
  }
  tls = std::make_shared<const tls_context>(std::move(*context));
  spdlog::info("TLS: certificate {}, client CA {}{}; plain SRPC refused",
               config.cert_file, config.ca_file,
               tls->has_identity_ca()
                   ? ", identity-only CA " + config.identity_ca_file
                   : std::string());
  if (!config.trusted_users.empty() || !config.trusted_groups.empty())
    spdlog::info("trusted for every method: users [{}], groups [{}]",
                 fmt::join(config.trusted_users, ", "),
                 fmt::join(config.trusted_groups, ", "));
  return true;
}

std::shared_ptr<web_context>
web_context_from(const service_config& config,
                 std::shared_ptr<const tls_context> tls) {
  auto web = std::make_shared<web_context>();
  web->tls_configured = tls != nullptr;
  web->version = DM_VERSION;
  web->started = wall_clock_now();
  web->max_duration = config.max_duration;
  web->limits.max_body_bytes = config.max_body_bytes;
  web->keep_alive_period = std::chrono::duration_cast<std::chrono::seconds>(
      config.keep_alive_period);
  // As the original, a socket that cannot be had is no reason not to run:
  // .LocalUpgradeToUnix then answers "no socket".
  if (!config.unix_socket_path.empty()) {
    std::string error;
    web->unix_listener =
        unix_upgrade_listener::open(config.unix_socket_path, error);
    if (!web->unix_listener)
      spdlog::warn("no Unix socket for local SRPC clients: {}", error);
    else
      spdlog::info("local SRPC clients may move to Unix socket {}",
                   config.unix_socket_path);
  }
  return web;
}

std::shared_ptr<const fleetlock_settings>
fleetlock_settings_from(const service_config& config, std::string& error) {
  auto settings = std::make_shared<fleetlock_settings>();
  if (!parse_ip_networks(config.fleetlock_allowed_networks,
                         settings->allowed_networks, error)) {
    error = "invalid value for flag -fleetLockAllowedNetworks: " + error;
    return nullptr;
  }
  settings->base_path = config.fleetlock_base_path;
  settings->default_limit = config.fleetlock_default_limit;
  settings->ready_timeout = config.fleetlock_ready_timeout;
  settings->ready_url = config.fleetlock_ready_url;
  if (settings->allowed_networks.empty())
    spdlog::info("FleetLock at {}/v1/: no client network is allowed "
                 "(-fleetLockAllowedNetworks), so only clients with a "
                 "certificate granting FleetLock.* are served",
                 settings->base_path);
  else
    spdlog::info("FleetLock at {}/v1/: clients from {} are served",
                 settings->base_path, config.fleetlock_allowed_networks);
  return settings;
}

service_options service_options_from(const service_config& config,
                                     std::shared_ptr<const tls_context> tls) {
  service_options options;
  options.port = static_cast<std::uint16_t>(config.port);
  options.max_duration = config.max_duration;
  options.io_threads = config.io_threads;
  options.actor_threads = config.actor_threads;
  options.scheduler = config.scheduler;
  options.local_checks = config.local_checks;
  options.blocking_alerts_url = config.blocking_alerts_url;
  options.blocking_alerts_match = config.blocking_alerts_match;
  options.blocking_alerts_interval = config.blocking_alerts_interval;
  options.block_when_alerts_unavailable =
      config.blocking_alerts_unavailable != "ignore";
  options.limits.max_connections = config.max_connections;
  options.limits.idle_timeout = to_ms(config.idle_timeout);
  options.limits.request_timeout = to_ms(config.request_timeout);
  options.limits.tls_handshake_timeout = to_ms(config.tls_handshake_timeout);
  options.tls = std::move(tls);
  return options;
}

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

etcd::client_options etcd_client_options(const service_config& config) {
  etcd::client_options options;
  options.endpoints = split_commas(config.etcd_endpoints);
  options.ca_file = config.etcd_ca_file;
  options.cert_file = config.etcd_cert_file;
  options.key_file = config.etcd_key_file;
  // Long enough to outlast an election among the etcd members (about a
  // second by etcd's defaults), short enough that a renewal still fits in
  // the lease.
  auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(
      config.etcd_lease_ttl);
  options.call_timeout = std::clamp<std::chrono::milliseconds>(
      ttl / 2, std::chrono::seconds(1), std::chrono::seconds(3));
  return options;
}

} // namespace

replication_options replication_options_from(const service_config& config) {
  replication_options options;
  options.etcd = etcd_client_options(config);
  options.prefix = config.etcd_prefix;
  options.lease_ttl =
      std::chrono::duration_cast<std::chrono::seconds>(config.etcd_lease_ttl);
  options.advertise = config.advertise_address;
  if (options.advertise.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
      std::snprintf(host, sizeof(host), "localhost");
    options.advertise = std::string(host) + ":" + std::to_string(config.port);
  }
  return options;
}

int run_etcd_import(const service_config& config, std::ostream& out) {
  std::string path = config.etcd_import;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    out << "etcd import: " << path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string error;
  std::optional<stored_state> state;
  if (S_ISDIR(info.st_mode)) {
    // Read only: a directory that is no state directory is refused, never
    // made into one.
    std::string probe;
    bool any = false;
    for (const char* name : {"state.snapshot", "state.journal", "state.json"})
      any = any || ::access((path + "/" + name).c_str(), F_OK) == 0;
    if (!any) {
      out << "etcd import: " << path
          << " holds no state (state.snapshot, state.journal or state.json)\n";
      return 1;
    }
    file_store_options options;
    options.directory = path;
    std::vector<std::string> notes;
    auto store = file_store::open(options, error, notes);
    for (const auto& note : notes)
      out << "etcd import: " << note << "\n";
    if (!store) {
      out << "etcd import: " << error << "\n";
      return 1;
    }
    state = store->loaded();
  } else {
    std::string text;
    if (read_whole_file(path, 1u << 30, text, error) != read_status::ok) {
      out << "etcd import: cannot read " << path << ": " << error << "\n";
      return 1;
    }
    state = parse_legacy_state(text, wall_clock_now(), error);
    if (!state) {
      out << "etcd import: " << path << ": " << error << "\n";
      return 1;
    }
  }
  auto client = etcd::client::connect(etcd_client_options(config), error);
  std::size_t written = 0;
  if (!client || !etcd::import_state(*client, config.etcd_prefix, *state,
                                     written, error)) {
    out << "etcd import: " << error << "\n";
    return 1;
  }
  out << "etcd import: " << state->host_count() << " machines in "
      << state->groups.size() << " groups from " << path << " written to "
      << config.etcd_prefix << " (" << written << " keys)\n";
  return 0;
}

} // namespace dm

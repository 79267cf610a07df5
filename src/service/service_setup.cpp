// From flags to the parts' options.
#include "service/service_setup.hpp"

#include "srpc/local_upgrade.hpp"

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
                 "only for its own machine)",
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

service_options service_options_from(const service_config& config,
                                     std::shared_ptr<const tls_context> tls) {
  service_options options;
  options.port = static_cast<std::uint16_t>(config.port);
  options.max_duration = config.max_duration;
  options.io_threads = config.io_threads;
  options.actor_threads = config.actor_threads;
  options.scheduler = config.scheduler;
  options.local_checks = config.local_checks;
  options.limits.max_connections = config.max_connections;
  options.limits.idle_timeout = to_ms(config.idle_timeout);
  options.limits.request_timeout = to_ms(config.request_timeout);
  options.limits.tls_handshake_timeout = to_ms(config.tls_handshake_timeout);
  options.tls = std::move(tls);
  return options;
}

} // namespace dm

// disruption-manager: parse flags, open the state, start the service, and
// run until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "config/flag_set.hpp"
#include "duration/go_duration.hpp"
#include "logging/log_setup.hpp"
#include "service/service.hpp"
#include "storage/file_store.hpp"
#include "tls/tls_context.hpp"
#include "web/web_context.hpp"

namespace {

constexpr const char* program = "disruption-manager";

} // namespace

int main(int argc, char** argv) {
  std::uint64_t port = 6979;
  std::string state_dir = "/var/lib/disruption-manager";
  std::chrono::nanoseconds max_duration = std::chrono::hours(1);
  std::string log_dir = "/var/log/disruption-manager";
  std::uint64_t logbuf_lines = 1024;
  std::uint64_t log_quota_mb = 10;
  bool also_stderr = false;
  bool allow_root = false;
  std::uint64_t io_threads = 1;
  std::uint64_t actor_threads = 0;
  std::string scheduler = "sharing";
  std::uint64_t max_connections = 10000;
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(2);
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(10);
  std::uint64_t max_body_bytes = 1 << 20;
  std::string ca_file = "/etc/ssl/CA.pem";
  std::string cert_file = "/etc/ssl/disruption-manager/cert.pem";
  std::string key_file = "/etc/ssl/disruption-manager/key.pem";
  bool generate_webcert = false;
  bool local_checks = true;

  dm::flag_set flags(program);
  flags.add_uint("portNum", &port,
                 "Port number to allocate and listen on for HTTP/RPC");
  flags.add_string("stateDir", &state_dir, "Name of state directory");
  flags.add_duration("maximumPermittedDuration", &max_duration,
                     "Maximum time disruption will be permitted after last "
                     "request");
  flags.add_string("logDir", &log_dir, "Directory to write log files to");
  flags.add_uint("logbufLines", &logbuf_lines,
                 "Number of log lines to keep in memory for /logs");
  flags.add_uint("logQuota", &log_quota_mb,
                 "Log file quota in MiB (files rotate within it)");
  flags.add_bool("alsoLogToStderr", &also_stderr,
                 "If true, also write logs to stderr");
  flags.add_bool("allowRoot", &allow_root, "If true, allow running as root");
  flags.add_uint("ioThreads", &io_threads,
                 "Number of threads serving connections");
  flags.add_uint("actorThreads", &actor_threads,
                 "Number of actor scheduler threads (0: the cores the I/O "
                 "threads leave, at least 1)");
  flags.add_string("scheduler", &scheduler,
                   "Actor scheduler policy: sharing (threads sleep when idle) "
                   "or stealing (work stealing, with polling)");
  flags.add_bool("answerChecksLocally", &local_checks,
                 "If true, I/O threads answer checks from their copy of the "
                 "saved state when the answer is certain");
  flags.add_uint("maxConnections", &max_connections,
                 "Maximum number of open client connections");
  flags.add_duration("idleTimeout", &idle_timeout,
                     "Close connections idle for this long (at least 1s)");
  flags.add_duration("requestTimeout", &request_timeout,
                     "Close connections whose request takes longer than this "
                     "to arrive (at least 1s)");
  flags.add_uint("maxRequestBytes", &max_body_bytes,
                 "Largest request body accepted (at least 1024)");
  flags.add_string("CAfile", &ca_file,
                   "Name of file containing the root of trust for client "
                   "certificates");
  flags.add_string("certFile", &cert_file,
                   "Name of file containing the server certificate");
  flags.add_string("keyFile", &key_file,
                   "Name of file containing the server key");
  flags.add_bool("generateMissingWebcert", &generate_webcert,
                 "If true, generate a missing webcert (for SRPC server)");

  std::string error;
  for (const char* file : {"flags.default", "flags.extra"}) {
    if (!flags.load_file(std::string("/etc/") + program + "/" + file, error)) {
      std::cerr << error << "\n";
      return 2;
    }
  }
  if (!flags.parse(argc, argv, error)) {
    std::cerr << error << "\n" << flags.usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cerr << flags.usage();
    return 0;
  }
  if (!flags.args().empty()) {
    std::cerr << "unexpected argument: " << flags.args().front() << "\n";
    return 2;
  }
  if (port > 65535) {
    std::cerr << "invalid value \"" << port
              << "\" for flag -portNum: out of range\n";
    return 2;
  }
  if (max_duration.count() <= 0) {
    std::cerr << "invalid value for flag -maximumPermittedDuration: must be "
                 "positive\n";
    return 2;
  }
  // Timeouts are checked once a second, so a shorter one cannot hold.
  for (auto [name, value] : {std::pair{"idleTimeout", idle_timeout},
                             std::pair{"requestTimeout", request_timeout}})
    if (value < std::chrono::seconds(1)) {
      std::cerr << "invalid value for flag -" << name
                << ": must be at least 1s\n";
      return 2;
    }
  if (max_connections == 0) {
    std::cerr << "invalid value for flag -maxConnections: must be at least "
                 "1\n";
    return 2;
  }
  if (max_body_bytes < 1024) {
    std::cerr << "invalid value for flag -maxRequestBytes: must be at least "
                 "1024\n";
    return 2;
  }
  if (io_threads == 0 || io_threads > 64) {
    std::cerr << "invalid value for flag -ioThreads: must be 1 to 64\n";
    return 2;
  }
  if (scheduler != "stealing" && scheduler != "sharing") {
    std::cerr << "invalid value \"" << scheduler
              << "\" for flag -scheduler: stealing or sharing\n";
    return 2;
  }
  if (::geteuid() == 0 && !allow_root) {
    std::cerr << "Do not run the Disruption Manager as root "
                 "(use -allowRoot to override)\n";
    return 1;
  }

  // Each connection is a descriptor: use all the kernel allows us.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }

  // Signals are taken by sigwait below; threads started later inherit this.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file size limit (a full quota) must fail the write, not kill us.
  std::signal(SIGXFSZ, SIG_IGN);

  dm::log_options log_opts;
  log_opts.directory = log_dir;
  log_opts.buffer_lines = logbuf_lines;
  log_opts.also_to_stderr = also_stderr;
  log_opts.quota_bytes = log_quota_mb << 20;
  std::string log_warning;
  auto logs = std::make_shared<dm::log_setup>(log_opts, log_warning);
  if (!log_warning.empty())
    spdlog::warn("{}", log_warning);

  dm::file_store_options store_opts;
  store_opts.directory = state_dir;
  std::vector<std::string> notes;
  std::shared_ptr<dm::file_store> store =
      dm::file_store::open(store_opts, error, notes);
  for (const auto& note : notes)
    spdlog::warn("{}", note);
  if (!store) {
    spdlog::critical("Unable to create Disruption Manager: {}", error);
    std::cerr << "Unable to create Disruption Manager: " << error << "\n";
    return 1;
  }
  spdlog::info("state: {}", store->describe());

  std::shared_ptr<const dm::tls_context> tls;
  if (generate_webcert) {
    if (dm::generate_missing_webcert(cert_file, key_file, error) ==
        dm::webcert_status::failed) {
      spdlog::critical("cannot generate webcert: {}", error);
      std::cerr << "cannot generate webcert: " << error << "\n";
      return 1;
    }
  }
  if (::access(cert_file.c_str(), F_OK) == 0 ||
      ::access(key_file.c_str(), F_OK) == 0) {
    auto context =
        dm::tls_context::make_server({cert_file, key_file, ca_file}, error);
    if (!context) {
      spdlog::critical("TLS: {}", error);
      std::cerr << "TLS: " << error << "\n";
      return 1;
    }
    tls = std::make_shared<const dm::tls_context>(std::move(*context));
    spdlog::info("TLS: certificate {}, client CA {}; plain SRPC refused",
                 cert_file, ca_file);
  } else {
    spdlog::warn("no server certificate at {}: serving plain HTTP and SRPC "
                 "only, and every caller is treated as powerless (may act "
                 "only for its own machine)",
                 cert_file);
  }

  auto web = std::make_shared<dm::web_context>();
  web->tls_configured = tls != nullptr;
  web->version = DM_VERSION;
  web->started = dm::wall_clock_now();
  web->max_duration = max_duration;
  web->limits.max_body_bytes = max_body_bytes;
  web->logs_text = [logs] { return logs->recent_text(); };

  dm::service_options opts;
  opts.port = static_cast<std::uint16_t>(port);
  opts.max_duration = max_duration;
  opts.io_threads = io_threads;
  opts.actor_threads = actor_threads;
  opts.scheduler = scheduler;
  opts.local_checks = local_checks;
  opts.limits.max_connections = max_connections;
  opts.limits.idle_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout);
  opts.limits.request_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(request_timeout);
  opts.http = web->limits;
  opts.tls = tls;
  auto svc = dm::service::start(opts, store, web, error);
  if (!svc) {
    spdlog::critical("{}", error);
    std::cerr << error << "\n";
    return 1;
  }
  spdlog::info("disruption-manager {} listening on port {} (maximum permitted "
               "duration {})",
               DM_VERSION, svc->port(), dm::format_go_duration(max_duration));
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("stopping on signal {}", received);
  svc->stop();
  return 0;
}

// disruption-manager: parse flags, open the state, start the service, and
// run until SIGINT or SIGTERM.
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/service_config.hpp"
#include "duration/go_duration.hpp"
#include "service/service.hpp"
#include "service/service_setup.hpp"
#include "storage/file_store.hpp"

int main(int argc, char** argv) {
  dm::service_config config;
  if (auto status = dm::parse_service_config(
          argc, argv, "/etc/disruption-manager", ::getpid(), config, std::cerr))
    return *status;
  if (::geteuid() == 0 && !config.allow_root) {
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

  std::string log_warning;
  auto logs = std::make_shared<dm::log_setup>(dm::log_options_from(config),
                                              log_warning);
  if (config.log_at_startup)
    spdlog::info("Startup: disruption-manager {}", DM_VERSION);
  if (!log_warning.empty())
    spdlog::warn("{}", log_warning);
  if (!config.inert_flags_given.empty())
    spdlog::info("flags with no effect here (they steer SRPC clients or "
                 "SmallStack): -{}",
                 fmt::join(config.inert_flags_given, ", -"));

  std::string error;
  if (!config.etcd_import.empty())
    return dm::run_etcd_import(config, std::cerr);
  std::shared_ptr<dm::file_store> store;
  if (config.etcd_endpoints.empty()) {
    dm::file_store_options store_opts;
    store_opts.directory = config.state_dir;
    std::vector<std::string> notes;
    store = dm::file_store::open(store_opts, error, notes);
    for (const auto& note : notes)
      spdlog::warn("{}", note);
    if (!store) {
      spdlog::critical("Unable to create Disruption Manager: {}", error);
      std::cerr << "Unable to create Disruption Manager: " << error << "\n";
      return 1;
    }
    spdlog::info("state: {}", store->describe());
  }

  std::shared_ptr<const dm::tls_context> tls;
  if (!dm::load_server_tls(config, tls, error)) {
    spdlog::critical("{}", error);
    std::cerr << error << "\n";
    return 1;
  }
  auto web = dm::web_context_from(config, tls);
  web->fleetlock = dm::fleetlock_settings_from(config, error);
  if (!web->fleetlock) {
    spdlog::critical("{}", error);
    std::cerr << error << "\n";
    return 2;
  }
  web->logs_text = [logs] { return logs->recent_text(); };
  auto opts = dm::service_options_from(config, tls);
  auto svc = store
                 ? dm::service::start(opts, store, web, error)
                 : dm::service::start_replica(
                       opts, dm::replication_options_from(config), web, error);
  if (!svc) {
    spdlog::critical("{}", error);
    std::cerr << error << "\n";
    return 1;
  }
  spdlog::info("disruption-manager {} listening on port {} (maximum permitted "
               "duration {})",
               DM_VERSION, svc->port(),
               dm::format_go_duration(config.max_duration));
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("stopping on signal {}", received);
  svc->stop();
  return 0;
}

// From the checked flags (service_config) to what the parts of the service
// take: the log options, the TLS context, the web context and the service
// options.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "config/service_config.hpp"
#include "fleetlock/fleetlock.hpp"
#include "logging/log_setup.hpp"
#include "service/service.hpp"
#include "tls/tls_context.hpp"
#include "web/web_context.hpp"

namespace dm {

log_options log_options_from(const service_config& config);

// The server's TLS context when a certificate or key file exists (after
// writing a self-signed one for -generateMissingWebcert); null without.
// False with `error` when the files are there but unusable.
bool load_server_tls(const service_config& config,
                     std::shared_ptr<const tls_context>& tls,
                     std::string& error);

std::shared_ptr<web_context>
web_context_from(const service_config& config,
                 std::shared_ptr<const tls_context> tls);

// FleetLock's settings from the -fleetLock* flags; null, with `error`
// saying why, when the networks cannot be read. The start-up log says who
// may use FleetLock.
std::shared_ptr<const fleetlock_settings>
fleetlock_settings_from(const service_config& config, std::string& error);

service_options service_options_from(const service_config& config,
                                     std::shared_ptr<const tls_context> tls);

// The etcd side of a replica (-etcdEndpoints and the flags beside it).
replication_options replication_options_from(const service_config& config);

// -etcdImport: copies a state directory (or the original's state.json, or
// a directory holding one) into the empty -etcdPrefix; the exit status,
// with what happened written to `out`.
int run_etcd_import(const service_config& config, std::ostream& out);

} // namespace dm

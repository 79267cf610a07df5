// What the HTTP side knows of the service beyond the actors: identity,
// limits, and the providers of the log and metrics pages.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "disruption/group_book.hpp"
#include "codec/http_request.hpp"
#include "model/replica_role.hpp"

namespace dm {

class unix_upgrade_listener;
class replay_guard;
struct fleetlock_settings;

struct web_context {
  std::string version;
  timestamp started;
  std::chrono::nanoseconds max_duration{std::chrono::hours(1)};
  http_limits limits;
  // SO_KEEPALIVE probes on SRPC connections start after this much quiet
  // (-srpcDefaultKeepAlivePeriod).
  std::chrono::seconds keep_alive_period{300};
  // The -srpcUnixSocketPath socket for .LocalUpgradeToUnix; null: none.
  std::shared_ptr<unix_upgrade_listener> unix_listener;
  // How FleetLock is served (-fleetLock* flags); null: not at all.
  std::shared_ptr<const fleetlock_settings> fleetlock;
  bool tls_configured = false;            // a server certificate is loaded
  std::function<std::string()> logs_text; // /logs body, newest last
  // Replicated: who leads, as this replica sees it; empty: one process.
  std::function<replica_role()> role;
  // Replicated: the secret that signs calls forwarded between replicas,
  // and what refuses a signed message taken before.
  std::string replica_secret;
  std::shared_ptr<replay_guard> replay;
  // Replicated: while this replica may decide, the etcd revision every
  // answer it gave so far depends on; nothing otherwise.
  std::function<std::optional<std::int64_t>()> leader_revision;
};

timestamp wall_clock_now();

} // namespace dm

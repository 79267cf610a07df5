// What the HTTP side knows of the service beyond the actors: identity,
// limits, and the providers of the log and metrics pages.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "disruption/group_book.hpp"
#include "http/http_request.hpp"

namespace dm {

struct web_context {
  std::string version;
  timestamp started;
  std::chrono::nanoseconds max_duration{std::chrono::hours(1)};
  http_limits limits;
  // SO_KEEPALIVE probes on SRPC connections start after this much quiet
  // (-srpcDefaultKeepAlivePeriod).
  std::chrono::seconds keep_alive_period{300};
  bool tls_configured = false;            // a server certificate is loaded
  std::function<std::string()> logs_text; // /logs body, newest last
};

timestamp wall_clock_now();

} // namespace dm

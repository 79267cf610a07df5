// disruption-manager-admin: an operator's levers over the admin API
// (docs/protocol.md, "Admin API"), one operation per run.
#pragma once

#include <ostream>
#include <string>

namespace dm {

// Every outcome has its own exit status.
enum class admin_exit : int {
  done = 0,
  usage = 2,        // bad flag, operation, argument or URL; unusable TLS files
  transport = 3,    // no connection, TLS handshake failed, timeout, cut off
  refused = 4,      // the server refused the caller (403/401: no power)
  rejected = 5,     // the server rejected the input (other 4xx)
  server_error = 6, // the server failed (5xx) or answered something unreadable
  internal = 7,     // a bug: an unexpected exception
};

// The whole program: flags from `config_dir`/flags.default and flags.extra,
// then the command line. The server's answer goes to `out`, a one-line
// reason to `err`. Returns the exit status.
int run_admin_client(int argc, const char* const* argv,
                     const std::string& config_dir, std::ostream& out,
                     std::ostream& err);

} // namespace dm

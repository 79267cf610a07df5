// The program subd runs before a disruptive update: sends this machine's
// record to the Disruption Manager (REST or SRPC) and turns the answer into
// the exit code subd reads.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "model/machine_record.hpp"
#include "tls/tls_context.hpp"

namespace dm {

// subd reads 0, 1 and 2; any other code is an error, which it retries.
enum class client_exit : int {
  permitted = 0,
  requested = 1,
  denied = 2,
  usage = 3,        // bad flag, operation or URL; unusable TLS files
  record = 4,       // the record file cannot be read or is no record
  transport = 5,    // no connection, TLS handshake failed, timeout, cut off
  server_error = 6, // the server answered an error, or something unreadable
  internal = 7,     // a bug: an unexpected exception
};

constexpr int to_int(client_exit code) {
  return static_cast<int>(code);
}

struct client_options {
  std::string url = "http://localhost:6979/api/v1/request";
  std::string mdb_file;  // empty: the record is {Hostname: local_fqdn()}
  std::string cert_file; // client certificate; selects TLS for srpc://
  std::string key_file;
  std::string ca_file;               // verifies the server's certificate
  bool insecure_skip_verify = false; // TLS without -CAfile, by request only
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  std::string source_address; // local address to connect from, if set
};

struct client_result {
  client_exit code = client_exit::usage;
  disruption_state state = disruption_state::anytime; // for codes 0 to 2
  std::string error; // one line, for codes from 3
};

// Server texts may span lines; the caller's log wants one (cut at `limit`).
std::string one_line(std::string_view text, std::size_t limit = 300);

// The TLS context the flags ask for: the client certificate, and the
// server's verified with -CAfile (or, by request only, not at all). On
// failure nullopt with a one-line reason.
std::optional<std::shared_ptr<const tls_context>>
make_client_tls(const client_options& options, std::string& error);

// anytime (no disruption manager in the way) counts as permitted, as subd
// treats it.
client_exit exit_for_state(disruption_state state);

// This host's fully qualified name: the canonical name of gethostname(),
// or the bare name when it does not resolve.
std::string local_fqdn();

// The record sent with every request: the JSON file (mdb.Machine with Go's
// field names) or, without a file, just {Hostname: local_fqdn()}. A record
// without Hostname gets local_fqdn() too. On failure returns nullopt with a
// one-line reason naming the file.
std::optional<machine_record> load_machine_record(const std::string& mdb_file,
                                                  std::string& error);

// Sends one request and maps the answer; never throws for bad input.
client_result ask_disruption_manager(const client_options& options,
                                     request_kind kind,
                                     const machine_record& machine);

// The whole program: flags from `config_dir`/flags.default and flags.extra,
// then the command line; the state's name goes to `out`, a one-line reason
// to `err`. Returns the exit code.
int run_disruption_client(int argc, const char* const* argv,
                          const std::string& config_dir, std::ostream& out,
                          std::ostream& err);

} // namespace dm

// A blocking SRPC client for the DisruptionManager service: CONNECT (plain
// or TLS after the CONNECT reply, as Go clients do), then any number of
// calls. Used by the client program and the end-to-end tests.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "model/machine_record.hpp"
#include "codec/gob.hpp"
#include "srpc/srpc_protocol.hpp"
#include "tls/tls_context.hpp"
#include "tls/tls_session.hpp"

namespace dm {

struct srpc_client_options {
  std::string host = "127.0.0.1";
  int port = 6979;
  std::string source_address; // bind to this local address first, if set
  srpc_coder coder = srpc_coder::gob;
  std::shared_ptr<const tls_context> tls; // null: plain SRPC
  bool tls_first = false; // TLS, then CONNECT inside it (instead of after)
  bool do_not_use_method_powers = false;
  std::chrono::milliseconds timeout{10000}; // for each wait
  // When set, everything (connecting, each read) must be done by then: a
  // limit on the whole exchange, however the server paces its bytes.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

class srpc_client {
public:
  // Connects and sends CONNECT. On a refusal, `error` holds the server's
  // status line ("HTTP/1.1 405 Method Not Allowed").
  static std::unique_ptr<srpc_client>
  connect(const srpc_client_options& options, std::string& error);
  ~srpc_client();

  // One call. Returns false with `error` on a transport or protocol failure
  // (an error line from the server included); on success `response_error`
  // is the response's Error field and `state` its state.
  bool call(request_kind kind, const machine_record& machine,
            disruption_state& state, std::string& response_error,
            std::string& error);

  // Moves the connection to the server's Unix socket as Dominator's client
  // does for a server on its own host (lib/srpc's localAttemptUpgradeToUnix):
  // the .LocalUpgradeToUnix call, the server cookie sent on the Unix
  // socket, and the client cookie received back on it. False with `error`
  // when the server refuses or any step fails; the connection then stays
  // where it was if it can.
  bool upgrade_to_unix(std::string& error);
  // True when the connection now runs over a Unix socket.
  bool on_unix_socket() const;

  // Lower-level steps, for tests of the protocol itself.
  bool send_raw(std::string_view bytes, std::string& error);
  bool read_line(std::string& line, std::string& error);
  bool ping(std::string& error);

private:
  srpc_client() = default;
  bool fill(std::string& error); // reads more into buffer_
  bool flush_tls(std::string& error);
  // Reads one .LocalUpgradeToUnix value from the server.
  bool read_upgrade_value(gob_upgrade_decoder& decoder,
                          unix_upgrade_value& value, std::string& error);

  int fd_ = -1;
  srpc_client_options options_;
  std::unique_ptr<tls_session> tls_;
  std::string buffer_; // plaintext received, not yet used
};

} // namespace dm

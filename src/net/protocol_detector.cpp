// First-bytes dispatch.
#include "net/protocol_detector.hpp"

#include "http/http_protocol.hpp"

namespace dm {

protocol_detector::protocol_detector(std::shared_ptr<const web_context> ctx)
    : ctx_(std::move(ctx)) {
  // nop
}

void protocol_detector::on_input(connection& conn) {
  if (conn.input.empty())
    return;
  if (!conn.encrypted && conn.loop->tls_available() &&
      starts_tls_handshake(static_cast<unsigned char>(conn.input[0]))) {
    // TLS first; the same dispatch happens again on what it decrypts.
    conn.loop->start_tls(conn);
    return;
  }
  conn.loop->switch_protocol(conn, std::make_unique<http_protocol>(ctx_));
}

} // namespace dm

// First-bytes dispatch.
#include "http/protocol_detector.hpp"

#include "http/http_protocol.hpp"
#include "tls/tls_session.hpp"

namespace dm {

protocol_detector::protocol_detector(std::shared_ptr<const web_context> ctx)
    : ctx_(std::move(ctx)) {
  // nop
}

void protocol_detector::on_input(channel& ch) {
  if (ch.input().empty())
    return;
  if (!ch.encrypted() && ch.tls_available() &&
      starts_tls_handshake(static_cast<unsigned char>(ch.input()[0]))) {
    // TLS first; the same dispatch happens again on what it decrypts.
    ch.start_tls();
    return;
  }
  ch.switch_protocol(std::make_unique<http_protocol>(ctx_));
}

} // namespace dm

// One exchange over TLS on a connected socket, for tests that speak to the
// server below the clients: the handshake, `request` as plaintext, then
// reading until `done(plaintext so far, session)` says so, the peer stops,
// or the socket's receive timeout passes. Returns the plaintext received.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <string>

#include "tls/tls_context.hpp"
#include "tls/tls_session.hpp"

namespace dm::test {

inline std::string tls_exchange(
    int fd, const tls_context& context, const std::string& request,
    const std::function<bool(const std::string&, const tls_session&)>& done) {
  tls_session tls(context, "127.0.0.1");
  tls.write_plaintext(request);
  std::string plain;
  for (int i = 0; i < 1000 && !tls.failed() && !done(plain, tls); ++i) {
    std::string out;
    tls.take_ciphertext(out);
    if (!out.empty())
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    char buffer[16384];
    auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0)
      break;
    tls.feed_ciphertext(buffer, static_cast<std::size_t>(n));
    tls.read_plaintext(plain);
  }
  return plain;
}

} // namespace dm::test

// TLS for tests that speak to the server below the clients: a pump that
// drives a session over a connected socket, one exchange (the handshake,
// `request` as plaintext, then reading until `done(plaintext so far,
// session)` says so, the peer stops, or the socket's receive timeout
// passes), a byte sender for tricklers, and one HTTPS POST.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <string_view>

#include "tls/tls_context.hpp"
#include "tests/support/server_process.hpp"
#include "tls/tls_session.hpp"

namespace dm::test {

// Drives `tls` on the connected socket `fd`: sends what it has to send,
// feeds what comes back, until `done` says so, the session fails, the peer
// stops, or the socket's receive timeout passes. Returns the plaintext
// received.
inline std::string tls_pump(
    int fd, tls_session& tls,
    const std::function<bool(const std::string&, const tls_session&)>& done) {
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

inline std::string tls_exchange(
    int fd, const tls_context& context, const std::string& request,
    const std::function<bool(const std::string&, const tls_session&)>& done) {
  tls_session tls(context, "127.0.0.1");
  tls.write_plaintext(request);
  return tls_pump(fd, tls, done);
}

// A trickler's sender for a connection whose session is `tls`: each byte
// goes as plaintext in a record of its own.
inline std::function<bool(int, char)> tls_byte_sender(tls_session& tls) {
  return [&tls](int fd, char byte) {
    tls.write_plaintext(std::string_view(&byte, 1));
    std::string out;
    tls.take_ciphertext(out);
    return out.empty() || ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) ==
                              static_cast<ssize_t>(out.size());
  };
}

// One HTTPS POST /api/v1/request from `source` (a loopback address) on a
// fresh connection; returns "<status> <body>" or "" on failure.
inline std::string https_post(int port, const std::string& source,
                              const tls_context& context,
                              const std::string& body) {
  int fd = connect_from(source, port);
  if (fd < 0)
    return "";
  std::string request = "POST /api/v1/request HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  auto plain = tls_exchange(
      fd, context, request,
      [](const std::string& text, const tls_session& tls) {
        return text.find("\r\n\r\n") != std::string::npos && tls.peer_closed();
      });
  ::close(fd);
  if (plain.size() < 12)
    return "";
  auto body_start = plain.find("\r\n\r\n");
  return plain.substr(9, 3) + " " +
         (body_start == std::string::npos ? "" : plain.substr(body_start + 4));
}

} // namespace dm::test

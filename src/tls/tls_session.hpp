// One TLS connection as a pure in-memory state machine: the I/O loop feeds it
// the bytes it read from the socket and sends the bytes it hands back, so TLS
// never touches a file descriptor and never blocks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tls/peer_identity.hpp"
#include "tls/tls_context.hpp"

namespace dm {

// A TLS connection always opens with a handshake record (ClientHello), whose
// first byte is 0x16; no HTTP request or SRPC CONNECT line starts with it.
constexpr bool starts_tls_handshake(unsigned char first_byte) {
  return first_byte == 0x16;
}

// Usage per socket event: feed_ciphertext() what was read, read_plaintext()
// into the protocol parser, write_plaintext() replies, then take_ciphertext()
// and send it. Send take_ciphertext() output even after failed() (it may
// hold an alert telling the peer why) and close once want_close() is true
// and everything was sent.
//
// Not thread-safe: one thread drives a session at a time. Idle sessions hold
// no record buffers (they are released), and buffers grown by a large
// transfer are given back once drained.
class tls_session {
public:
  // Role follows the context. For a client, `server_name` (host name or IP
  // address) is sent as SNI and, when the context verifies the server,
  // checked against its certificate; empty: chain checked, name not. A
  // client starts its handshake at once: take_ciphertext() has the
  // ClientHello.
  explicit tls_session(const tls_context& context,
                       std::string_view server_name = {});

  // A moved-from session reports failed() and does nothing.
  tls_session(tls_session&& other) noexcept;
  tls_session& operator=(tls_session&& other) noexcept;
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;
  ~tls_session() = default;

  bool is_server() const { return is_server_; }

  // Takes bytes received from the peer and advances the handshake. False
  // once the session has failed. Data after the peer's close_notify is
  // ignored.
  bool feed_ciphertext(const char* data, std::size_t size);

  // The transport reached end of file. Before the handshake completed this
  // is a failure; afterwards it counts as the peer closing (many HTTPS
  // clients skip close_notify).
  void feed_eof();

  // Appends all plaintext decryptable so far to `out`; returns how many
  // bytes were appended. Receiving close_notify sets peer_closed() and
  // queues our own close_notify.
  std::size_t read_plaintext(std::string& out);

  // Queues plaintext for the peer; before the handshake completes it is
  // held and sent once it does. False when the session has failed or is
  // closing.
  bool write_plaintext(std::string_view data);

  // Appends the bytes to send to the peer to `out`; returns how many.
  std::size_t take_ciphertext(std::string& out);

  // Bytes take_ciphertext() would return now.
  std::size_t pending_ciphertext() const;

  // Sends close_notify (after the handshake); further writes are refused.
  void close();

  bool handshake_done() const { return handshake_done_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  // The peer sent close_notify or the transport ended.
  bool peer_closed() const { return peer_closed_; }
  // Send what take_ciphertext() returns, then close the socket.
  bool want_close() const { return failed_ || close_sent_ || peer_closed_; }

  // The peer's certificate identity, set when the handshake completes;
  // before that, and for a peer without a certificate, has_certificate is
  // false. For a server this is the client; for a client, the server.
  const dm::peer_identity& peer_identity() const { return identity_; }

  // Negotiated protocol ("TLSv1.3"), or "" before the handshake.
  std::string_view protocol_version() const;

private:
  void advance_handshake();
  std::size_t encrypt(std::string_view data);
  void flush_pending();
  void fail(const char* what, int ssl_error);
  void fail_with(std::string reason);
  void release_grown_buffers();

  ssl_ptr ssl_;
  std::string pending_plaintext_; // written before it could be encrypted
  dm::peer_identity identity_;
  std::shared_ptr<const server_trust> trust_; // the server context's
  std::string error_;
  bool is_server_ = true;
  bool handshake_done_ = false;
  bool failed_ = false;
  bool peer_closed_ = false;
  bool close_sent_ = false;
};

} // namespace dm

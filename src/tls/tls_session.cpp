// Drives an OpenSSL SSL object over two memory BIOs: ciphertext in through
// the read BIO, ciphertext out through the write BIO, no socket involved.
#include "tls/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <utility>

namespace dm {

namespace {

// One TLS record's worth of plaintext: larger writes are split so the write
// BIO never holds more than the caller is about to take.
constexpr std::size_t max_record_plaintext = 16 * 1024;

// A memory BIO never shrinks; past this size an emptied one is replaced.
constexpr std::size_t max_idle_bio_capacity = 16 * 1024;

bool is_ip_address(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

std::size_t bio_capacity(BIO* bio) {
  BUF_MEM* memory = nullptr;
  BIO_get_mem_ptr(bio, &memory);
  return memory ? memory->max : 0;
}

} // namespace

tls_session::tls_session(const tls_context& context,
                         std::string_view server_name)
    : trust_(context.shared_trust()), is_server_(context.is_server()) {
  ERR_clear_error();
  ssl_.reset(SSL_new(context.native()));
  BIO* in = ssl_ ? BIO_new(BIO_s_mem()) : nullptr;
  BIO* out = in ? BIO_new(BIO_s_mem()) : nullptr;
  if (!out) {
    BIO_free(in);
    ssl_.reset();
    fail_with("cannot create TLS session: out of memory");
    return;
  }
  SSL_set_bio(ssl_.get(), in, out); // the SSL owns both BIOs from here on
  if (is_server_) {
    SSL_set_accept_state(ssl_.get());
    return;
  }
  SSL_set_connect_state(ssl_.get());
  if (!server_name.empty()) {
    std::string name(server_name);
    bool ip = is_ip_address(name);
    bool ok = true;
    // SNI carries host names only (RFC 6066).
    if (!ip)
      ok = SSL_set_tlsext_host_name(ssl_.get(), name.c_str()) == 1;
    if (ok && context.verifies_server())
      ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()),
                                              name.c_str()) == 1
              : SSL_set1_host(ssl_.get(), name.c_str()) == 1;
    if (!ok) {
      fail_with("bad server name \"" + name + "\"");
      return;
    }
  }
  advance_handshake();
}

tls_session::tls_session(tls_session&& other) noexcept {
  *this = std::move(other);
}

tls_session& tls_session::operator=(tls_session&& other) noexcept {
  if (this == &other)
    return *this;
  ssl_ = std::move(other.ssl_);
  pending_plaintext_ = std::move(other.pending_plaintext_);
  identity_ = std::move(other.identity_);
  trust_ = std::move(other.trust_);
  error_ = std::move(other.error_);
  is_server_ = other.is_server_;
  handshake_done_ = other.handshake_done_;
  failed_ = other.failed_;
  peer_closed_ = other.peer_closed_;
  close_sent_ = other.close_sent_;
  other.handshake_done_ = false;
  other.failed_ = true; // every entry point checks this before using ssl_
  other.error_ = "moved from";
  return *this;
}

bool tls_session::feed_ciphertext(const char* data, std::size_t size) {
  if (failed_)
    return false;
  if (peer_closed_)
    return true;
  BIO* in = SSL_get_rbio(ssl_.get());
  while (size > 0) {
    int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    int written = BIO_write(in, data, chunk);
    if (written <= 0) {
      fail_with("cannot buffer TLS input: out of memory");
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  advance_handshake();
  return !failed_;
}

void tls_session::feed_eof() {
  if (failed_ || peer_closed_)
    return;
  if (!handshake_done_) {
    fail_with("connection closed during TLS handshake");
    return;
  }
  peer_closed_ = true;
}

std::size_t tls_session::read_plaintext(std::string& out) {
  if (failed_)
    return 0;
  advance_handshake();
  if (!handshake_done_)
    return 0;
  std::size_t total = 0;
  char buffer[max_record_plaintext];
  while (!failed_ && !peer_closed_) {
    ERR_clear_error();
    int n = SSL_read(ssl_.get(), buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
      continue;
    }
    int code = SSL_get_error(ssl_.get(), n);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
      break;
    if (code == SSL_ERROR_ZERO_RETURN) {
      // Answer close_notify with ours so the peer sees a clean close.
      peer_closed_ = true;
      close();
      break;
    }
    fail("TLS read failed", code);
  }
  flush_pending(); // a write waiting on input may proceed now
  release_grown_buffers();
  return total;
}

bool tls_session::write_plaintext(std::string_view data) {
  if (failed_ || close_sent_)
    return false;
  if (handshake_done_ && pending_plaintext_.empty())
    data.remove_prefix(encrypt(data));
  pending_plaintext_.append(data);
  flush_pending();
  return !failed_;
}

std::size_t tls_session::take_ciphertext(std::string& out) {
  if (!ssl_)
    return 0;
  BIO* bio = SSL_get_wbio(ssl_.get());
  std::size_t pending = BIO_ctrl_pending(bio);
  if (pending == 0)
    return 0;
  std::size_t old_size = out.size();
  out.resize(old_size + pending);
  int n = BIO_read(bio, &out[old_size],
                   static_cast<int>(std::min<std::size_t>(pending, INT_MAX)));
  out.resize(old_size + static_cast<std::size_t>(std::max(n, 0)));
  release_grown_buffers();
  return static_cast<std::size_t>(std::max(n, 0));
}

std::size_t tls_session::pending_ciphertext() const {
  return ssl_ ? BIO_ctrl_pending(SSL_get_wbio(ssl_.get())) : 0;
}

void tls_session::close() {
  if (close_sent_)
    return;
  close_sent_ = true;
  // Unsent plaintext is dropped: the connection is going away.
  std::string().swap(pending_plaintext_);
  if (failed_ || !handshake_done_)
    return;
  ERR_clear_error();
  SSL_shutdown(ssl_.get()); // queues close_notify; the reply is not awaited
  ERR_clear_error();
}

std::string_view tls_session::protocol_version() const {
  if (!handshake_done_)
    return {};
  return SSL_get_version(ssl_.get());
}

void tls_session::advance_handshake() {
  if (handshake_done_ || failed_)
    return;
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    handshake_done_ = true;
    long verdict = SSL_get_verify_result(ssl_.get());
    if (verdict != X509_V_OK)
      verdict = first_verify_error(ssl_.get());
    // The verified chain is meaningful only when verification succeeded.
    identity_ = identity_from_certificate(
        SSL_get0_peer_certificate(ssl_.get()), verdict,
        verdict == X509_V_OK ? SSL_get0_verified_chain(ssl_.get()) : nullptr,
        trust_.get());
    // Leave no stale entries (say from name decoding) in this thread's
    // error queue for other OpenSSL users on the I/O thread.
    ERR_clear_error();
    flush_pending();
    return;
  }
  int code = SSL_get_error(ssl_.get(), result);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
    return;
  fail("TLS handshake failed", code);
}

// Encrypts as much of `data` as possible, a record at a time; returns how
// many bytes were consumed. Memory BIOs never refuse output, so only a
// pending read (renegotiation is disabled, so rarely) stops it early.
std::size_t tls_session::encrypt(std::string_view data) {
  std::size_t done = 0;
  while (done < data.size() && !failed_) {
    int chunk =
        static_cast<int>(std::min(data.size() - done, max_record_plaintext));
    ERR_clear_error();
    int n = SSL_write(ssl_.get(), data.data() + done, chunk);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    int code = SSL_get_error(ssl_.get(), n);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
      break;
    fail("TLS write failed", code);
  }
  return done;
}

void tls_session::flush_pending() {
  if (!handshake_done_ || failed_ || pending_plaintext_.empty())
    return;
  pending_plaintext_.erase(0, encrypt(pending_plaintext_));
  if (pending_plaintext_.empty())
    std::string().swap(pending_plaintext_);
}

void tls_session::fail(const char* what, int ssl_error) {
  std::string reason = drain_openssl_errors();
  if (reason.empty())
    reason = ssl_error == SSL_ERROR_SYSCALL
                 ? "unexpected end of data"
                 : "SSL error " + std::to_string(ssl_error);
  // A client names the certificate problem, not just "verify failed".
  if (!is_server_) {
    long verdict = first_verify_error(ssl_.get());
    if (verdict != X509_V_OK)
      reason += std::string(" (server certificate: ") +
                X509_verify_cert_error_string(verdict) + ")";
  }
  fail_with(std::string(what) + ": " + reason);
}

void tls_session::fail_with(std::string reason) {
  if (failed_)
    return;
  failed_ = true;
  error_ = std::move(reason);
  std::string().swap(pending_plaintext_);
}

void tls_session::release_grown_buffers() {
  if (!ssl_)
    return;
  // RELEASE_BUFFERS alone keeps the ~17 KiB read buffer after a handshake
  // until application data has passed; an idle connection needs neither.
  // This fails harmlessly while a partial record is buffered.
  if (handshake_done_ && !failed_)
    SSL_free_buffers(ssl_.get());
  BIO* in = SSL_get_rbio(ssl_.get());
  if (BIO_ctrl_pending(in) == 0 && bio_capacity(in) > max_idle_bio_capacity) {
    if (BIO* fresh = BIO_new(BIO_s_mem()))
      SSL_set0_rbio(ssl_.get(), fresh); // frees the old one
  }
  BIO* out = SSL_get_wbio(ssl_.get());
  if (BIO_ctrl_pending(out) == 0 && bio_capacity(out) > max_idle_bio_capacity) {
    if (BIO* fresh = BIO_new(BIO_s_mem()))
      SSL_set0_wbio(ssl_.get(), fresh);
  }
}

} // namespace dm

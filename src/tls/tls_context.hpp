// TLS configuration: the server context built from -certFile, -keyFile and
// -CAfile, the client context for our own tools, and the self-signed webcert.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>

#include "tls/peer_identity.hpp"

namespace dm {

// unique_ptr deleter calling an OpenSSL free function.
template <auto Free>
struct openssl_free {
  template <class T>
  void operator()(T* ptr) const noexcept {
    Free(ptr);
  }
};

using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_free<SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_free<SSL_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_free<BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, openssl_free<X509_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free<EVP_PKEY_free>>;

// Empties this thread's OpenSSL error queue into "reason; reason" text
// ("" when the queue was empty). OpenSSL reports why a call failed only there.
std::string drain_openssl_errors();

// The verdict on the peer's certificate after a handshake: for a server
// session the first problem found (X509_V_OK if none), which names the cause
// better than SSL_get_verify_result's last one; otherwise the latter.
long first_verify_error(const SSL* ssl);

// What the server's flags name. All three are required: like the original,
// a server with a certificate but no CA to check callers against is refused.
struct server_tls_options {
  std::string cert_file; // -certFile: PEM certificate, then its chain if any
  std::string key_file;  // -keyFile: PEM private key (unencrypted)
  std::string ca_file;   // -CAfile: PEM CA certificate(s) for client certs
  // -identityCAfile: CA certificate(s) whose clients are known by name but
  // get no method powers from their certificates. Empty or absent: none.
  std::string identity_ca_file;
  server_trust trust; // users and groups; full_auth_issuers is filled here
  // -tlsLegacyCiphers: also offer OpenSSL's other TLS 1.2 suites (static
  // RSA key exchange, CBC); by default only forward_secret_aead_ciphers.
  bool legacy_ciphers = false;
};

// The TLS 1.2 suites a server offers by default: ECDHE key exchange (forward
// secrecy) with an AEAD cipher (AES-GCM, ChaCha20-Poly1305). TLS 1.3 suites
// are all of that kind and are not restricted.
extern const char* const forward_secret_aead_ciphers;

// How a client treats the server's certificate. There is deliberately no
// default: skipping must be asked for by name.
enum class server_check {
  verify_with_ca,           // chain must lead to client_tls_options::ca_file
  insecure_skip_verify,     // accept any server certificate (Go's option)
  verify_with_system_roots, // chain must lead to a CA the system trusts
                            // (OpenSSL's default paths; SSL_CERT_FILE and
                            // SSL_CERT_DIR override them), as Go's client
};

struct client_tls_options {
  std::string cert_file; // optional client certificate; empty: none
  std::string key_file;  // its key; set exactly when cert_file is
  server_check check = server_check::verify_with_ca;
  std::string ca_file; // required with verify_with_ca, ignored otherwise
};

// An immutable, shareable SSL_CTX: every tls_session made from it holds its
// own reference, so the context may be destroyed while sessions live.
// Safe to use from several threads at once.
class tls_context {
public:
  // Server context. Client certificates are requested and checked against
  // the CA, but a handshake without one, or with one that fails the check,
  // still succeeds: the verdict is kept in the session's peer_identity so the
  // caller decides (no powers, or 401 on SRPC). Minimum TLS 1.2, no session
  // resumption (Go clients do not resume; it would cost memory per caller).
  // TLS 1.2 suites: forward_secret_aead_ciphers unless legacy_ciphers.
  // On failure returns nullopt and sets `error` to a reason naming the flag
  // and file ("-keyFile /etc/ssl/x/key.pem: No such file or directory").
  static std::optional<tls_context>
  make_server(const server_tls_options& options, std::string& error);

  // Client context for our client program and tests.
  static std::optional<tls_context>
  make_client(const client_tls_options& options, std::string& error);

  bool is_server() const { return is_server_; }

  // For a server: the trust that peer identities are read with.
  const server_trust* trust() const { return trust_.get(); }
  std::shared_ptr<const server_trust> shared_trust() const { return trust_; }
  bool has_identity_ca() const {
    return trust_ && !trust_->full_auth_issuers.empty();
  }

  // True for a client context that verifies the server's certificate.
  bool verifies_server() const { return verifies_server_; }

  SSL_CTX* native() const { return ctx_.get(); }

private:
  tls_context(ssl_ctx_ptr ctx, bool is_server, bool verifies_server)
      : ctx_(std::move(ctx)), is_server_(is_server),
        verifies_server_(verifies_server) {}

  ssl_ctx_ptr ctx_;
  std::shared_ptr<const server_trust> trust_;
  bool is_server_;
  bool verifies_server_;
};

// Key algorithm of a generated webcert. ECDSA makes handshakes cheaper.
enum class webcert_key_type { ecdsa_p256, rsa_2048 };

enum class webcert_status { present, generated, failed };

// For -generateMissingWebcert: when neither file exists (or both are empty),
// writes a fresh self-signed server certificate (CN = this host's name, SANs
// the host name, localhost and 127.0.0.1, valid one year) and its key (mode
// 0600), creating missing directories. Leaves existing files alone; when only
// one of the two exists it refuses rather than overwrite it (`failed`).
webcert_status generate_missing_webcert(
    const std::string& cert_file, const std::string& key_file,
    std::string& error,
    webcert_key_type key_type = webcert_key_type::ecdsa_p256);

// Writes a self-signed server certificate for `hostname` unconditionally
// (replacing any files). Returns false and sets `error` on failure.
bool write_self_signed_webcert(const std::string& cert_file,
                               const std::string& key_file,
                               const std::string& hostname,
                               webcert_key_type key_type, std::string& error);

} // namespace dm

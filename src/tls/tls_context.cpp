// Builds server and client SSL_CTX objects from PEM files, with errors that
// name the flag and file, and writes the self-signed webcert.
#include "tls/tls_context.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

#include "files/file_io.hpp"

namespace dm {

const char* const forward_secret_aead_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

namespace {

using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_free<X509_NAME_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_free<BN_free>>;
using general_names_ptr =
    std::unique_ptr<GENERAL_NAMES, openssl_free<GENERAL_NAMES_free>>;
using general_name_ptr =
    std::unique_ptr<GENERAL_NAME, openssl_free<GENERAL_NAME_free>>;
using x509_extension_ptr =
    std::unique_ptr<X509_EXTENSION, openssl_free<X509_EXTENSION_free>>;

// The reason of the most recent OpenSSL failure, with a fallback so an error
// text is never empty.
std::string openssl_reason(const char* fallback) {
  std::string reason = drain_openssl_errors();
  return reason.empty() ? fallback : reason;
}

// Reads a whole PEM file; "flag path: why" on failure. PEM files are
// small, so anything beyond the limit is refused, as is anything but a
// regular file (a device, a FIFO, a directory).
bool read_file(const char* flag, const std::string& path, std::string& out,
               std::string& error) {
  constexpr std::size_t limit = 16 * 1024 * 1024;
  if (path.empty()) {
    error = std::string("no ") + flag + " given";
    return false;
  }
  std::string why;
  if (read_whole_file(path, limit, out, why) == read_status::ok)
    return true;
  error = std::string(flag) + " " + path + ": " + why;
  return false;
}

bio_ptr memory_bio(const std::string& text) {
  return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in a PEM text, in order. False with a reason when there
// is none or a block is damaged.
bool parse_certificates(const std::string& pem, std::vector<x509_ptr>& certs,
                        std::string& problem) {
  bio_ptr bio = memory_bio(pem);
  if (!bio) {
    problem = openssl_reason("out of memory");
    return false;
  }
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    certs.emplace_back(cert);
  // Reading ends with "no start line" when no further block exists; any
  // other error means a damaged block.
  unsigned long last = ERR_peek_last_error();
  if (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE) {
    problem = "bad PEM certificate: " + drain_openssl_errors();
    return false;
  }
  ERR_clear_error();
  if (certs.empty()) {
    problem = "no PEM certificate found";
    return false;
  }
  return true;
}

// Refuses encrypted keys instead of prompting on the terminal.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

bool load_certificate_and_key(SSL_CTX* ctx, const char* cert_flag,
                              const std::string& cert_file,
                              const char* key_flag, const std::string& key_file,
                              std::string& error) {
  std::string cert_pem;
  std::string key_pem;
  if (!read_file(cert_flag, cert_file, cert_pem, error) ||
      !read_file(key_flag, key_file, key_pem, error))
    return false;
  std::vector<x509_ptr> certs;
  std::string problem;
  if (!parse_certificates(cert_pem, certs, problem)) {
    error = std::string(cert_flag) + " " + cert_file + ": " + problem;
    return false;
  }
  bio_ptr key_bio = memory_bio(key_pem);
  evp_pkey_ptr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr,
                                                     no_passphrase, nullptr)
                           : nullptr);
  key_bio.reset();
  OPENSSL_cleanse(key_pem.data(),
                  key_pem.size()); // no key copy left in the heap
  if (!key) {
    error = std::string(key_flag) + " " + key_file +
            ": no usable PEM private key (" + openssl_reason("unreadable") +
            "; encrypted keys are not supported)";
    return false;
  }
  if (SSL_CTX_use_certificate(ctx, certs[0].get()) != 1) {
    error = std::string(cert_flag) + " " + cert_file + ": " +
            openssl_reason("certificate rejected");
    return false;
  }
  for (std::size_t i = 1; i < certs.size(); ++i) {
    // add0 takes ownership on success only.
    if (SSL_CTX_add0_chain_cert(ctx, certs[i].get()) != 1) {
      error = std::string(cert_flag) + " " + cert_file +
              ": chain certificate rejected: " + openssl_reason("unknown");
      return false;
    }
    (void)certs[i].release(); // now owned by the context
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    drain_openssl_errors();
    error = std::string(key_flag) + " " + key_file + ": key does not match " +
            cert_flag + " " + cert_file;
    return false;
  }
  return true;
}

// Loads CA certificates into the context's trust store; with
// `advertise`, also names them in the server's CertificateRequest, which Go
// clients use to pick the certificate they send.
bool load_ca(SSL_CTX* ctx, const char* flag, const std::string& ca_file,
             bool advertise, std::string& error,
             std::vector<std::string>* subjects = nullptr) {
  std::string pem;
  if (!read_file(flag, ca_file, pem, error))
    return false;
  std::vector<x509_ptr> certs;
  std::string problem;
  if (!parse_certificates(pem, certs, problem)) {
    error = std::string(flag) + " " + ca_file + ": " + problem;
    return false;
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& cert : certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1 ||
        (advertise && SSL_CTX_add_client_CA(ctx, cert.get()) != 1)) {
      error = std::string(flag) + " " + ca_file + ": " +
              openssl_reason("CA certificate rejected");
      return false;
    }
    if (subjects) {
      unsigned char* der = nullptr;
      int length = i2d_X509_NAME(X509_get_subject_name(cert.get()), &der);
      if (length > 0)
        subjects->emplace_back(reinterpret_cast<const char*>(der),
                               static_cast<std::size_t>(length));
      OPENSSL_free(der);
    }
  }
  return true;
}

// Where the server keeps a session's first verification error.
int first_error_index() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Accepts every client certificate during the handshake but remembers the
// first problem: OpenSSL itself keeps only the last one, which for a
// stranger's certificate is the vague "unable to verify the first
// certificate" rather than "unable to get local issuer certificate".
int keep_verdict_and_continue(int ok, X509_STORE_CTX* store) {
  if (ok)
    return 1;
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  int index = first_error_index();
  if (ssl && index >= 0 && !SSL_get_ex_data(ssl, index)) {
    auto code = static_cast<std::intptr_t>(X509_STORE_CTX_get_error(store));
    SSL_set_ex_data(ssl, index, reinterpret_cast<void*>(code));
  }
  return 1;
}

ssl_ctx_ptr new_context(const SSL_METHOD* method, std::string& error) {
  ssl_ctx_ptr ctx(SSL_CTX_new(method));
  if (!ctx) {
    error = "cannot create TLS context: " + openssl_reason("out of memory");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  // RELEASE_BUFFERS frees the 16 KiB record buffers of idle sessions, which
  // matters with thousands of connections; MOVING_WRITE_BUFFER lets a
  // session retry a write from its own (reallocating) pending buffer.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

// ---- webcert ----

bool file_present(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

std::string local_hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

// Writes `data` to `path` atomically with exactly the given mode,
// creating parent directories.
bool write_private_file(const std::string& path, const std::string& data,
                        mode_t mode, std::string& error) {
  atomic_write_options options;
  options.mode = mode;
  options.exact_mode = true;
  options.create_parents = true;
  return write_file_atomically(path, data, options, error);
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  x509_extension_ptr ext(X509V3_EXT_nconf_nid(nullptr, &v3, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Subject Alternative Names built directly rather than through a config
// string, so an odd host name cannot inject extra entries.
bool add_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                   const std::vector<std::string>& ip_addresses) {
  general_names_ptr names(GENERAL_NAMES_new());
  if (!names)
    return false;
  for (const auto& dns : dns_names) {
    general_name_ptr name(GENERAL_NAME_new());
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    if (!name || !text ||
        ASN1_STRING_set(text, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(text);
      return false;
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, text);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0)
      return false;
    (void)name.release(); // now owned by the list
  }
  for (const auto& ip : ip_addresses) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(ip.c_str());
    general_name_ptr name(GENERAL_NAME_new());
    if (!address || !name) {
      ASN1_OCTET_STRING_free(address);
      return false;
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, address);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0)
      return false;
    (void)name.release(); // now owned by the list
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0,
                           X509V3_ADD_DEFAULT) == 1;
}

std::string key_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1)
    return {};
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string cert_pem(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return {};
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

} // namespace

long first_verify_error(const SSL* ssl) {
  int index = first_error_index();
  void* code = index >= 0 ? SSL_get_ex_data(ssl, index) : nullptr;
  return code ? static_cast<long>(reinterpret_cast<std::intptr_t>(code))
              : SSL_get_verify_result(ssl);
}

std::string drain_openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!text.empty())
      text += "; ";
    if (reason) {
      text += reason;
    } else {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof buffer);
      text += buffer;
    }
  }
  return text;
}

std::optional<tls_context>
tls_context::make_server(const server_tls_options& options,
                         std::string& error) {
  ERR_clear_error();
  ssl_ctx_ptr ctx = new_context(TLS_server_method(), error);
  if (!ctx)
    return std::nullopt;
  auto trust = std::make_shared<server_trust>(options.trust);
  std::vector<std::string> full_auth;
  if (!load_certificate_and_key(ctx.get(), "-certFile", options.cert_file,
                                "-keyFile", options.key_file, error) ||
      !load_ca(ctx.get(), "-CAfile", options.ca_file, true, error, &full_auth))
    return std::nullopt;
  // As the original: an identity CA file that does not exist is no error;
  // one that does makes -CAfile's certificates the only ones whose methods
  // count.
  trust->full_auth_issuers.clear();
  if (!options.identity_ca_file.empty() &&
      ::access(options.identity_ca_file.c_str(), F_OK) == 0) {
    if (!load_ca(ctx.get(), "-identityCAfile", options.identity_ca_file, true,
                 error))
      return std::nullopt;
    trust->full_auth_issuers = std::move(full_auth);
  }
  if (!options.legacy_ciphers &&
      SSL_CTX_set_cipher_list(ctx.get(), forward_secret_aead_ciphers) != 1) {
    error = "cannot set the TLS 1.2 cipher suites: " +
            openssl_reason("no cipher suite available");
    return std::nullopt;
  }
  // Request a certificate but let callers without one (or with a bad one)
  // in: REST clients over HTTPS have none, and SRPC answers 401 itself.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
                     keep_verdict_and_continue);
  // No resumption: Go clients do not resume, and a session cache or ticket
  // would cost memory and CPU per caller. The id context is still required
  // by OpenSSL whenever client certificates are requested.
  static const unsigned char session_context[] = "dm";
  SSL_CTX_set_session_id_context(ctx.get(), session_context,
                                 sizeof session_context - 1);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(),
                      SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  tls_context context(std::move(ctx), true, false);
  context.trust_ = std::move(trust);
  return context;
}

std::optional<tls_context>
tls_context::make_client(const client_tls_options& options,
                         std::string& error) {
  ERR_clear_error();
  if (options.cert_file.empty() != options.key_file.empty()) {
    error = "a client certificate needs both a certificate file and a key file";
    return std::nullopt;
  }
  ssl_ctx_ptr ctx = new_context(TLS_client_method(), error);
  if (!ctx)
    return std::nullopt;
  if (!options.cert_file.empty() &&
      !load_certificate_and_key(ctx.get(), "certificate file",
                                options.cert_file, "key file", options.key_file,
                                error))
    return std::nullopt;
  bool verify = options.check != server_check::insecure_skip_verify;
  if (options.check == server_check::verify_with_system_roots) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      error = "cannot load the system's trusted CAs: " +
              openssl_reason("unknown error");
      return std::nullopt;
    }
  } else if (verify) {
    if (options.ca_file.empty()) {
      error = "no CA file to verify the server with (choose "
              "insecure_skip_verify to skip verification)";
      return std::nullopt;
    }
    if (!load_ca(ctx.get(), "CA file", options.ca_file, false, error))
      return std::nullopt;
  }
  // With SSL_VERIFY_NONE OpenSSL still checks the chain and records the
  // verdict, so peer_identity reports an unverified server honestly.
  SSL_CTX_set_verify(ctx.get(), verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                     nullptr);
  return tls_context(std::move(ctx), false, verify);
}

bool write_self_signed_webcert(const std::string& cert_file,
                               const std::string& key_file,
                               const std::string& hostname,
                               webcert_key_type key_type, std::string& error) {
  ERR_clear_error();
  auto fail = [&](const char* what) {
    error = std::string("generating webcert: ") + what + ": " +
            openssl_reason("unknown error");
    return false;
  };
  evp_pkey_ptr key(key_type == webcert_key_type::rsa_2048
                       ? EVP_RSA_gen(2048)
                       : EVP_EC_gen("P-256"));
  if (!key)
    return fail("key generation");
  x509_ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return fail("certificate");

  // A random positive 127-bit serial, as CAs are expected to use.
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1)
    return fail("serial number");
  serial_bytes[0] &= 0x7F;
  bignum_ptr serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    return fail("serial number");

  constexpr long one_year = 365L * 24 * 60 * 60;
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), one_year))
    return fail("validity");

  // X.509 caps a Common Name at 64 characters; a longer host name gives its
  // first label as CN and stays whole in the SANs, which clients check.
  std::string common_name =
      hostname.size() <= 64
          ? hostname
          : hostname.substr(0, std::min<std::size_t>(hostname.find('.'), 64));
  x509_name_ptr name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_NID(
          name.get(), NID_commonName, MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(common_name.c_str()),
          static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1)
    return fail("subject");

  std::vector<std::string> dns_names{hostname};
  if (hostname != "localhost")
    dns_names.push_back("localhost");
  const char* key_usage = key_type == webcert_key_type::rsa_2048
                              ? "critical,digitalSignature,keyEncipherment"
                              : "critical,digitalSignature";
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, key_usage) ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash") ||
      !add_alt_names(cert.get(), dns_names, {"127.0.0.1"}))
    return fail("extensions");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
    return fail("signing");

  std::string key_text = key_pem(key.get());
  std::string cert_text = cert_pem(cert.get());
  if (key_text.empty() || cert_text.empty())
    return fail("PEM encoding");
  // Key first: a certificate on disk without its key would look "present".
  std::string why;
  bool key_written = write_private_file(key_file, key_text, 0600, why);
  OPENSSL_cleanse(key_text.data(), key_text.size());
  if (!key_written) {
    error = "-keyFile " + key_file + ": " + why;
    return false;
  }
  if (!write_private_file(cert_file, cert_text, 0644, why)) {
    error = "-certFile " + cert_file + ": " + why;
    return false;
  }
  return true;
}

webcert_status generate_missing_webcert(const std::string& cert_file,
                                        const std::string& key_file,
                                        std::string& error,
                                        webcert_key_type key_type) {
  if (cert_file.empty() || key_file.empty()) {
    error = "-generateMissingWebcert needs both -certFile and -keyFile";
    return webcert_status::failed;
  }
  bool have_cert = file_present(cert_file);
  bool have_key = file_present(key_file);
  if (have_cert && have_key)
    return webcert_status::present;
  if (have_cert || have_key) {
    error = have_cert ? "-certFile " + cert_file + " exists but -keyFile " +
                            key_file + " is missing; not overwriting it"
                      : "-keyFile " + key_file + " exists but -certFile " +
                            cert_file + " is missing; not overwriting it";
    return webcert_status::failed;
  }
  if (!write_self_signed_webcert(cert_file, key_file, local_hostname(),
                                 key_type, error))
    return webcert_status::failed;
  return webcert_status::generated;
}

} // namespace dm

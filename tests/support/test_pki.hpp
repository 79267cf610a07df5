// Test certificates made at run time with the OpenSSL API: a CA, a server,
// clients with and without Dominator's method extension, and a stranger
// from a foreign CA, written as PEM files into a temporary directory.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tls/tls_context.hpp"

namespace dm::test {

// DER SEQUENCE OF UTF8String, the encoding of Dominator's method and group
// extensions.
std::string der_utf8_string_list(const std::vector<std::string>& items);

struct certificate_spec {
  std::string common_name;
  std::vector<std::string> dns_names;    // subjectAltName DNS entries
  std::vector<std::string> ip_addresses; // subjectAltName IP entries
  bool is_ca = false;
  bool server_auth = false;      // extendedKeyUsage serverAuth
  bool client_auth = false;      // extendedKeyUsage clientAuth
  long not_before_seconds = -60; // relative to now
  long not_after_seconds = 24L * 60 * 60;
  // Extra non-critical extensions: dotted OID and the raw DER value.
  std::vector<std::pair<std::string, std::string>> extensions{};
};

struct key_and_certificate {
  evp_pkey_ptr key;
  x509_ptr cert;
};

// Makes an ECDSA P-256 key and a certificate for `spec`, signed by `issuer`
// (self-signed when null). Throws std::runtime_error on failure.
key_and_certificate issue_certificate(const certificate_spec& spec,
                                      const key_and_certificate* issuer);

// Writes PEM files; throw std::runtime_error on failure.
void write_certificate_pem(const std::string& path, const X509* cert);
void write_key_pem(const std::string& path, EVP_PKEY* key);

// A complete set of test credentials in a fresh temporary directory, removed
// again by the destructor. Generating it takes a few milliseconds.
class test_pki {
public:
  test_pki();
  ~test_pki();
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  const std::string& dir() const { return dir_; }

  // Issues and writes another client certificate signed by `ca`; returns
  // {certificate path, key path}. `name` becomes the file name stem.
  std::pair<std::string, std::string>
  write_client(const std::string& name, const certificate_spec& spec);

  // Writes a client certificate issued by `issuer` (not necessarily `ca`).
  std::pair<std::string, std::string>
  write_client_of(const key_and_certificate& issuer, const std::string& name,
                  const certificate_spec& spec);
  // Writes the PEM of a CA certificate under `name`; returns its path.
  std::string write_ca(const key_and_certificate& issuer,
                       const std::string& name);

  key_and_certificate ca;         // trusted CA ("dm test CA")
  key_and_certificate foreign_ca; // a CA nobody trusts

  std::string ca_cert;                     // PEM of `ca`
  std::string server_cert, server_key;     // CN/SAN localhost, 127.0.0.1
  std::string operator_cert, operator_key; // CN "operator", methods
                                           // "DisruptionManager.*", groups
                                           // "fleet-ops", "oncall"
  std::string machine_cert, machine_key;   // CN "127.0.0.5", no extensions
  std::string foreign_ca_cert;             // PEM of `foreign_ca`
  std::string foreign_cert, foreign_key;   // CN "intruder", methods "*.*",
                                           // issued by foreign_ca

private:
  std::string dir_;
};

// The server flags that serve TLS with this PKI's server certificate and
// trust its CA: -certFile, -keyFile and -CAfile.
std::vector<std::string> server_tls_flags(const test_pki& pki);

// A client context that verifies the server against `pki.ca_cert` and
// presents `cert`/`key` (both empty: no certificate). Fails the test on
// error.
std::shared_ptr<const tls_context> client_tls(const test_pki& pki,
                                              const std::string& cert,
                                              const std::string& key);

} // namespace dm::test

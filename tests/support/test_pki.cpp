// Generates the test CA and certificates with the OpenSSL API, so tests need
// no checked-in keys and never hit an expired fixture.
#include "tests/support/test_pki.hpp"

#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <tuple>

#include "tls/peer_identity.hpp"

namespace dm::test {

namespace {

using asn1_object_ptr =
    std::unique_ptr<ASN1_OBJECT, openssl_free<ASN1_OBJECT_free>>;
using asn1_octet_string_ptr =
    std::unique_ptr<ASN1_OCTET_STRING, openssl_free<ASN1_OCTET_STRING_free>>;
using x509_extension_ptr =
    std::unique_ptr<X509_EXTENSION, openssl_free<X509_EXTENSION_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_free<BN_free>>;

[[noreturn]] void fail(const std::string& what) {
  std::string reason = drain_openssl_errors();
  throw std::runtime_error("test PKI: " + what +
                           (reason.empty() ? "" : ": " + reason));
}

void check(bool ok, const char* what) {
  if (!ok)
    fail(what);
}

// A DER length prefix.
std::string der_length(std::size_t length) {
  if (length < 0x80)
    return std::string(1, static_cast<char>(length));
  std::string bytes;
  for (std::size_t rest = length; rest > 0; rest >>= 8)
    bytes.insert(bytes.begin(), static_cast<char>(rest & 0xFF));
  return static_cast<char>(0x80 | bytes.size()) + bytes;
}

void add_config_extension(X509* cert, X509* issuer, int nid,
                          const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  x509_extension_ptr ext(
      X509V3_EXT_nconf_nid(nullptr, &v3, nid, value.c_str()));
  check(ext && X509_add_ext(cert, ext.get(), -1) == 1, "adding extension");
}

void add_raw_extension(X509* cert, const std::string& oid,
                       const std::string& der) {
  asn1_object_ptr object(OBJ_txt2obj(oid.c_str(), 1));
  asn1_octet_string_ptr value(ASN1_OCTET_STRING_new());
  check(object && value &&
            ASN1_OCTET_STRING_set(
                value.get(), reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<int>(der.size())) == 1,
        "encoding raw extension");
  x509_extension_ptr ext(
      X509_EXTENSION_create_by_OBJ(nullptr, object.get(), 0, value.get()));
  check(ext && X509_add_ext(cert, ext.get(), -1) == 1, "adding raw extension");
}

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base && *base ? base : "/tmp") + "/dm-test-pki-XXXXXX";
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("test PKI: cannot create " + pattern);
  return pattern;
}

} // namespace

std::string der_utf8_string_list(const std::vector<std::string>& items) {
  std::string body;
  for (const auto& item : items)
    body += '\x0C' + der_length(item.size()) + item;
  return '\x30' + der_length(body.size()) + body;
}

key_and_certificate issue_certificate(const certificate_spec& spec,
                                      const key_and_certificate* issuer) {
  ERR_clear_error();
  key_and_certificate made;
  made.key.reset(EVP_EC_gen("P-256"));
  check(made.key != nullptr, "key generation");
  made.cert.reset(X509_new());
  X509* cert = made.cert.get();
  check(cert && X509_set_version(cert, X509_VERSION_3) == 1, "new certificate");

  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "serial");
  serial_bytes[0] &= 0x7F;
  bignum_ptr serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  check(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)),
        "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before_seconds) &&
            X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after_seconds),
        "validity");

  X509_NAME* subject = X509_get_subject_name(cert);
  if (!spec.common_name.empty())
    check(X509_NAME_add_entry_by_NID(
              subject, NID_commonName, MBSTRING_UTF8,
              reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
              static_cast<int>(spec.common_name.size()), -1, 0) == 1,
          "subject");
  check(X509_NAME_add_entry_by_NID(
            subject, NID_organizationName, MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>("dm tests"), -1, -1, 0) == 1,
        "subject");
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1 &&
            X509_set_pubkey(cert, made.key.get()) == 1,
        "issuer");

  if (spec.is_ca) {
    add_config_extension(cert, issuer_cert, NID_basic_constraints,
                         "critical,CA:TRUE");
    add_config_extension(cert, issuer_cert, NID_key_usage,
                         "critical,keyCertSign,cRLSign");
  } else {
    add_config_extension(cert, issuer_cert, NID_basic_constraints,
                         "critical,CA:FALSE");
    add_config_extension(cert, issuer_cert, NID_key_usage,
                         "critical,digitalSignature");
  }
  std::string usages;
  if (spec.server_auth)
    usages += "serverAuth";
  if (spec.client_auth)
    usages += std::string(usages.empty() ? "" : ",") + "clientAuth";
  if (!usages.empty())
    add_config_extension(cert, issuer_cert, NID_ext_key_usage, usages);
  add_config_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer)
    add_config_extension(cert, issuer_cert, NID_authority_key_identifier,
                         "keyid:always");
  std::string alt_names;
  for (const auto& dns : spec.dns_names)
    alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : spec.ip_addresses)
    alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
  if (!alt_names.empty())
    add_config_extension(cert, issuer_cert, NID_subject_alt_name, alt_names);
  for (const auto& [oid, der] : spec.extensions)
    add_raw_extension(cert, oid, der);

  EVP_PKEY* signer = issuer ? issuer->key.get() : made.key.get();
  check(X509_sign(cert, signer, EVP_sha256()) > 0, "signing");
  return made;
}

void write_certificate_pem(const std::string& path, const X509* cert) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  check(bio && PEM_write_bio_X509(bio.get(), cert) == 1,
        ("writing " + path).c_str());
}

void write_key_pem(const std::string& path, EVP_PKEY* key) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                        nullptr, nullptr) == 1,
        ("writing " + path).c_str());
}

test_pki::test_pki() : dir_(make_temp_dir()) {
  try {
    certificate_spec ca_spec;
    ca_spec.common_name = "dm test CA";
    ca_spec.is_ca = true;
    ca = issue_certificate(ca_spec, nullptr);
    ca_cert = dir_ + "/ca.pem";
    write_certificate_pem(ca_cert, ca.cert.get());

    ca_spec.common_name = "foreign CA";
    foreign_ca = issue_certificate(ca_spec, nullptr);
    foreign_ca_cert = dir_ + "/foreign-ca.pem";
    write_certificate_pem(foreign_ca_cert, foreign_ca.cert.get());

    certificate_spec server;
    server.common_name = "localhost";
    server.dns_names = {"localhost"};
    server.ip_addresses = {"127.0.0.1"};
    server.server_auth = true;
    auto server_pair = issue_certificate(server, &ca);
    server_cert = dir_ + "/server-cert.pem";
    server_key = dir_ + "/server-key.pem";
    write_certificate_pem(server_cert, server_pair.cert.get());
    write_key_pem(server_key, server_pair.key.get());

    certificate_spec op;
    op.common_name = "operator";
    op.client_auth = true;
    op.extensions = {
        {std::string(permitted_methods_oid),
         der_utf8_string_list({"DisruptionManager.*"})},
        {std::string(group_list_oid),
         der_utf8_string_list({"fleet-ops", "oncall"})},
    };
    std::tie(operator_cert, operator_key) = write_client("operator", op);

    certificate_spec machine;
    machine.common_name = "127.0.0.5";
    machine.client_auth = true;
    std::tie(machine_cert, machine_key) = write_client("machine", machine);

    certificate_spec intruder;
    intruder.common_name = "intruder";
    intruder.client_auth = true;
    intruder.extensions = {
        {std::string(permitted_methods_oid), der_utf8_string_list({"*.*"})}};
    auto intruder_pair = issue_certificate(intruder, &foreign_ca);
    foreign_cert = dir_ + "/intruder-cert.pem";
    foreign_key = dir_ + "/intruder-key.pem";
    write_certificate_pem(foreign_cert, intruder_pair.cert.get());
    write_key_pem(foreign_key, intruder_pair.key.get());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

test_pki::~test_pki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::pair<std::string, std::string>
test_pki::write_client(const std::string& name, const certificate_spec& spec) {
  return write_client_of(ca, name, spec);
}

std::pair<std::string, std::string>
test_pki::write_client_of(const key_and_certificate& issuer,
                          const std::string& name,
                          const certificate_spec& spec) {
  auto pair = issue_certificate(spec, &issuer);
  std::string cert_path = dir_ + "/" + name + "-cert.pem";
  std::string key_path = dir_ + "/" + name + "-key.pem";
  write_certificate_pem(cert_path, pair.cert.get());
  write_key_pem(key_path, pair.key.get());
  return {cert_path, key_path};
}

std::string test_pki::write_ca(const key_and_certificate& issuer,
                               const std::string& name) {
  std::string path = dir_ + "/" + name + ".pem";
  write_certificate_pem(path, issuer.cert.get());
  return path;
}

std::vector<std::string> server_tls_flags(const test_pki& pki) {
  return {"-certFile=" + pki.server_cert, "-keyFile=" + pki.server_key,
          "-CAfile=" + pki.ca_cert};
}

std::shared_ptr<const tls_context> client_tls(const test_pki& pki,
                                              const std::string& cert,
                                              const std::string& key) {
  client_tls_options options;
  options.cert_file = cert;
  options.key_file = key;
  options.check = server_check::verify_with_ca;
  options.ca_file = pki.ca_cert;
  std::string error;
  auto context = tls_context::make_client(options, error);
  EXPECT_TRUE(context) << error;
  if (!context)
    return nullptr;
  return std::make_shared<const tls_context>(std::move(*context));
}

} // namespace dm::test

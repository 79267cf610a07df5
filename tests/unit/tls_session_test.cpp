// Tests tls_session and tls_context: a client and a server session talk to
// each other purely in memory, with certificates generated at run time.
#include "tls/tls_session.hpp"

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>

#include "tests/support/test_pki.hpp"
#include "tls/tls_context.hpp"

namespace dm {
namespace {

// Feeds `bytes` to `to`, `fragment` bytes at a time (0: all at once),
// reading plaintext after every piece as an I/O loop would.
void deliver(tls_session& to, const std::string& bytes, std::string& received,
             std::size_t fragment) {
  if (fragment == 0)
    fragment = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += fragment) {
    to.feed_ciphertext(bytes.data() + at,
                       std::min(fragment, bytes.size() - at));
    to.read_plaintext(received);
  }
}

// Shuttles ciphertext both ways until neither side has anything to send.
void pump(tls_session& client, tls_session& server, std::string& client_got,
          std::string& server_got, std::size_t fragment = 0) {
  for (int round = 0; round < 100000; ++round) {
    std::string to_server;
    std::string to_client;
    client.take_ciphertext(to_server);
    deliver(server, to_server, server_got, fragment);
    server.take_ciphertext(to_client);
    deliver(client, to_client, client_got, fragment);
    if (to_server.empty() && to_client.empty())
      return;
  }
  FAIL() << "sessions kept talking";
}

std::string payload(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string data(size, '\0');
  for (auto& c : data)
    c = static_cast<char>(random() & 0xFF);
  return data;
}

// The handshake every test starts from: a server session on the test
// server's certificate and a client session with the identity and trust a
// test picks, talking in memory; `pump` moves bytes between them and keeps
// the plaintext each side received.
class tls_session_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() { pki = std::make_unique<test::test_pki>(); }
  static void TearDownTestSuite() { pki.reset(); }

  // The server's certificate, key and client CA files; no trust flags.
  static server_tls_options server_options(const std::string& cert,
                                           const std::string& key,
                                           const std::string& client_ca) {
    server_tls_options options;
    options.cert_file = cert;
    options.key_file = key;
    options.ca_file = client_ca;
    return options;
  }

  static tls_context server_context() {
    std::string error;
    auto ctx = tls_context::make_server(
        server_options(pki->server_cert, pki->server_key, pki->ca_cert), error);
    EXPECT_TRUE(ctx) << error;
    return std::move(*ctx);
  }

  // A client context presenting `cert` (none when empty) and verifying the
  // server against `trusted_ca` (no verification when empty).
  static tls_context client_context(const std::string& cert,
                                    const std::string& key,
                                    const std::string& trusted_ca) {
    client_tls_options options;
    options.cert_file = cert;
    options.key_file = key;
    options.check = trusted_ca.empty() ? server_check::insecure_skip_verify
                                       : server_check::verify_with_ca;
    options.ca_file = trusted_ca;
    std::string error;
    auto ctx = tls_context::make_client(options, error);
    EXPECT_TRUE(ctx) << error;
    return std::move(*ctx);
  }

  // Fresh sessions over the contexts (the client's set by use_client), the
  // client asking for `server_name`; nothing is exchanged yet.
  void open(const char* server_name = "localhost") {
    server.emplace(*server_ctx);
    client.emplace(*client_ctx, server_name);
    client_got.clear();
    server_got.clear();
  }

  void use_client(const std::string& cert, const std::string& key,
                  const std::string& trusted_ca) {
    client_ctx.emplace(client_context(cert, key, trusted_ca));
  }

  // use_client, open and pump: the handshake, run as far as it goes.
  void handshake(const std::string& cert, const std::string& key,
                 const std::string& trusted_ca,
                 const char* server_name = "localhost") {
    use_client(cert, key, trusted_ca);
    open(server_name);
    pump();
  }

  // Shuttles ciphertext both ways, `fragment` bytes at a time (0: whole).
  void pump(std::size_t fragment = 0) {
    ::dm::pump(*client, *server, client_got, server_got, fragment);
  }

  std::optional<tls_context> server_ctx{server_context()};
  std::optional<tls_context> client_ctx;
  std::optional<tls_session> server;
  std::optional<tls_session> client;
  std::string client_got;
  std::string server_got;

  static std::unique_ptr<test::test_pki> pki;
};

std::unique_ptr<test::test_pki> tls_session_test::pki;

// ---- tls_context ----

TEST_F(tls_session_test, server_context_loads_flags_files) {
  tls_context ctx = server_context();
  EXPECT_TRUE(ctx.is_server());
  EXPECT_NE(ctx.native(), nullptr);
}

TEST_F(tls_session_test, server_context_errors_name_flag_file_and_reason) {
  std::string error;
  std::string missing = pki->dir() + "/nope.pem";
  EXPECT_FALSE(tls_context::make_server(
      server_options(missing, pki->server_key, pki->ca_cert), error));
  EXPECT_NE(error.find("-certFile " + missing), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;

  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, missing, pki->ca_cert), error));
  EXPECT_NE(error.find("-keyFile " + missing), std::string::npos) << error;

  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, pki->server_key, missing), error));
  EXPECT_NE(error.find("-CAfile " + missing), std::string::npos) << error;

  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, pki->server_key, ""), error));
  EXPECT_NE(error.find("-CAfile"), std::string::npos) << error;

  // A key file given as the certificate: no certificate in it.
  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_key, pki->server_key, pki->ca_cert), error));
  EXPECT_NE(error.find("no PEM certificate"), std::string::npos) << error;

  // A certificate given as the key.
  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, pki->server_cert, pki->ca_cert), error));
  EXPECT_NE(error.find("-keyFile " + pki->server_cert), std::string::npos)
      << error;

  // Someone else's key.
  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, pki->operator_key, pki->ca_cert),
      error));
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;

  // A damaged PEM block.
  std::string damaged = pki->dir() + "/damaged.pem";
  std::ofstream(damaged) << "-----BEGIN CERTIFICATE-----\n@@@@\n"
                            "-----END CERTIFICATE-----\n";
  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, pki->server_key, damaged), error));
  EXPECT_NE(error.find("-CAfile " + damaged), std::string::npos) << error;

  // A directory.
  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->dir(), pki->server_key, pki->ca_cert), error));
  EXPECT_NE(error.find("-certFile " + pki->dir() + ": Is a directory"),
            std::string::npos)
      << error;

  // A device, and a FIFO nobody writes to (reading it would wait for ever):
  // refused at once, as every file but a regular one.
  EXPECT_FALSE(tls_context::make_server(
      server_options("/dev/zero", pki->server_key, pki->ca_cert), error));
  EXPECT_NE(error.find("-certFile /dev/zero: not a regular file (a character "
                       "device)"),
            std::string::npos)
      << error;
  std::string fifo = pki->dir() + "/fifo.pem";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(tls_context::make_server(
      server_options(pki->server_cert, pki->server_key, fifo), error));
  EXPECT_NE(error.find("-CAfile " + fifo + ": not a regular file (a FIFO)"),
            std::string::npos)
      << error;
}

TEST_F(tls_session_test, client_context_options_are_checked) {
  std::string error;
  client_tls_options half;
  half.cert_file = pki->operator_cert;
  half.check = server_check::insecure_skip_verify;
  EXPECT_FALSE(tls_context::make_client(half, error));
  EXPECT_FALSE(error.empty());

  client_tls_options no_ca; // verify_with_ca is the default
  EXPECT_FALSE(tls_context::make_client(no_ca, error));
  EXPECT_NE(error.find("insecure_skip_verify"), std::string::npos) << error;

  client_tls_options skip;
  skip.check = server_check::insecure_skip_verify;
  auto ctx = tls_context::make_client(skip, error);
  ASSERT_TRUE(ctx) << error;
  EXPECT_FALSE(ctx->is_server());
  EXPECT_FALSE(ctx->verifies_server());
}

// ---- handshake and data ----

TEST_F(tls_session_test, handshake_and_data_both_ways) {
  use_client(pki->operator_cert, pki->operator_key, pki->ca_cert);
  open();
  EXPECT_TRUE(server->is_server());
  EXPECT_FALSE(client->is_server());
  EXPECT_GT(client->pending_ciphertext(), 0u); // the ClientHello, unprompted

  pump();
  ASSERT_TRUE(server->handshake_done()) << server->error();
  ASSERT_TRUE(client->handshake_done()) << client->error();
  EXPECT_EQ(server->protocol_version(), "TLSv1.3");

  ASSERT_TRUE(client->write_plaintext("DisruptionManager.Check\n"));
  pump();
  EXPECT_EQ(server_got, "DisruptionManager.Check\n");

  ASSERT_TRUE(server->write_plaintext("\n"));
  ASSERT_TRUE(server->write_plaintext("{\"Response\":\"permitted\"}\n"));
  pump();
  EXPECT_EQ(client_got, "\n{\"Response\":\"permitted\"}\n");
  EXPECT_FALSE(client->failed());
  EXPECT_FALSE(server->failed());
  EXPECT_FALSE(server->want_close());
}

TEST_F(tls_session_test,
       one_mebibyte_in_pieces_each_way_with_fragmented_records) {
  use_client(pki->machine_cert, pki->machine_key, pki->ca_cert);
  open("127.0.0.1");
  pump(7);
  ASSERT_TRUE(server->handshake_done()) << server->error();

  const std::string up = payload(1 << 20, 1);
  const std::string down = payload(1 << 20, 2);
  const std::size_t pieces[] = {1, 100, 4095, 16384, 16385, 70000, 300000};
  std::size_t at = 0;
  for (std::size_t i = 0; at < up.size(); ++i) {
    std::size_t n = std::min(pieces[i % std::size(pieces)], up.size() - at);
    ASSERT_TRUE(client->write_plaintext(std::string_view(up).substr(at, n)));
    ASSERT_TRUE(server->write_plaintext(std::string_view(down).substr(at, n)));
    at += n;
    if (i % 3 == 0) // let some writes pile up before shuttling
      pump(1000 + i);
  }
  pump(1000);
  EXPECT_EQ(server_got.size(), up.size());
  EXPECT_TRUE(server_got == up);
  EXPECT_EQ(client_got.size(), down.size());
  EXPECT_TRUE(client_got == down);
  EXPECT_EQ(client->pending_ciphertext(), 0u);
  EXPECT_EQ(server->pending_ciphertext(), 0u);
}

TEST_F(tls_session_test, writes_before_handshake_are_sent_after_it) {
  use_client(pki->machine_cert, pki->machine_key, pki->ca_cert);
  open();
  ASSERT_TRUE(client->write_plaintext("early "));
  ASSERT_TRUE(client->write_plaintext("bird\n"));
  ASSERT_TRUE(server->write_plaintext("hello\n"));
  pump();
  EXPECT_EQ(server_got, "early bird\n");
  EXPECT_EQ(client_got, "hello\n");
}

TEST_F(tls_session_test, first_byte_identifies_tls) {
  use_client("", "", "");
  open("");
  std::string hello;
  ASSERT_GT(client->take_ciphertext(hello), 0u);
  EXPECT_TRUE(starts_tls_handshake(static_cast<unsigned char>(hello[0])));
  for (char c : std::string("CGPHD\r\n"))
    EXPECT_FALSE(starts_tls_handshake(static_cast<unsigned char>(c)));
}

// ---- peer identity through a real handshake ----

TEST_F(tls_session_test, client_with_methods_extension_gets_its_powers) {
  handshake(pki->operator_cert, pki->operator_key, pki->ca_cert);
  ASSERT_TRUE(server->handshake_done()) << server->error();
  const auto& id = server->peer_identity();
  EXPECT_TRUE(id.has_certificate);
  EXPECT_TRUE(id.verified) << id.verify_error;
  EXPECT_EQ(id.username, "operator");
  EXPECT_EQ(id.method_globs, std::vector<std::string>{"DisruptionManager.*"});
  EXPECT_EQ(id.groups, (std::vector<std::string>{"fleet-ops", "oncall"}));
  EXPECT_TRUE(id.extension_error.empty());
  EXPECT_TRUE(id.has_method_power("DisruptionManager.Request"));
  EXPECT_TRUE(id.has_method_power("DisruptionManager.Cancel"));
  EXPECT_FALSE(id.has_method_power("Subd.Update"));
}

TEST_F(tls_session_test, client_without_extension_is_named_but_powerless) {
  handshake(pki->machine_cert, pki->machine_key, pki->ca_cert);
  ASSERT_TRUE(server->handshake_done()) << server->error();
  const auto& id = server->peer_identity();
  EXPECT_TRUE(id.has_certificate);
  EXPECT_TRUE(id.verified) << id.verify_error;
  EXPECT_EQ(id.username, "127.0.0.5");
  EXPECT_TRUE(id.method_globs.empty());
  EXPECT_TRUE(id.groups.empty());
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Check"));
}

TEST_F(tls_session_test, foreign_ca_certificate_is_reported_unverified) {
  handshake(pki->foreign_cert, pki->foreign_key, pki->ca_cert);
  // The handshake completes so the SRPC layer can answer 401 itself.
  ASSERT_TRUE(server->handshake_done()) << server->error();
  ASSERT_TRUE(client->handshake_done()) << client->error();
  const auto& id = server->peer_identity();
  EXPECT_TRUE(id.has_certificate);
  EXPECT_FALSE(id.verified);
  EXPECT_NE(id.verify_error.find("issuer"), std::string::npos)
      << id.verify_error;
  EXPECT_TRUE(id.username.empty());
  EXPECT_TRUE(id.method_globs.empty()); // its "*.*" counts for nothing
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Request"));
}

TEST_F(tls_session_test, client_without_certificate_is_let_in_with_nothing) {
  handshake("", "", pki->ca_cert);
  ASSERT_TRUE(server->handshake_done()) << server->error();
  EXPECT_FALSE(server->peer_identity().has_certificate);
  EXPECT_FALSE(server->peer_identity().verified);
  EXPECT_FALSE(
      server->peer_identity().has_method_power("DisruptionManager.Check"));
  client->write_plaintext("POST /api/v1/request HTTP/1.1\r\n\r\n");
  pump();
  EXPECT_EQ(server_got, "POST /api/v1/request HTTP/1.1\r\n\r\n");
}

TEST_F(tls_session_test, identity_also_works_over_tls_1_2) {
  use_client(pki->operator_cert, pki->operator_key, pki->ca_cert);
  SSL_CTX_set_max_proto_version(client_ctx->native(), TLS1_2_VERSION);
  open();
  pump();
  ASSERT_TRUE(server->handshake_done()) << server->error();
  EXPECT_EQ(server->protocol_version(), "TLSv1.2");
  EXPECT_EQ(server->peer_identity().username, "operator");
  EXPECT_TRUE(
      server->peer_identity().has_method_power("DisruptionManager.Cancel"));
  server->write_plaintext("ok\n");
  pump();
  EXPECT_EQ(client_got, "ok\n");
}

// ---- the client's view of the server ----

TEST_F(tls_session_test, client_verifies_server_name_and_address) {
  for (const char* name : {"localhost", "127.0.0.1", ""}) {
    handshake("", "", pki->ca_cert, name);
    EXPECT_TRUE(client->handshake_done()) << name << ": " << client->error();
    EXPECT_TRUE(client->peer_identity().verified) << name;
    EXPECT_EQ(client->peer_identity().username, "localhost");
  }
}

TEST_F(tls_session_test, client_rejects_wrong_name_or_untrusted_server) {
  handshake("", "", pki->ca_cert, "db.example.com");
  EXPECT_TRUE(client->failed());
  EXPECT_NE(client->error().find("hostname mismatch"), std::string::npos)
      << client->error();
  // The client's alert tells the server, which fails too.
  EXPECT_TRUE(server->failed());
  EXPECT_FALSE(server->error().empty());

  handshake("", "", pki->foreign_ca_cert);
  EXPECT_TRUE(client->failed());
  EXPECT_NE(client->error().find("server certificate"), std::string::npos)
      << client->error();
  EXPECT_TRUE(client->want_close());
}

TEST_F(tls_session_test, insecure_client_accepts_any_server_but_knows_it) {
  handshake("", "", "", "db.example.com"); // insecure_skip_verify
  ASSERT_TRUE(client->handshake_done()) << client->error();
  EXPECT_TRUE(client->peer_identity().has_certificate);
  EXPECT_FALSE(client->peer_identity().verified);
  EXPECT_FALSE(client->peer_identity().verify_error.empty());
}

// ---- failures ----

TEST_F(tls_session_test, plain_http_is_a_clean_failure) {
  tls_session server(*server_ctx);
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_FALSE(server.feed_ciphertext(request.data(), request.size()));
  EXPECT_TRUE(server.failed());
  EXPECT_FALSE(server.error().empty());
  EXPECT_TRUE(server.want_close());
  std::string out;
  EXPECT_EQ(server.read_plaintext(out), 0u);
  EXPECT_FALSE(server.write_plaintext("x"));
  EXPECT_FALSE(server.feed_ciphertext("more", 4));
  server.take_ciphertext(out); // an alert at most
  server.close();
  EXPECT_FALSE(server.handshake_done());
  EXPECT_FALSE(server.peer_identity().has_certificate);
}

TEST_F(tls_session_test, random_garbage_never_crashes) {
  use_client("", "", "");
  std::mt19937 random(42);
  for (int i = 0; i < 300; ++i) {
    std::string junk = payload(1 + random() % 600, static_cast<unsigned>(i));
    if (i % 2 == 0) { // make it look like a handshake record header
      junk[0] = 0x16;
      if (junk.size() > 2)
        junk[1] = 0x03;
    }
    open("");
    std::string out;
    server->feed_ciphertext(junk.data(), junk.size());
    server->read_plaintext(out);
    server->take_ciphertext(out);
    client->feed_ciphertext(junk.data(), junk.size());
    client->read_plaintext(out);
    client->take_ciphertext(out);
    EXPECT_FALSE(server->handshake_done());
    if (server->failed()) {
      EXPECT_FALSE(server->error().empty());
    }
  }
}

TEST_F(tls_session_test, tampered_record_fails_the_session) {
  handshake(pki->machine_cert, pki->machine_key, pki->ca_cert);
  ASSERT_TRUE(server->handshake_done());
  client->write_plaintext("secret\n");
  std::string record;
  client->take_ciphertext(record);
  record[record.size() - 3] ^= 0x20;
  std::string got;
  server->feed_ciphertext(record.data(), record.size());
  server->read_plaintext(got);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(server->failed());
  EXPECT_FALSE(server->error().empty());
}

TEST_F(tls_session_test, truncated_handshake_waits_then_fails_at_eof) {
  use_client("", "", pki->ca_cert);
  open();
  std::string hello;
  client->take_ciphertext(hello);
  ASSERT_GT(hello.size(), 10u);
  EXPECT_TRUE(server->feed_ciphertext(hello.data(), hello.size() / 2));
  std::string out;
  server->read_plaintext(out);
  EXPECT_FALSE(server->handshake_done());
  EXPECT_FALSE(server->failed());
  EXPECT_FALSE(server->want_close());
  EXPECT_EQ(server->pending_ciphertext(), 0u);
  server->feed_eof();
  EXPECT_TRUE(server->failed());
  EXPECT_NE(server->error().find("closed during TLS handshake"),
            std::string::npos)
      << server->error();
}

// ---- closing ----

TEST_F(tls_session_test, close_notify_is_exchanged) {
  handshake("", "", pki->ca_cert);
  client->write_plaintext("bye\n");
  client->close();
  EXPECT_TRUE(client->want_close());
  EXPECT_FALSE(client->write_plaintext("too late"));
  pump();
  EXPECT_EQ(server_got, "bye\n");
  EXPECT_TRUE(server->peer_closed());
  EXPECT_TRUE(server->want_close());
  EXPECT_FALSE(server->failed());
  EXPECT_TRUE(client->peer_closed()); // the server answered with its own
  EXPECT_FALSE(client->failed());
}

TEST_F(tls_session_test, eof_after_handshake_is_a_close_not_a_failure) {
  handshake("", "", pki->ca_cert);
  server->feed_eof();
  EXPECT_TRUE(server->peer_closed());
  EXPECT_TRUE(server->want_close());
  EXPECT_FALSE(server->failed());
}

TEST_F(tls_session_test, moved_session_keeps_working_and_source_is_inert) {
  handshake("", "", pki->ca_cert);
  tls_session moved(std::move(*server));
  EXPECT_TRUE(server->failed()); // NOLINT(bugprone-use-after-move)
  std::string out;
  EXPECT_EQ(server->take_ciphertext(out), 0u);
  EXPECT_FALSE(server->feed_ciphertext("x", 1));
  client->write_plaintext("ping\n");
  ::dm::pump(*client, moved, client_got, server_got);
  EXPECT_EQ(server_got, "ping\n");
}

TEST_F(tls_session_test, many_sessions_share_one_context) {
  use_client(pki->operator_cert, pki->operator_key, pki->ca_cert);
  std::vector<tls_session> servers;
  std::vector<tls_session> clients;
  for (int i = 0; i < 50; ++i) {
    servers.emplace_back(*server_ctx);
    clients.emplace_back(*client_ctx, "localhost");
  }
  for (std::size_t i = 0; i < servers.size(); ++i) {
    std::string client_got;
    std::string server_got;
    clients[i].write_plaintext("n=" + std::to_string(i));
    ::dm::pump(clients[i], servers[i], client_got, server_got);
    EXPECT_EQ(server_got, "n=" + std::to_string(i));
    EXPECT_EQ(servers[i].peer_identity().username, "operator");
  }
}

// ---- the generated webcert ----

class webcert_test : public tls_session_test {
protected:
  // A TLS 1.2 client offering only `ciphers` against a server with an RSA
  // certificate (static RSA key exchange needs one): whether the handshake
  // completes.
  bool tls12_handshake_with(const std::string& ciphers, bool legacy,
                            const std::string& cert, const std::string& key,
                            const std::string& ca, std::string& why) {
    std::string error;
    auto options = server_options(cert, key, ca);
    options.legacy_ciphers = legacy;
    auto made = tls_context::make_server(options, error);
    EXPECT_TRUE(made) << error;
    if (!made)
      return false;
    server_ctx = std::move(*made);
    use_client("", "", ""); // no certificate, no verification
    SSL_CTX_set_max_proto_version(client_ctx->native(), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_set_cipher_list(client_ctx->native(), ciphers.c_str()), 1)
        << ciphers;
    open();
    pump();
    why = server->error();
    EXPECT_EQ(client->handshake_done(), server->handshake_done());
    if (server->handshake_done()) {
      EXPECT_EQ(server->protocol_version(), "TLSv1.2");
    }
    return server->handshake_done() && client->handshake_done();
  }
};

x509_ptr read_certificate(const std::string& path) {
  bio_ptr bio(BIO_new_file(path.c_str(), "r"));
  return x509_ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                      : nullptr);
}

std::vector<std::string> alt_names(X509* cert) {
  std::vector<std::string> names;
  auto* list = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; list && i < sk_GENERAL_NAME_num(list); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(list, i);
    if (name->type == GEN_DNS) {
      names.emplace_back(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
          static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
    } else if (name->type == GEN_IPADD &&
               ASN1_STRING_length(name->d.iPAddress) == 4) {
      const unsigned char* ip = ASN1_STRING_get0_data(name->d.iPAddress);
      names.push_back(std::to_string(ip[0]) + "." + std::to_string(ip[1]) +
                      "." + std::to_string(ip[2]) + "." +
                      std::to_string(ip[3]));
    }
  }
  GENERAL_NAMES_free(list);
  return names;
}

TEST_F(webcert_test, generates_missing_files_once_and_serves_with_them) {
  std::string dir = pki->dir() + "/webcert/a/b";
  std::string cert = dir + "/cert.pem";
  std::string key = dir + "/key.pem";
  std::string error;
  ASSERT_EQ(generate_missing_webcert(cert, key, error),
            webcert_status::generated)
      << error;

  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  x509_ptr parsed = read_certificate(cert);
  ASSERT_TRUE(parsed);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(parsed.get()), NID_commonName,
                            cn, sizeof cn);
  EXPECT_EQ(std::string(cn), std::string(host));
  auto names = alt_names(parsed.get());
  EXPECT_NE(std::find(names.begin(), names.end(), host), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "localhost"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "127.0.0.1"), names.end());
  int days = 0;
  int seconds = 0;
  ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(parsed.get()),
                 X509_get0_notAfter(parsed.get()));
  EXPECT_GE(days, 364);
  EXPECT_LE(days, 366);
  EXPECT_EQ(X509_verify(parsed.get(), X509_get0_pubkey(parsed.get())), 1);

  // Present now: left alone.
  auto before = std::filesystem::last_write_time(cert);
  EXPECT_EQ(generate_missing_webcert(cert, key, error),
            webcert_status::present);
  EXPECT_EQ(std::filesystem::last_write_time(cert), before);

  // A server runs on it; a client that skips verification talks to it.
  auto webcert_ctx =
      tls_context::make_server(server_options(cert, key, pki->ca_cert), error);
  ASSERT_TRUE(webcert_ctx) << error;
  server_ctx = std::move(*webcert_ctx);
  use_client(pki->operator_cert, pki->operator_key, "");
  open();
  client->write_plaintext("hi");
  pump();
  EXPECT_EQ(server_got, "hi");
  EXPECT_EQ(server->peer_identity().username, "operator");
}

TEST_F(webcert_test, rsa_variant_works) {
  std::string cert = pki->dir() + "/rsa/cert.pem";
  std::string key = pki->dir() + "/rsa/key.pem";
  std::string error;
  ASSERT_EQ(
      generate_missing_webcert(cert, key, error, webcert_key_type::rsa_2048),
      webcert_status::generated)
      << error;
  x509_ptr parsed = read_certificate(cert);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(parsed.get())), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(parsed.get())), 2048);
  EXPECT_TRUE(
      tls_context::make_server(server_options(cert, key, pki->ca_cert), error))
      << error;
}

TEST_F(webcert_test, long_host_name_keeps_a_valid_common_name) {
  std::string host = std::string(70, 'h') + ".example.com";
  std::string cert = pki->dir() + "/long/cert.pem";
  std::string key = pki->dir() + "/long/key.pem";
  std::string error;
  ASSERT_TRUE(write_self_signed_webcert(cert, key, host,
                                        webcert_key_type::ecdsa_p256, error))
      << error;
  x509_ptr parsed = read_certificate(cert);
  ASSERT_TRUE(parsed);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(parsed.get()), NID_commonName,
                            cn, sizeof cn);
  EXPECT_EQ(std::string(cn), std::string(64, 'h'));
  auto names = alt_names(parsed.get());
  EXPECT_NE(std::find(names.begin(), names.end(), host), names.end());
}

TEST_F(webcert_test, refuses_to_overwrite_a_lone_file) {
  std::string dir = pki->dir() + "/lone";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/key.pem") << "precious";
  std::string error;
  EXPECT_EQ(
      generate_missing_webcert(dir + "/cert.pem", dir + "/key.pem", error),
      webcert_status::failed);
  EXPECT_NE(error.find("not overwriting"), std::string::npos) << error;
  std::ifstream in(dir + "/key.pem");
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
}

TEST_F(webcert_test, unwritable_directory_is_reported) {
  std::string error;
  EXPECT_EQ(generate_missing_webcert("/proc/dm-test/cert.pem",
                                     "/proc/dm-test/key.pem", error),
            webcert_status::failed);
  EXPECT_NE(error.find("/proc/dm-test"), std::string::npos) << error;
}

TEST_F(webcert_test, tls_1_2_offers_only_forward_secret_aead_suites) {
  std::string cert = pki->dir() + "/suites/cert.pem";
  std::string key = pki->dir() + "/suites/key.pem";
  std::string error;
  ASSERT_TRUE(write_self_signed_webcert(cert, key, "localhost",
                                        webcert_key_type::rsa_2048, error))
      << error;
  std::string why;
  // Static RSA with CBC, and ECDHE with CBC: refused by default.
  EXPECT_FALSE(
      tls12_handshake_with("AES128-SHA", false, cert, key, pki->ca_cert, why));
  EXPECT_NE(why.find("no shared cipher"), std::string::npos) << why;
  EXPECT_FALSE(tls12_handshake_with("ECDHE-RSA-AES128-SHA", false, cert, key,
                                    pki->ca_cert, why));
  EXPECT_FALSE(tls12_handshake_with("AES256-GCM-SHA384", false, cert, key,
                                    pki->ca_cert, why));
  // Forward-secret AEAD suites are offered.
  for (const char* suite :
       {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305"})
    EXPECT_TRUE(
        tls12_handshake_with(suite, false, cert, key, pki->ca_cert, why))
        << suite << ": " << why;
  // -tlsLegacyCiphers brings the old suites back.
  EXPECT_TRUE(
      tls12_handshake_with("AES128-SHA", true, cert, key, pki->ca_cert, why))
      << why;
}

} // namespace
} // namespace dm

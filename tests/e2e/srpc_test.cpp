// SRPC on the service port against the real binary: both coders, plain and
// TLS with generated certificates, method powers, refusals, bad input.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

#include "codec/gob.hpp"
#include "codec/srpc_json.hpp"
#include "srpc/srpc_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/tls_exchange.hpp"

using namespace dm;
using namespace dm::test;

namespace {

machine_record machine(const std::string& host,
                       const std::string& group = "S") {
  machine_record m;
  m.hostname = host;
  m.tags["DisruptionManagerGroupIdentifier"] = group;
  return m;
}

struct call_outcome {
  bool ok = false;
  disruption_state state = disruption_state::anytime;
  std::string response_error;
  std::string error;
};

call_outcome call(srpc_client& client, request_kind kind,
                  const machine_record& m) {
  call_outcome out;
  out.ok = client.call(kind, m, out.state, out.response_error, out.error);
  return out;
}

class plain_srpc : public ::testing::TestWithParam<srpc_coder> {
protected:
  temp_dir dir;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    server = std::make_unique<server_process>(
        DM_SERVER_BINARY, dir.file("state"),
        std::vector<std::string>{"-certFile=" + dir.file("none.pem"),
                                 "-keyFile=" + dir.file("none.key")});
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  std::unique_ptr<srpc_client> connect(const std::string& source) {
    srpc_client_options options;
    options.port = server->port();
    options.source_address = source;
    options.coder = GetParam();
    std::string error;
    auto client = srpc_client::connect(options, error);
    EXPECT_TRUE(client) << error;
    return client;
  }
};

} // namespace

TEST_P(plain_srpc, all_three_methods_and_ping_on_one_connection) {
  auto a = connect("127.0.10.1");
  ASSERT_TRUE(a);
  std::string error;
  EXPECT_TRUE(a->ping(error)) << error;
  auto r = call(*a, request_kind::request, machine("127.0.10.1"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.state, disruption_state::permitted);
  EXPECT_EQ(r.response_error, "");
  auto b = connect("127.0.10.2");
  ASSERT_TRUE(b);
  EXPECT_EQ(call(*b, request_kind::request, machine("127.0.10.2")).state,
            disruption_state::requested);
  EXPECT_EQ(call(*a, request_kind::check, machine("127.0.10.1")).state,
            disruption_state::permitted);
  EXPECT_TRUE(a->ping(error)) << error;
  EXPECT_EQ(call(*a, request_kind::cancel, machine("127.0.10.1")).state,
            disruption_state::denied);
  EXPECT_EQ(call(*b, request_kind::check, machine("127.0.10.2")).state,
            disruption_state::permitted);
  // REST sees the same state.
  EXPECT_EQ(disruption(server->port(), "check", "127.0.10.2",
                       R"({"DisruptionManagerGroupIdentifier":"S"})"),
            "permitted");
}

TEST_P(plain_srpc, calls_sent_right_behind_the_connect_are_served) {
  // A client need not wait for the CONNECT reply: what follows it in the
  // same write belongs to SRPC, not HTTP.
  bool gob = GetParam() == srpc_coder::gob;
  auto m = machine("127.0.11.1");
  std::string bytes = gob ? "CONNECT /_goSRPC_/ HTTP/1.0\n\n"
                          : "CONNECT /_SRPC_/unsecured/JSON HTTP/1.0\n\n";
  // Two pings: an empty line, which HTTP would read as the end of a head.
  bytes += "\n\nDisruptionManager.Request\n";
  bytes += gob ? encode_gob_request("DisruptionRequestRequest", m)
               : encode_json_request(m);
  std::string expected = "HTTP/1.0 200 Connected to Go SRPC\n\n"
                         "\n\n" // the pings
                         "\n"   // the method may proceed
                         "\n";  // the call succeeded; its value follows
  expected += gob ? encode_gob_response("DisruptionRequestResponse", "",
                                        disruption_state::permitted)
                  : encode_json_response("", disruption_state::permitted);
  int fd = connect_from("127.0.11.1", server->port());
  ASSERT_GE(fd, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  std::string got;
  char buffer[4096];
  while (got.size() < expected.size()) {
    auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0)
      break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(got, expected);
}

TEST_P(plain_srpc, bad_method_lines_keep_the_connection) {
  auto c = connect("127.0.11.1");
  ASSERT_TRUE(c);
  std::string error;
  std::string line;
  ASSERT_TRUE(c->send_raw("DisruptionManager.Reboot\n", error));
  ASSERT_TRUE(c->read_line(line, error));
  EXPECT_EQ(line, "DisruptionManager: unknown method: Reboot");
  ASSERT_TRUE(c->send_raw("Hypervisor.Check\n", error));
  ASSERT_TRUE(c->read_line(line, error));
  EXPECT_EQ(line, "unknown service: Hypervisor");
  ASSERT_TRUE(c->send_raw("nodot\n", error));
  ASSERT_TRUE(c->read_line(line, error));
  EXPECT_EQ(line, "malformed Service.Method: nodot");
  auto r = call(*c, request_kind::request, machine("127.0.11.1"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.state, disruption_state::permitted);
}

TEST_P(plain_srpc, self_only_rule_answers_in_the_error_field) {
  auto c = connect("127.0.12.1");
  ASSERT_TRUE(c);
  auto r = call(*c, request_kind::request, machine("127.0.12.99"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response_error, "127.0.12.99 not permitted");
  r = call(*c, request_kind::cancel, machine("127.0.12.99"));
  EXPECT_EQ(r.response_error, "127.0.12.99 not permitted");
  r = call(*c, request_kind::check, machine("127.0.12.99"));
  EXPECT_EQ(r.response_error, "");
  EXPECT_EQ(r.state, disruption_state::denied);
}

// As over REST: no NUL in a name, no number only the C library reads.
TEST_P(plain_srpc, self_only_rule_cannot_be_got_around) {
  auto c = connect("127.0.0.1");
  ASSERT_TRUE(c);
  using namespace std::string_literals;
  auto r = call(*c, request_kind::request, machine("127.0.0.1\0victim"s));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response_error, "MDB.Hostname contains control character U+0000");
  EXPECT_EQ(r.state, disruption_state::anytime);
  for (const std::string name : {"127.1", "0177.0.0.1", "2130706433"}) {
    r = call(*c, request_kind::request, machine(name));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response_error, "lookup " + name + ": no such host");
  }
  r = call(*c, request_kind::request, machine("localhost", "L1"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response_error, "");
  EXPECT_EQ(r.state, disruption_state::permitted);
  r = call(*c, request_kind::request, machine("127.0.0.1", "L2"));
  EXPECT_EQ(r.response_error, "");
  EXPECT_EQ(r.state, disruption_state::permitted);
}

TEST_P(plain_srpc, tls_paths_are_not_served_without_certificates) {
  srpc_client_options options;
  options.port = server->port();
  options.coder = GetParam();
  client_tls_options tls_options;
  tls_options.check = server_check::insecure_skip_verify;
  std::string error;
  options.tls = std::make_shared<const tls_context>(
      std::move(*tls_context::make_client(tls_options, error)));
  EXPECT_FALSE(srpc_client::connect(options, error));
  EXPECT_NE(error.find("404"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(coders, plain_srpc,
                         ::testing::Values(srpc_coder::gob, srpc_coder::json),
                         [](const auto& info) {
                           return info.param == srpc_coder::gob ? "gob"
                                                                : "json";
                         });

TEST(srpc_hostile, garbage_truncation_and_huge_lengths_leave_server_serving) {
  temp_dir dir;
  server_process server(
      DM_SERVER_BINARY, dir.file("state"),
      {"-certFile=" + dir.file("x"), "-keyFile=" + dir.file("y")});
  ASSERT_TRUE(server.start()) << server.log_text();
  auto fresh = [&] {
    srpc_client_options options;
    options.port = server.port();
    std::string error;
    auto client = srpc_client::connect(options, error);
    EXPECT_TRUE(client) << error;
    return client;
  };
  std::string error;
  std::string line;
  {
    // Garbage as the request value: an error line, then the server hangs up.
    auto c = fresh();
    ASSERT_TRUE(c->send_raw("DisruptionManager.Check\n", error));
    ASSERT_TRUE(c->read_line(line, error));
    EXPECT_EQ(line, "");
    ASSERT_TRUE(c->send_raw("\x05\xff\xff\xff\xff\xff", error));
    ASSERT_TRUE(c->read_line(line, error));
    EXPECT_NE(line.find("gob"), std::string::npos) << line;
    EXPECT_FALSE(c->read_line(line, error));
  }
  {
    // A declared length far beyond the limit.
    auto c = fresh();
    ASSERT_TRUE(c->send_raw("DisruptionManager.Check\n", error));
    ASSERT_TRUE(c->read_line(line, error));
    ASSERT_TRUE(c->send_raw(std::string("\xfc\x7f\xff\xff\xff", 5), error));
    ASSERT_TRUE(c->read_line(line, error));
    EXPECT_FALSE(line.empty());
  }
  {
    // A client that stops mid-call and goes away.
    auto c = fresh();
    ASSERT_TRUE(c->send_raw("DisruptionManager.Request\n", error));
    ASSERT_TRUE(c->read_line(line, error));
    auto bytes =
        encode_gob_request("DisruptionRequestRequest", machine("127.0.0.1"));
    ASSERT_TRUE(c->send_raw(bytes.substr(0, bytes.size() / 2), error));
  }
  auto raw_exchange = [&](const std::string& bytes) {
    int fd = connect_from("127.0.0.1", server.port());
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char buffer[256] = {0};
    auto n = ::recv(fd, buffer, sizeof(buffer) - 1, 0);
    ::close(fd);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n))
                 : std::string();
  };
  // Garbage after CONNECT: a malformed request line.
  EXPECT_EQ(raw_exchange("CONNECT \x01\x02 garbage\n\n").substr(0, 12),
            "HTTP/1.1 400");
  // A path the server does not serve: 404, so Go clients try the next one.
  EXPECT_EQ(raw_exchange("CONNECT /_other_/ HTTP/1.0\n\n").substr(0, 12),
            "HTTP/1.1 404");
  // A query Go's ParseForm refuses: 400.
  EXPECT_EQ(raw_exchange("CONNECT /_goSRPC_/?doNotUseMethodPowers=%7 "
                         "HTTP/1.0\n\n")
                .substr(0, 12),
            "HTTP/1.1 400");
  {
    // gob strings may hold any bytes: a name that is not UTF-8 is refused
    // in the Error field, and the connection goes on.
    auto c = fresh();
    auto r = call(*c, request_kind::check, machine("bad-\xfd\xff-host"));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response_error, "MDB.Hostname is not valid UTF-8");
    r = call(*c, request_kind::check, machine("127.0.0.1", "grp-\xc0\xaf"));
    EXPECT_EQ(r.response_error, "the group identifier is not valid UTF-8");
  }
  auto c = fresh();
  auto r = call(*c, request_kind::request, machine("127.0.0.1"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.state, disruption_state::permitted);
}

namespace {

struct tls_srpc : ::testing::Test {
  temp_dir dir;
  test_pki pki;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    server = std::make_unique<server_process>(
        DM_SERVER_BINARY, dir.file("state"), server_tls_flags(pki));
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  std::unique_ptr<srpc_client> connect(const std::string& cert,
                                       const std::string& key,
                                       const std::string& source,
                                       srpc_coder coder, bool tls_first,
                                       std::string& error) {
    srpc_client_options options;
    options.port = server->port();
    options.source_address = source;
    options.coder = coder;
    options.tls = client_tls(pki, cert, key);
    options.tls_first = tls_first;
    return srpc_client::connect(options, error);
  }
};

} // namespace

TEST_F(tls_srpc, plain_srpc_is_refused_with_405) {
  srpc_client_options options;
  options.port = server->port();
  std::string error;
  EXPECT_FALSE(srpc_client::connect(options, error));
  EXPECT_NE(error.find("405"), std::string::npos) << error;
}

TEST_F(tls_srpc, plain_paths_are_refused_inside_tls_too) {
  // TLS first, then CONNECT to a plain path inside it: 405, as the
  // original answers (Go clients ask for the TLS paths there).
  auto context = client_tls(pki, pki.operator_cert, pki.operator_key);
  for (const std::string path :
       {"/_goSRPC_/", "/_SRPC_/unsecured/JSON", "/_go_TLS_SRPC_/"}) {
    int fd = connect_from("127.0.23.1", server->port());
    ASSERT_GE(fd, 0);
    timeval wait{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    auto plain = tls_exchange(fd, *context, "CONNECT " + path + " HTTP/1.0\n\n",
                              [](const std::string& text, const tls_session&) {
                                return text.find("\n\n") != std::string::npos;
                              });
    ::close(fd);
    if (path == "/_go_TLS_SRPC_/")
      EXPECT_EQ(plain.substr(0, 33), "HTTP/1.0 200 Connected to Go SRPC")
          << plain;
    else
      EXPECT_EQ(plain.substr(9, 3), "405") << path << ": " << plain;
  }
}

TEST_F(tls_srpc, operator_with_power_may_act_for_any_machine) {
  for (auto coder : {srpc_coder::gob, srpc_coder::json}) {
    for (bool tls_first : {false, true}) {
      std::string error;
      auto c = connect(pki.operator_cert, pki.operator_key, "127.0.20.1", coder,
                       tls_first, error);
      ASSERT_TRUE(c) << error;
      auto host = "far-away-" + std::to_string(static_cast<int>(coder)) +
                  (tls_first ? "a" : "b");
      auto r = call(*c, request_kind::request, machine(host, host));
      ASSERT_TRUE(r.ok) << r.error;
      EXPECT_EQ(r.response_error, "");
      EXPECT_EQ(r.state, disruption_state::permitted);
      r = call(*c, request_kind::cancel, machine(host, host));
      EXPECT_EQ(r.state, disruption_state::denied);
    }
  }
}

TEST_F(tls_srpc, machine_without_power_acts_only_for_itself) {
  std::string error;
  auto c = connect(pki.machine_cert, pki.machine_key, "127.0.0.5",
                   srpc_coder::gob, false, error);
  ASSERT_TRUE(c) << error;
  auto r = call(*c, request_kind::request, machine("127.0.0.5"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.state, disruption_state::permitted);
  r = call(*c, request_kind::request, machine("127.0.0.6"));
  EXPECT_EQ(r.response_error, "127.0.0.6 not permitted");
  // Asking not to use powers makes the operator a plain caller too.
  srpc_client_options options;
  options.port = server->port();
  options.source_address = "127.0.21.1";
  options.tls = client_tls(pki, pki.operator_cert, pki.operator_key);
  options.do_not_use_method_powers = true;
  auto op = srpc_client::connect(options, error);
  ASSERT_TRUE(op) << error;
  r = call(*op, request_kind::request, machine("127.0.0.7"));
  EXPECT_EQ(r.response_error, "127.0.0.7 not permitted");
}

TEST_F(tls_srpc, foreign_certificate_is_refused) {
  std::string error;
  // TLS first, CONNECT inside: the CONNECT is answered 401.
  EXPECT_FALSE(connect(pki.foreign_cert, pki.foreign_key, "127.0.22.1",
                       srpc_coder::gob, true, error));
  EXPECT_NE(error.find("401"), std::string::npos) << error;
  // CONNECT first: the connection ends at the first call.
  auto c = connect(pki.foreign_cert, pki.foreign_key, "127.0.22.1",
                   srpc_coder::gob, false, error);
  if (c) {
    auto r = call(*c, request_kind::check, machine("127.0.22.1"));
    EXPECT_FALSE(r.ok);
  }
  // The server is fine afterwards.
  auto ok = connect(pki.machine_cert, pki.machine_key, "127.0.0.5",
                    srpc_coder::json, false, error);
  ASSERT_TRUE(ok) << error;
  EXPECT_TRUE(call(*ok, request_kind::check, machine("127.0.0.5")).ok);
}

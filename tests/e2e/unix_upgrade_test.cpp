// .LocalUpgradeToUnix as Dominator's client uses it on the service's own
// host: the SRPC connection moves to the -srpcUnixSocketPath socket and
// gets the same answers there; a connection to that socket that does not
// hold a cookie the server handed out gets nothing.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "srpc/local_upgrade.hpp"
#include "srpc/srpc_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

using namespace dm;
using namespace dm::test;

namespace {

machine_record machine(const std::string& host) {
  machine_record m;
  m.hostname = host;
  m.tags["DisruptionManagerGroupIdentifier"] = "U" + host;
  return m;
}

// The state or the Error of one call; "failed: ..." when the call failed.
std::string call(srpc_client& client, request_kind kind,
                 const std::string& host) {
  disruption_state state = disruption_state::anytime;
  std::string response_error;
  std::string error;
  if (!client.call(kind, machine(host), state, response_error, error))
    return "failed: " + error;
  return response_error.empty() ? std::string(to_string(state))
                                : response_error;
}

// A Unix socket connected to `name`, or -1.
int connect_unix(const std::string& name) {
  sockaddr_un address{};
  socklen_t length = 0;
  std::string error;
  if (!unix_socket_address(name, address, length, error))
    return -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Bytes that arrive on `fd` within `wait` (stopping at `enough` of them).
std::string read_within(int fd, std::chrono::milliseconds wait,
                        std::size_t enough = 1024) {
  std::string got;
  pollfd p{fd, POLLIN, 0};
  while (got.size() < enough &&
         ::poll(&p, 1, static_cast<int>(wait.count())) > 0) {
    char buffer[256];
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0)
      break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  return got;
}

struct unix_upgrade : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  std::string socket_name;

  void start(const std::string& name, std::vector<std::string> extra = {}) {
    socket_name = name;
    extra.push_back("-srpcUnixSocketPath=" + name);
    extra.push_back("-certFile=" + dir.file("none.pem"));
    extra.push_back("-keyFile=" + dir.file("none.key"));
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), extra);
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  std::unique_ptr<srpc_client> connect(srpc_coder coder,
                                       bool no_powers = false) {
    srpc_client_options options;
    options.port = server->port();
    options.source_address = "127.0.0.1";
    options.coder = coder;
    options.do_not_use_method_powers = no_powers;
    std::string error;
    auto client = srpc_client::connect(options, error);
    EXPECT_TRUE(client) << error;
    return client;
  }
};

} // namespace

TEST_F(unix_upgrade, an_upgraded_connection_gets_the_same_answers) {
  for (const std::string& name : {"@dm-test-" + std::to_string(::getpid()) +
                                      "-" + std::to_string(free_port()),
                                  dir.file("srpc.sock")}) {
    SCOPED_TRACE(name);
    start(name);
    for (auto coder : {srpc_coder::gob, srpc_coder::json}) {
      auto client = connect(coder);
      ASSERT_TRUE(client);
      EXPECT_EQ(call(*client, request_kind::request, "127.0.0.1"), "permitted");
      std::string error;
      ASSERT_TRUE(client->upgrade_to_unix(error)) << error;
      EXPECT_TRUE(client->on_unix_socket());
      // The same connection, now on the Unix socket: same answers, and the
      // caller is still the TCP peer it was (the self-only rule).
      EXPECT_EQ(call(*client, request_kind::check, "127.0.0.1"), "permitted");
      EXPECT_EQ(call(*client, request_kind::request, "127.0.0.1"), "permitted");
      EXPECT_EQ(call(*client, request_kind::request, "127.0.77.1"),
                "127.0.77.1 not permitted");
      EXPECT_EQ(call(*client, request_kind::cancel, "127.0.0.1"), "denied");
      EXPECT_TRUE(client->ping(error)) << error;
    }
    server->stop();
  }
}

TEST_F(unix_upgrade, a_certificates_powers_go_along) {
  test_pki pki;
  socket_name = dir.file("tls.sock");
  auto args = server_tls_flags(pki);
  args.push_back("-srpcUnixSocketPath=" + socket_name);
  server = std::make_unique<server_process>(DM_SERVER_BINARY, dir.file("state"),
                                            args);
  ASSERT_TRUE(server->start()) << server->log_text();
  srpc_client_options options;
  options.port = server->port();
  options.source_address = "127.0.0.1";
  options.tls = client_tls(pki, pki.operator_cert, pki.operator_key);
  std::string error;
  auto client = srpc_client::connect(options, error);
  ASSERT_TRUE(client) << error;
  ASSERT_TRUE(client->upgrade_to_unix(error)) << error;
  EXPECT_TRUE(client->on_unix_socket());
  EXPECT_EQ(call(*client, request_kind::request, "127.0.78.1"), "permitted");
  EXPECT_EQ(call(*client, request_kind::cancel, "127.0.78.1"), "denied");
}

TEST_F(unix_upgrade, a_wrong_cookie_gets_nothing) {
  start(dir.file("srpc.sock"));
  // A stranger on the socket: its cookie is acknowledged (as the original
  // does) and then nothing comes, whatever it sends.
  int stranger = connect_unix(socket_name);
  ASSERT_GE(stranger, 0);
  ASSERT_EQ(::send(stranger, "12345678", 8, MSG_NOSIGNAL), 8);
  EXPECT_EQ(read_within(stranger, std::chrono::milliseconds(5000), 1),
            std::string(1, '\0'));
  ::send(stranger, "DisruptionManager.Check\n", 24, MSG_NOSIGNAL);
  EXPECT_EQ(read_within(stranger, std::chrono::milliseconds(1000)), "");
  ::close(stranger);

  // An SRPC client that says it sent the server's cookie but sent another:
  // "cookie not found", and its connection stays on TCP, still served.
  auto client = connect(srpc_coder::json);
  ASSERT_TRUE(client);
  std::string error;
  std::string line;
  ASSERT_TRUE(client->send_raw(".LocalUpgradeToUnix\n", error) &&
              client->read_line(line, error))
      << error;
  ASSERT_EQ(line, "");
  ASSERT_TRUE(
      client->send_raw(encode_json_upgrade_request_one("mycookie"), error) &&
      client->read_line(line, error))
      << error;
  unix_upgrade_value one;
  std::size_t consumed = 0;
  ASSERT_EQ(decode_json_upgrade(line + "\n", consumed, one, error),
            upgrade_json_status::done)
      << line;
  EXPECT_EQ(one.error, "");
  EXPECT_EQ(one.server_cookie.size(), unix_cookie_bytes);
  EXPECT_EQ(one.socket_pathname, socket_name);
  int impostor = connect_unix(socket_name);
  ASSERT_GE(impostor, 0);
  std::string wrong = one.server_cookie;
  wrong[0] = static_cast<char>(wrong[0] ^ 1);
  ASSERT_EQ(::send(impostor, wrong.data(), wrong.size(), MSG_NOSIGNAL), 8);
  EXPECT_EQ(read_within(impostor, std::chrono::milliseconds(5000), 1),
            std::string(1, '\0'));
  ASSERT_TRUE(client->send_raw(encode_json_upgrade_request_two(true), error) &&
              client->read_line(line, error))
      << error;
  unix_upgrade_value two;
  ASSERT_EQ(decode_json_upgrade(line + "\n", consumed, two, error),
            upgrade_json_status::done)
      << line;
  EXPECT_EQ(two.error, "cookie not found");
  EXPECT_EQ(read_within(impostor, std::chrono::milliseconds(1000)), "");
  ::close(impostor);
  EXPECT_FALSE(client->on_unix_socket());
  EXPECT_EQ(call(*client, request_kind::check, "127.0.0.1"), "denied");
}

TEST_F(unix_upgrade, refused_without_powers_or_without_a_socket) {
  start(dir.file("srpc.sock"));
  std::string error;
  // doNotUseMethodPowers: the builtin method is not granted.
  auto plain = connect(srpc_coder::gob, true);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->upgrade_to_unix(error));
  EXPECT_EQ(error, "access to method denied");
  EXPECT_EQ(call(*plain, request_kind::check, "127.0.0.1"), "denied");
  server->stop();
  // -srpcUnixSocketPath= (empty): "no socket", and the call ends there.
  start("");
  auto client = connect(srpc_coder::gob);
  ASSERT_TRUE(client);
  EXPECT_FALSE(client->upgrade_to_unix(error));
  EXPECT_EQ(error, "server: no socket");
  EXPECT_FALSE(client->on_unix_socket());
  EXPECT_EQ(call(*client, request_kind::check, "127.0.0.1"), "denied");
}

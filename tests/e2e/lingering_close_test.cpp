// An error answer that ends a connection arrives even while the client is
// still sending the body the server will not read: the server stops
// sending, reads and drops the rest for a while, then closes (a lingering
// close). Closing at once with input unread makes the kernel answer the
// client's next bytes with a reset, which fails its writes (curl reports a
// send failure, Go's client often the reset instead of the answer) and, on
// a real network, can discard the answer still in flight. Over HTTP and
// HTTPS, without Expect: 100-continue, many times.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tls/tls_session.hpp"

using namespace dm;
using namespace dm::test;

namespace {

constexpr std::size_t body_bytes = 16u << 20; // the limit is 1 KiB
constexpr int rounds = 10;

std::string oversized_head() {
  return "POST /api/v1/request HTTP/1.1\r\nHost: x\r\nContent-Length: " +
         std::to_string(body_bytes) + "\r\n\r\n";
}

int open_connection(int port) {
  int fd = connect_from("127.0.0.1", port);
  if (fd < 0)
    return -1;
  timeval tv{20, 0}; // generous: nothing here should wait at all
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The status line's code in `answer`, 0 when there is none.
int status_of(const std::string& answer) {
  if (answer.size() < 12 || answer.rfind("HTTP/1.", 0) != 0)
    return 0;
  return std::atoi(answer.substr(9, 3).c_str());
}

// As curl does: the head, then the whole body, and only then the answer;
// a write that fails (a reset) fails the exchange, as curl's "Send failure".
std::string post_plain(int port) {
  int fd = open_connection(port);
  if (fd < 0)
    return "no connection";
  const std::string piece(64 * 1024, 'x');
  bool sending = send_all(fd, oversized_head());
  for (std::size_t sent = 0; sending && sent < body_bytes; sent += piece.size())
    sending = send_all(fd, piece);
  if (!sending) {
    std::string why = std::string("send failure: ") + std::strerror(errno);
    ::close(fd);
    return why;
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      if (n < 0 && answer.empty())
        answer = std::string("recv: ") + std::strerror(errno);
      break;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

std::string post_tls(int port, const tls_context& context) {
  int fd = open_connection(port);
  if (fd < 0)
    return "no connection";
  tls_session tls(context, "127.0.0.1");
  std::string plain;
  char buffer[16384];
  auto pump_out = [&] {
    std::string out;
    tls.take_ciphertext(out);
    return send_all(fd, out);
  };
  auto pump_in = [&] {
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0)
      return false;
    tls.feed_ciphertext(buffer, static_cast<std::size_t>(n));
    tls.read_plaintext(plain);
    return !tls.failed();
  };
  while (!tls.handshake_done() && !tls.failed())
    if (!pump_out() || !pump_in())
      break;
  if (!tls.handshake_done()) {
    ::close(fd);
    return "no handshake";
  }
  tls.write_plaintext(oversized_head());
  bool sending = pump_out();
  const std::string piece(64 * 1024, 'x');
  for (std::size_t sent = 0; sending && sent < body_bytes;
       sent += piece.size()) {
    tls.write_plaintext(piece);
    sending = pump_out();
  }
  if (!sending) {
    std::string why = std::string("send failure: ") + std::strerror(errno);
    ::close(fd);
    return why;
  }
  while (pump_in() && !tls.peer_closed()) {
  }
  ::close(fd);
  return plain;
}

struct lingering_close : ::testing::Test {
  temp_dir dir;
  test_pki pki;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    auto args = server_tls_flags(pki);
    args.push_back("-maxRequestBytes=1024");
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), args);
    ASSERT_TRUE(server->start()) << server->log_text();
  }
};

} // namespace

TEST_F(lingering_close, a_413_arrives_over_http_while_the_body_is_still_sent) {
  int received = 0;
  for (int i = 0; i < rounds; ++i) {
    auto answer = post_plain(server->port());
    EXPECT_EQ(status_of(answer), 413) << "round " << i << ": " << answer;
    received += status_of(answer) == 413;
  }
  EXPECT_EQ(received, rounds);
}

TEST_F(lingering_close, a_413_arrives_over_https_while_the_body_is_still_sent) {
  auto context = client_tls(pki, "", "");
  ASSERT_TRUE(context);
  int received = 0;
  for (int i = 0; i < rounds; ++i) {
    auto answer = post_tls(server->port(), *context);
    EXPECT_EQ(status_of(answer), 413) << "round " << i << ": " << answer;
    received += status_of(answer) == 413;
  }
  EXPECT_EQ(received, rounds);
}

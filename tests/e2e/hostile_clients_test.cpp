// Hostile clients against the real server: thousands of idle connections,
// slowloris headers, a client that never reads, oversized requests, a
// flood of half-done TLS handshakes, handshakes and SRPC values trickled a
// byte at a time, and a stranger's cancel with a costly template. Each is
// cut off by a limit or a timeout (flags), and a well-behaved client is
// served throughout.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "tests/support/sanitizer.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process_status.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/trickle.hpp"

using namespace dm::test;
using namespace std::chrono_literals;

namespace {

long rss_kib(pid_t pid) {
  return status_kib(pid, "VmRSS:");
}

// The value of an unlabelled figure on /metrics, or -1.
long metric(int port, const std::string& name) {
  auto page = http_get(port, "/metrics").body;
  auto at = page.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stol(page.substr(at + name.size() + 2));
}

// True when the server closed the connection (EOF) within `wait`.
bool closed_within(int fd, std::chrono::milliseconds wait) {
  timeval tv{static_cast<long>(wait.count() / 1000),
             static_cast<long>((wait.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buffer[65536];
  for (;;) {
    auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0)
      return true;
    if (n < 0)
      return errno == ECONNRESET;
  }
}

bool well_behaved_ok(int port, const std::string& host) {
  return disruption(
             port, "request", host,
             R"({"DisruptionManagerGroupIdentifier":"Good","DisruptionManagerGroupMaximumDisrupting":"1000"})") ==
         "permitted";
}

struct hostile_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  void start(std::vector<std::string> extra = {}) {
    raise_fd_limit();
    std::vector<std::string> args = {"-maxConnections=2500", "-idleTimeout=2s",
                                     "-requestTimeout=1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), args);
    ASSERT_TRUE(server->start()) << server->log_text();
  }
};

} // namespace

TEST_F(hostile_fixture,
       thousands_of_idle_connections_are_capped_and_timed_out) {
  start();
  std::vector<int> idle;
  for (int i = 0; i < 2400; ++i) {
    int fd =
        connect_from("127.0.90." + std::to_string(1 + i % 250), server->port());
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.91.1"));
  // Over the limit: answered 503 and closed at once.
  std::vector<int> over;
  for (int i = 0; i < 150; ++i)
    over.push_back(connect_from("127.0.92.1", server->port()));
  std::this_thread::sleep_for(200ms);
  int refused = 0;
  for (int fd : over) {
    char buffer[256] = {0};
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (::recv(fd, buffer, sizeof(buffer) - 1, 0) > 0 &&
        std::string(buffer).find("503") != std::string::npos)
      ++refused;
    ::close(fd);
  }
  EXPECT_GE(refused, 50);
  // Idle ones are closed after the idle timeout (2 s, swept each second).
  int closed = 0;
  for (std::size_t i = 0; i < idle.size(); ++i)
    if (closed_within(idle[i], i == 0 ? 5000ms : 100ms))
      ++closed;
  EXPECT_EQ(closed, static_cast<int>(idle.size()));
  for (int fd : idle)
    ::close(fd);
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.91.2"));
}

TEST_F(hostile_fixture, slowloris_headers_are_cut_off) {
  start();
  int fd = connect_from("127.0.93.1", server->port());
  std::string start_line = "POST /api/v1/request HTTP/1.1\r\nX-Slow: ";
  ::send(fd, start_line.data(), start_line.size(), MSG_NOSIGNAL);
  auto began = std::chrono::steady_clock::now();
  bool cut = false;
  while (std::chrono::steady_clock::now() - began < 6s) {
    if (::send(fd, "a", 1, MSG_NOSIGNAL) < 0) {
      cut = true;
      break;
    }
    EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.93.2"));
    char byte;
    timeval tv{0, 300000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (::recv(fd, &byte, 1, 0) == 0) {
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << "a request trickling in was not cut off";
  ::close(fd);
}

TEST_F(hostile_fixture, client_that_never_reads_does_not_grow_the_server) {
  start();
  auto rss_before = rss_kib(server->pid());
  int fd = connect_from("127.0.94.1", server->port());
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string burst;
  for (int i = 0; i < 200; ++i)
    burst += request;
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::size_t sent = 0;
  auto began = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - began < 3s) {
    auto n = ::send(fd, burst.data(), burst.size(), MSG_NOSIGNAL);
    if (n <= 0)
      break; // The server stopped reading: back-pressure.
    sent += static_cast<std::size_t>(n);
  }
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.94.2"));
  auto rss_after = rss_kib(server->pid());
  std::printf("never-reading client: %zu bytes of requests accepted, server "
              "RSS %ld -> %ld KiB\n",
              sent, rss_before, rss_after);
  // (A sanitizer's shadow memory and allocation history grow with any work.)
  EXPECT_LT(rss_after - rss_before, (under_sanitizer() ? 256 : 64) * 1024);
  EXPECT_LT(sent, 64u << 20);
  EXPECT_TRUE(closed_within(fd, 6000ms)) << "idle timeout should end it";
  ::close(fd);
}

TEST_F(hostile_fixture, oversized_headers_and_bodies_are_refused) {
  start();
  http_connection big_header(server->port());
  auto answer = big_header.exchange(
      "GET / HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'h') + "\r\n\r\n");
  EXPECT_EQ(answer.status, 431);
  // A body announced larger than the limit is refused before it is sent.
  http_connection big_body(server->port());
  answer = big_body.exchange("POST /api/v1/request HTTP/1.1\r\n"
                             "Content-Length: 100000000\r\n\r\n");
  EXPECT_EQ(answer.status, 413);
  http_connection chunked(server->port());
  answer = chunked.exchange("POST /api/v1/request HTTP/1.1\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(answer.status, 411);
  // Two Transfer-Encoding fields and a length: a proxy honouring the last
  // field would read a chunked body, the length would frame another; the
  // request is refused (501, as Go's server) and the connection closed, so
  // nothing after it is taken for a request.
  http_connection smuggler(server->port());
  answer = smuggler.exchange(
      "POST /api/v1/request HTTP/1.1\r\nTransfer-Encoding: identity\r\n"
      "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
      "0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(answer.status, 501);
  EXPECT_NE(answer.body.find("Unsupported transfer encoding"),
            std::string::npos)
      << answer.body;
  EXPECT_EQ(smuggler.exchange("GET /healthz HTTP/1.1\r\n\r\n").status, 0);
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.95.1"));
}

TEST_F(hostile_fixture, flood_of_half_done_tls_handshakes) {
  test_pki pki;
  start({"-certFile=" + pki.server_cert, "-keyFile=" + pki.server_key,
         "-CAfile=" + pki.ca_cert});
  std::vector<int> stalled;
  // A TLS record header promising a ClientHello that never comes whole.
  const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc";
  for (int i = 0; i < 500; ++i) {
    int fd =
        connect_from("127.0.96." + std::to_string(1 + i % 200), server->port());
    ASSERT_GE(fd, 0);
    ::send(fd, hello, sizeof(hello) - 1, MSG_NOSIGNAL);
    stalled.push_back(fd);
  }
  // Garbage that is not TLS at all after the first byte.
  for (int i = 0; i < 200; ++i) {
    int fd = connect_from("127.0.97.1", server->port());
    std::string junk = "\x16" + std::string(300, '\x7f');
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.98.1"));
  int closed = 0;
  for (std::size_t i = 0; i < stalled.size(); ++i)
    if (closed_within(stalled[i], i == 0 ? 4000ms : 100ms))
      ++closed;
  EXPECT_EQ(closed, static_cast<int>(stalled.size()));
  for (int fd : stalled)
    ::close(fd);
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.98.2"));
}

// Out of descriptors: the server cannot accept the connections waiting in
// its backlog. It stops watching the listening socket for a while instead
// of spinning on it (one log line per failed accept, at full CPU), reports
// once, and accepts again when descriptors are free.
TEST_F(hostile_fixture, out_of_descriptors_pauses_accepting_and_logs_once) {
  raise_fd_limit();
  server =
      std::make_unique<server_process>(DM_SERVER_BINARY, dir.file("state"));
  ASSERT_TRUE(server->start()) << server->log_text();
  const auto pid = std::to_string(server->pid());
  std::size_t in_use = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + pid + "/fd"))
    ++in_use;
  std::string out;
  ASSERT_EQ(run_program({"/usr/bin/prlimit", "--pid", pid,
                         "--nofile=" + std::to_string(in_use + 10) + ":"},
                        out),
            0)
      << out;
  std::vector<int> clients;
  for (int i = 0; i < 40; ++i) {
    int fd = connect_from("127.0.93.1", server->port());
    ASSERT_GE(fd, 0) << i;
    clients.push_back(fd);
  }
  // Long enough for a spinning loop to write thousands of lines.
  std::this_thread::sleep_for(3s);
  auto log = server->log_text();
  auto reports = count_of(log, "Too many open files");
  EXPECT_GE(reports, 1u) << log.substr(0, 2000);
  EXPECT_LE(reports, 2u) << log.substr(0, 2000);
  for (int fd : clients)
    ::close(fd);
  ASSERT_EQ(
      run_program({"/usr/bin/prlimit", "--pid", pid, "--nofile=4096:"}, out), 0)
      << out;
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.93.2"));
  auto metrics = http_get(server->port(), "/metrics").body;
  const std::string name = "\ndisruption_manager_accept_pauses_total ";
  auto at = metrics.find(name);
  ASSERT_NE(at, std::string::npos) << metrics.substr(0, 500);
  EXPECT_NE(metrics.substr(at + name.size(), 2), "0\n");
}

TEST_F(hostile_fixture,
       a_strangers_cancel_with_a_huge_template_is_refused_before_expanding_it) {
  start();
  // Each action keeps a 999999-byte string alive until the template ends:
  // expanded, these 120 would hold some 120 MB (within the tag's 4096
  // bytes; a longer tag is refused for its size before anything else).
  std::string ready_url = "http://x/";
  for (int i = 0; i < 120; ++i)
    ready_url += "{{$v" + std::to_string(i) + " := printf \"%999999d\" 1}}";
  ASSERT_LE(ready_url.size(), 4096u);
  nlohmann::json body = {
      {"MDB",
       {{"Hostname", "192.0.2.1"},
        {"Tags", {{"DisruptionManagerReadyUrl", ready_url}}}}},
      {"Request", "cancel"}};
  auto refused_before =
      metric(server->port(), "disruption_manager_access_refused_total");
  auto peak_before = status_kib(server->pid(), "VmHWM:");
  auto answer =
      http_post(server->port(), "/api/v1/request", body.dump(), "127.0.99.1");
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.body, "192.0.2.1 not permitted\n");
  EXPECT_EQ(metric(server->port(), "disruption_manager_access_refused_total"),
            refused_before + 1);
  auto peak_after = status_kib(server->pid(), "VmHWM:");
  std::printf("stranger's cancel: server peak RSS %ld -> %ld KiB\n",
              peak_before, peak_after);
  EXPECT_LT(peak_after - peak_before, (under_sanitizer() ? 256 : 64) * 1024);
  EXPECT_TRUE(well_behaved_ok(server->port(), "127.0.99.2"));
}

namespace {

// Clients that each send their bytes one at a time, every two seconds,
// never finishing.
struct tricklers {
  std::vector<trickler> clients;
  std::size_t cut = 0;

  void add(int fd, std::string bytes) {
    clients.emplace_back(fd, std::move(bytes));
  }
  // One byte each; counts those the server has closed.
  void step() {
    cut = 0;
    for (auto& client : clients)
      if (!client.step())
        ++cut;
  }
  bool all_cut() const { return cut == clients.size(); }
};

// Fills every connection slot with tricklers, then checks that they are cut
// off and that a new client is answered while they would still be sending.
void trickle_and_serve(server_process& server, int connections,
                       const std::function<int(int)>& open_trickler,
                       const std::function<std::string()>& payload) {
  tricklers clients;
  for (int i = 0; i < connections; ++i) {
    int fd = open_trickler(i);
    ASSERT_GE(fd, 0) << i;
    clients.add(fd, payload());
  }
  bool served = false;
  auto began = std::chrono::steady_clock::now();
  // A payload lasts minutes at this pace; the bound is generous beside the
  // two-second deadline.
  while (std::chrono::steady_clock::now() - began < 40s &&
         !(served && clients.all_cut())) {
    clients.step();
    if (!served)
      served = well_behaved_ok(server.port(),
                               "127.0.100." + std::to_string(1 + clients.cut));
    std::this_thread::sleep_for(2s);
  }
  EXPECT_TRUE(served) << "no new client was answered";
  EXPECT_EQ(clients.cut, clients.clients.size()) << "tricklers not cut off";
}

} // namespace

TEST(every_phase_has_a_deadline,
     trickled_tls_handshakes_and_srpc_values_are_cut_off) {
  raise_fd_limit();
  const std::vector<std::string> flags = {
      "-requestTimeout=2s", "-idleTimeout=5s", "-maxConnections=100"};
  {
    // A ClientHello record, a byte every two seconds.
    temp_dir dir;
    test_pki pki;
    auto args = flags;
    args.push_back("-certFile=" + pki.server_cert);
    args.push_back("-keyFile=" + pki.server_key);
    args.push_back("-CAfile=" + pki.ca_cert);
    server_process server(DM_SERVER_BINARY, dir.file("state"), args);
    ASSERT_TRUE(server.start()) << server.log_text();
    trickle_and_serve(
        server, 100,
        [&](int i) {
          return connect_from("127.0.101." + std::to_string(1 + i),
                              server.port());
        },
        [] { return "\x16\x03\x01\x02\x00" + std::string(512, '\x01'); });
  }
  {
    // An SRPC JSON value, a byte every two seconds, after a prompt CONNECT
    // and method line.
    temp_dir dir;
    server_process server(DM_SERVER_BINARY, dir.file("state"), flags);
    ASSERT_TRUE(server.start()) << server.log_text();
    trickle_and_serve(
        server, 100,
        [&](int i) {
          int fd =
              connect_from("127.0.102." + std::to_string(1 + i), server.port());
          std::string start = "CONNECT /_SRPC_/unsecured/JSON HTTP/1.0\r\n\r\n"
                              "DisruptionManager.Check\n";
          ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
          // The CONNECT answer and the method line's "\n".
          std::string got;
          timeval tv{5, 0};
          setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
          char buffer[256];
          while (got.find("\n\n\n") == std::string::npos) {
            auto n = ::recv(fd, buffer, sizeof(buffer), 0);
            if (n <= 0) {
              ::close(fd);
              return -1;
            }
            got.append(buffer, static_cast<std::size_t>(n));
          }
          return fd;
        },
        [] {
          return R"({"MDB":{"Hostname":")" + std::string(300, 'h') + R"("}})";
        });
  }
}

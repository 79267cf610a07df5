// The real disruption-manager-client binary against the real server on
// loopback: exit codes over REST and SRPC (both coders, plain and TLS), and
// a one-line reason with a distinct code for each kind of failure.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

using namespace dm::test;

namespace {

// The client is built next to the server binary.
std::string client_binary() {
  return (std::filesystem::path(DM_SERVER_BINARY).parent_path() /
          "disruption-manager-client")
      .string();
}

// Runs the client with `args`, its stdout and stderr kept apart.
program_run run_client(std::vector<std::string> args) {
  args.insert(args.begin(), client_binary());
  return run_program(args, program_options{});
}

// The contract on failures: exactly one line on stderr, nothing on stdout.
void expect_one_line_reason(const program_run& run) {
  EXPECT_EQ(run.out, "");
  ASSERT_FALSE(run.err.empty());
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_EQ(run.err.back(), '\n');
}

// A socket listening on a free loopback port (-1 on failure); `port` is
// set to it.
int listen_on_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
      ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    if (fd >= 0)
      ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

std::string record_json(const std::string& host, const std::string& group) {
  return R"({"Hostname":")" + host +
         R"(","Tags":{"DisruptionManagerGroupIdentifier":")" + group +
         R"("},"SomeNewerField":[1,2]})";
}

struct client_program : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;

  void start(std::vector<std::string> args = {}) {
    if (args.empty())
      args = {"-certFile=" + dir.file("none.pem"),
              "-keyFile=" + dir.file("none.key")};
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), args);
    ASSERT_TRUE(server->start()) << server->log_text();
  }
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(client_binary()))
        << "build the disruption-manager-client target first";
  }

  std::string url(const std::string& scheme = "http") const {
    auto base = scheme + "://127.0.0.1:" + std::to_string(server->port());
    return scheme.rfind("http", 0) == 0 ? base + "/api/v1/request" : base;
  }

  // Writes a record for `host` in `group`; returns the file name.
  std::string record(const std::string& host, const std::string& group) {
    auto name = "record-" + host + "-" + group + ".json";
    dir.write(name, record_json(host, group));
    return dir.file(name);
  }

  // The client acting as machine `host` (connecting from it).
  program_run as(const std::string& host, const std::string& group,
                 const std::string& op, const std::string& server_url,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-disruptionManagerUrl=" + server_url,
                                     "-mdbFile=" + record(host, group),
                                     "-sourceAddress=" + host, "-timeout=5s"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(op);
    return run_client(args);
  }
};

// The answers a queue of two machines goes through, as exit codes.
void expect_queue_sequence(client_program& t, const std::string& server_url,
                           const std::string& a, const std::string& b,
                           const std::string& group,
                           const std::vector<std::string>& extra = {}) {
  auto run = t.as(a, group, "request", server_url, extra);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "permitted\n");
  EXPECT_EQ(run.err, "");
  run = t.as(b, group, "request", server_url, extra);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.out, "requested\n");
  EXPECT_EQ(t.as(b, group, "check", server_url, extra).exit_code, 1);
  EXPECT_EQ(t.as(a, group, "check", server_url, extra).exit_code, 0);
  run = t.as(a, group, "cancel", server_url, extra);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.out, "denied\n");
  EXPECT_EQ(t.as(b, group, "check", server_url, extra).exit_code, 0);
  EXPECT_EQ(t.as(b, group, "cancel", server_url, extra).exit_code, 2);
  EXPECT_EQ(t.as(b, group, "check", server_url, extra).exit_code, 2);
}

} // namespace

TEST_F(client_program, rest_exit_codes_follow_the_answers) {
  start();
  expect_queue_sequence(*this, url(), "127.0.30.1", "127.0.30.2", "C");
}

TEST_F(client_program, url_without_path_posts_to_the_rest_endpoint) {
  start();
  auto bare = "http://127.0.0.1:" + std::to_string(server->port());
  EXPECT_EQ(as("127.0.30.3", "D", "request", bare).exit_code, 0);
  EXPECT_EQ(as("127.0.30.3", "D", "check", bare + "/").exit_code, 0);
}

TEST_F(client_program, srpc_gob_exit_codes_follow_the_answers) {
  start();
  expect_queue_sequence(*this, url("srpc"), "127.0.31.1", "127.0.31.2", "C");
}

TEST_F(client_program, srpc_json_exit_codes_follow_the_answers) {
  start();
  expect_queue_sequence(*this, url("srpc+json"), "127.0.32.1", "127.0.32.2",
                        "C");
}

TEST_F(client_program, ipv6_source_address_over_every_transport) {
  start();
  // ::1 asks for itself, over REST and both SRPC coders.
  auto port = std::to_string(server->port());
  int step = 0;
  for (const std::string base : {"http", "srpc", "srpc+json"}) {
    auto server_url =
        base + "://[::1]:" + port + (base == "http" ? "/api/v1/request" : "");
    auto op = step++ % 2 == 0 ? "request" : "cancel";
    auto run = as("::1", "V6", op, server_url);
    EXPECT_EQ(run.exit_code, std::string(op) == "request" ? 0 : 2)
        << base << ": " << run.err;
    EXPECT_EQ(run.err, "") << base;
  }
}

TEST_F(client_program, protocols_share_one_state) {
  start();
  EXPECT_EQ(as("127.0.33.1", "S", "request", url("srpc")).exit_code, 0);
  EXPECT_EQ(as("127.0.33.2", "S", "request", url()).exit_code, 1);
  EXPECT_EQ(as("127.0.33.1", "S", "cancel", url("srpc+json")).exit_code, 2);
  EXPECT_EQ(as("127.0.33.2", "S", "check", url("srpc")).exit_code, 0);
}

TEST_F(client_program, server_down_is_a_connection_error) {
  int port = free_port();
  for (const std::string scheme : {"http", "srpc"}) {
    auto run = run_client({"-disruptionManagerUrl=" + scheme +
                               "://127.0.0.1:" + std::to_string(port),
                           "-mdbFile=" + record("127.0.34.1", "G"),
                           "-timeout=5s", "check"});
    EXPECT_EQ(run.exit_code, 5) << scheme << ": " << run.err;
    expect_one_line_reason(run);
    EXPECT_NE(run.err.find("connect"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("refused"), std::string::npos) << run.err;
  }
}

TEST_F(client_program, silent_server_times_out) {
  // A listening socket nobody accepts from: connecting works, no answer
  // ever comes.
  int listening_port = 0;
  int fd = listen_on_loopback(listening_port);
  ASSERT_GE(fd, 0);
  auto port = std::to_string(listening_port);
  for (const std::string scheme : {"http", "srpc"}) {
    auto run = run_client(
        {"-disruptionManagerUrl=" + scheme + "://127.0.0.1:" + port,
         "-mdbFile=" + record("127.0.34.2", "G"), "-timeout=300ms", "check"});
    EXPECT_EQ(run.exit_code, 5) << scheme << ": " << run.err;
    expect_one_line_reason(run);
    EXPECT_NE(run.err.find("timed out"), std::string::npos) << run.err;
  }
  ::close(fd);
}

// Answers one HTTP request per body in `bodies`, in turn, on its own
// thread, each with 200 and that body; listens on `port`.
struct canned_http_server {
  explicit canned_http_server(std::vector<std::string> bodies) {
    fd = listen_on_loopback(port);
    worker = std::thread([this, bodies] {
      for (const auto& body : bodies) {
        int client = ::accept(fd, nullptr, nullptr);
        if (client < 0)
          return;
        // Read the request's head and body before answering.
        std::string in;
        char buffer[4096];
        for (;;) {
          auto end = in.find("\r\n\r\n");
          if (end != std::string::npos) {
            auto at = in.find("Content-Length: ");
            std::size_t length =
                at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
            if (in.size() >= end + 4 + length)
              break;
          }
          auto n = ::recv(client, buffer, sizeof buffer, 0);
          if (n <= 0)
            break;
          in.append(buffer, static_cast<std::size_t>(n));
        }
        std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: " +
                             std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n" + body;
        ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
        ::close(client);
      }
    });
  }
  ~canned_http_server() {
    worker.join();
    ::close(fd);
  }
  int fd = -1;
  int port = 0;
  std::thread worker;
};

TEST_F(client_program, rest_states_must_be_names) {
  // As the original's JSON reader: a state written as a number is not an
  // answer, so it never reads as a permit.
  canned_http_server server({"{\"Response\": \"permitted\"}",
                             "{\"Response\": 1}", "{\"Response\": \"1\"}"});
  auto url =
      "-disruptionManagerUrl=http://127.0.0.1:" + std::to_string(server.port);
  auto named = run_client(
      {url, "-mdbFile=" + record("127.0.34.3", "G"), "-timeout=5s", "check"});
  EXPECT_EQ(named.exit_code, 0) << named.err;
  for (int i = 0; i < 2; ++i) {
    auto run = run_client(
        {url, "-mdbFile=" + record("127.0.34.3", "G"), "-timeout=5s", "check"});
    EXPECT_EQ(run.exit_code, 6) << run.out << run.err;
    expect_one_line_reason(run);
    EXPECT_NE(run.err.find("unexpected answer"), std::string::npos) << run.err;
  }
}

TEST_F(client_program, timeout_bounds_the_whole_srpc_exchange) {
  // A server that accepts the CONNECT, then sends a byte now and then but
  // never a whole answer: each read gets something, the call never ends.
  int port = 0;
  int fd = listen_on_loopback(port);
  ASSERT_GE(fd, 0);
  std::thread dripper([fd] {
    int client = ::accept(fd, nullptr, nullptr);
    if (client < 0)
      return;
    char buffer[4096];
    ::recv(client, buffer, sizeof buffer, 0); // the CONNECT
    std::string reply = "HTTP/1.0 200 Connected to Go SRPC\n\n";
    ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    for (int i = 0; i < 40; ++i) { // 20 s at most
      if (::send(client, "x", 1, MSG_NOSIGNAL) != 1)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ::close(client);
  });
  auto started = std::chrono::steady_clock::now();
  auto run = run_client(
      {"-disruptionManagerUrl=srpc://127.0.0.1:" + std::to_string(port),
       "-mdbFile=" + record("127.0.34.4", "G"), "-timeout=1s", "check"});
  auto took = std::chrono::steady_clock::now() - started;
  dripper.join();
  ::close(fd);
  EXPECT_EQ(run.exit_code, 5) << run.err;
  expect_one_line_reason(run);
  EXPECT_NE(run.err.find("timed out"), std::string::npos) << run.err;
  // One second of limit, not one per read: far less than the 20 s the
  // server would go on for.
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(client_program, usage_errors_exit_3) {
  start();
  auto rec = "-mdbFile=" + record("127.0.35.1", "G");
  auto server_url = "-disruptionManagerUrl=" + url();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {server_url, rec, "reboot"},
           {server_url, rec},
           {server_url, rec, "check", "extra"},
           {server_url, rec, "-noSuchFlag", "check"},
           {"-timeout=soon", server_url, rec, "check"},
           {"-disruptionManagerUrl=ftp://127.0.0.1:1", rec, "check"},
           {"-disruptionManagerUrl=http://127.0.0.1:99999", rec, "check"},
           {"-sourceAddress=not-an-address", server_url, rec, "check"}}) {
    auto run = run_client(args);
    EXPECT_EQ(run.exit_code, 3) << args.back() << ": " << run.err;
    expect_one_line_reason(run);
  }
  auto run = run_client({server_url, rec, "reboot"});
  EXPECT_NE(run.err.find("unknown operation \"reboot\""), std::string::npos)
      << run.err;
  // Help is no permit.
  run = run_client({"-h"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("-disruptionManagerUrl"), std::string::npos);
}

TEST_F(client_program, bad_record_files_exit_4) {
  start();
  dir.write("broken.json", R"({"Hostname": "127.0.36.1", "Tags": {)");
  dir.write("wrong-type.json", R"({"Hostname": "127.0.36.1", "Tags": 7})");
  dir.write("list.json", R"([{"Hostname": "127.0.36.1"}])");
  struct bad_file {
    std::string path;
    std::string mentions;
  };
  for (const auto& bad :
       std::vector<bad_file>{{dir.file("missing.json"), "cannot read"},
                             {dir.file("broken.json"), "not valid JSON"},
                             {dir.file("wrong-type.json"), "Tags"},
                             {dir.file("list.json"), "object"}}) {
    auto run = run_client(
        {"-disruptionManagerUrl=" + url(), "-mdbFile=" + bad.path, "check"});
    EXPECT_EQ(run.exit_code, 4) << bad.path << ": " << run.err;
    expect_one_line_reason(run);
    EXPECT_NE(run.err.find(bad.path), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(bad.mentions), std::string::npos) << run.err;
  }
}

TEST_F(client_program, acting_for_another_machine_is_a_server_error) {
  start();
  // The record names 127.0.37.9 but the call comes from 127.0.37.8.
  auto other = "-mdbFile=" + record("127.0.37.9", "G");
  auto run = run_client({"-disruptionManagerUrl=" + url(), other,
                         "-sourceAddress=127.0.37.8", "request"});
  EXPECT_EQ(run.exit_code, 6) << run.err;
  expect_one_line_reason(run);
  EXPECT_NE(run.err.find("403"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("127.0.37.9 not permitted"), std::string::npos)
      << run.err;
  for (const std::string scheme : {"srpc", "srpc+json"}) {
    run = run_client({"-disruptionManagerUrl=" + url(scheme), other,
                      "-sourceAddress=127.0.37.8", "cancel"});
    EXPECT_EQ(run.exit_code, 6) << scheme << ": " << run.err;
    expect_one_line_reason(run);
    EXPECT_NE(run.err.find("127.0.37.9 not permitted"), std::string::npos)
        << run.err;
  }
  // check is open to anyone.
  run = run_client({"-disruptionManagerUrl=" + url(), other,
                    "-sourceAddress=127.0.37.8", "check"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
}

namespace {

struct client_program_tls : client_program {
  test_pki pki;

  void SetUp() override {
    client_program::SetUp();
    start({"-certFile=" + pki.server_cert, "-keyFile=" + pki.server_key,
           "-CAfile=" + pki.ca_cert});
  }

  // The machine whose certificate test_pki issues is 127.0.0.5.
  program_run machine(const std::string& op, const std::string& server_url,
                      std::vector<std::string> extra) {
    return as("127.0.0.5", "T", op, server_url, std::move(extra));
  }
  std::vector<std::string> with_cert(const std::string& ca) const {
    return {"-certFile=" + pki.machine_cert, "-keyFile=" + pki.machine_key,
            "-CAfile=" + ca};
  }
};

} // namespace

TEST_F(client_program_tls, srpc_over_tls_with_both_coders_and_https) {
  auto tls = with_cert(pki.ca_cert);
  auto run = machine("request", url("srpc"), tls);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(machine("check", url("srpc+json"), tls).exit_code, 0);
  EXPECT_EQ(machine("check", url("https"), tls).exit_code, 0);
  run = machine("cancel", url("https"), tls);
  EXPECT_EQ(run.exit_code, 2) << run.err;
}

TEST_F(client_program_tls, https_without_a_certificate_of_our_own) {
  auto run = machine("check", url("https"), {"-CAfile=" + pki.ca_cert});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  run = machine("check", url("https"), {"-insecureSkipVerify"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
}

TEST_F(client_program_tls, server_verification_is_never_skipped_silently) {
  // No CA and no -insecureSkipVerify: refused before connecting.
  auto run = machine("check", url("https"), {});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  expect_one_line_reason(run);
  EXPECT_NE(run.err.find("-CAfile"), std::string::npos) << run.err;
  // A CA that did not sign the server's certificate.
  for (const std::string scheme : {"https", "srpc"}) {
    run = machine("check", url(scheme), with_cert(pki.foreign_ca_cert));
    EXPECT_EQ(run.exit_code, 5) << scheme << ": " << run.err;
    expect_one_line_reason(run);
    EXPECT_NE(run.err.find("TLS"), std::string::npos) << run.err;
  }
  // A CA file that is not there.
  run = machine("check", url("https"), with_cert(dir.file("no-ca.pem")));
  EXPECT_EQ(run.exit_code, 3) << run.err;
  expect_one_line_reason(run);
}

TEST_F(client_program_tls, plain_srpc_refused_by_a_tls_server) {
  auto run = machine("check", url("srpc"), {});
  EXPECT_EQ(run.exit_code, 6) << run.err;
  expect_one_line_reason(run);
  EXPECT_NE(run.err.find("405"), std::string::npos) << run.err;
}

// A -timeout up to Go's largest duration is a timeout far away, not one
// that wrapped into the past (docs/semantics.md, "Edges"); one nanosecond
// more is refused, as Go's flag parsing refuses it.
TEST_F(client_program, timeout_at_gos_largest_duration) {
  start();
  for (auto server_url : {url(), url("srpc"), url("srpc+json")}) {
    for (std::string timeout :
         {"2562047h47m16.854775807s", "9223372036854775807ns", "2100000h"}) {
      auto run =
          as("127.0.34.9", "G", "check", server_url, {"-timeout=" + timeout});
      EXPECT_EQ(run.exit_code, 2)
          << server_url << " " << timeout << ": " << run.err;
      EXPECT_EQ(run.out, "denied\n");
    }
  }
  auto run = as("127.0.34.9", "G", "check", url(),
                {"-timeout=2562047h47m16.854775808s"});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(run.err.find("timeout"), std::string::npos) << run.err;
}

// The ready-URL fetcher against real loopback servers: it must fetch as the
// original's http.Get does (docs/semantics.md, "Edges").
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <cstdlib>

#include "net/url_fetcher.hpp"
#include "tests/support/test_pki.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

// A loopback server that hands each request's head to `answer`, which
// writes what it likes on the socket; one connection at a time.
class raw_server {
public:
  using handler = std::function<void(int fd, const std::string& head)>;

  explicit raw_server(handler answer) : answer_(std::move(answer)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 16);
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~raw_server() {
    stop = true;
    thread_.join();
    ::close(listener_);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  std::vector<std::string> heads() {
    std::lock_guard<std::mutex> lock(mutex_);
    return heads_;
  }

  int port = 0;
  std::atomic<bool> stop{false};

private:
  void serve() {
    while (!stop) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0)
        continue;
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      timeval five{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
      std::string head;
      char buffer[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        auto n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0)
          break;
        head.append(buffer, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        heads_.push_back(head);
      }
      answer_(fd, head);
      ::close(fd);
    }
  }

  handler answer_;
  int listener_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> heads_;
};

void send_text(int fd, const std::string& text) {
  ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

std::string request_line(const std::string& head) {
  return head.substr(0, head.find("\r\n"));
}

std::string path_of(const std::string& head) {
  auto line = request_line(head);
  auto start = line.find(' ') + 1;
  return line.substr(start, line.rfind(' ') - start);
}

// The value of header `name` in a request head; "(none)" when absent.
std::string header_of(const std::string& head, const std::string& name) {
  auto at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos)
    return "(none)";
  at += name.size() + 4;
  return head.substr(at, head.find("\r\n", at) - at);
}

int fetch(const std::string& url, std::string& error,
          std::chrono::nanoseconds timeout = 5s) {
  http_url_fetcher fetcher;
  return fetcher.get_status(url, timeout, error);
}

} // namespace

// "http://user:password@host/": Basic authorization, not a host named
// "user:password@host"; a relative Location keeps the user information,
// so the next request carries it again.
TEST(url_fetcher, sends_user_info_as_basic_authorization) {
  raw_server server([](int fd, const std::string& head) {
    if (header_of(head, "Authorization") != "Basic dXNlcjpwYSBzcw==") {
      send_text(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (path_of(head) == "/start")
      send_text(fd, "HTTP/1.1 302 Found\r\nLocation: next?x=1\r\n"
                    "Content-Length: 0\r\n\r\n");
    else
      send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  std::string error;
  auto url =
      "http://user:pa%20ss@127.0.0.1:" + std::to_string(server.port) + "/start";
  EXPECT_EQ(fetch(url, error), 200) << error;
  auto heads = server.heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(request_line(heads[0]), "GET /start HTTP/1.1");
  EXPECT_EQ(header_of(heads[0], "Host"),
            "127.0.0.1:" + std::to_string(server.port));
  EXPECT_EQ(request_line(heads[1]), "GET /next?x=1 HTTP/1.1");
  // The Referer names the page redirected from, without the user part.
  EXPECT_EQ(header_of(heads[1], "Referer"), server.url("/start"));
  EXPECT_EQ(header_of(heads[0], "Referer"), "(none)");
}

TEST(url_fetcher, absolute_location_without_user_info_drops_authorization) {
  raw_server target([](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  raw_server redirector([&](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 307 Temporary\r\nLocation: " +
                      target.url("/there") + "\r\nContent-Length: 0\r\n\r\n");
  });
  std::string error;
  auto url = "http://u:p@127.0.0.1:" + std::to_string(redirector.port) + "/";
  EXPECT_EQ(fetch(url, error), 204) << error;
  ASSERT_EQ(redirector.heads().size(), 1u);
  EXPECT_NE(header_of(redirector.heads()[0], "Authorization"), "(none)");
  ASSERT_EQ(target.heads().size(), 1u);
  EXPECT_EQ(header_of(target.heads()[0], "Authorization"), "(none)");
  EXPECT_EQ(request_line(target.heads()[0]), "GET /there HTTP/1.1");
}

// 301, 302, 303, 307 and 308 are followed, each with GET; at the tenth
// redirect Go's client stops, and so do we (a failed probe).
TEST(url_fetcher, follows_redirects_up_to_gos_limit) {
  std::atomic<int> redirects_wanted{0};
  raw_server server([&](int fd, const std::string& head) {
    static const int codes[] = {301, 302, 303, 307, 308};
    auto path = path_of(head);
    int step = std::stoi(path.substr(1));
    if (step >= redirects_wanted) {
      send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    send_text(fd, "HTTP/1.1 " + std::to_string(codes[step % 5]) +
                      " Elsewhere\r\nLocation: /" + std::to_string(step + 1) +
                      "\r\nContent-Length: 0\r\n\r\n");
  });
  std::string error;
  redirects_wanted = 9;
  EXPECT_EQ(fetch(server.url("/0"), error), 200) << error;
  auto heads = server.heads();
  ASSERT_EQ(heads.size(), 10u);
  for (const auto& head : heads)
    EXPECT_EQ(head.substr(0, 4), "GET ");
  redirects_wanted = 10;
  EXPECT_EQ(fetch(server.url("/0"), error), -1);
  EXPECT_NE(error.find("stopped after 10 redirects"), std::string::npos)
      << error;
  EXPECT_EQ(server.heads().size(), 20u);
}

TEST(url_fetcher, redirect_without_location_is_its_own_answer) {
  raw_server server([](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
  });
  std::string error;
  EXPECT_EQ(fetch(server.url("/"), error), 302) << error;
}

// The status line decides; the body is neither read nor waited for.
TEST(url_fetcher, decides_on_the_status_without_reading_the_body) {
  raw_server server([&](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    // A byte a second: the body would take ten seconds, and each pause is
    // longer than the fetch's whole timeout.
    for (int i = 0; i < 100 && !server.stop; ++i) {
      std::this_thread::sleep_for(100ms);
      if (i % 10 == 9 && ::send(fd, "x", 1, MSG_NOSIGNAL) != 1)
        break;
    }
  });
  std::string error;
  EXPECT_EQ(fetch(server.url("/slow"), error, 500ms), 200) << error;
  server.stop = true;
}

TEST(url_fetcher, a_server_that_never_answers_times_out) {
  raw_server server([&](int fd, const std::string&) {
    pollfd p{fd, POLLIN, 0};
    while (!server.stop && ::poll(&p, 1, 20) == 0) {
    }
  });
  std::string error;
  EXPECT_EQ(fetch(server.url("/hang"), error, 300ms), -1);
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
}

// What Go's URL parser makes of an expanded template is what is sent:
// spaces raw in the query (such a server answers 400), the path escaped
// by Go's rules.
TEST(url_fetcher, sends_the_request_line_go_would_send) {
  raw_server server([](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  std::string error;
  EXPECT_EQ(fetch(server.url("/a b/c;d,e[f]<g>\"?q=a b&r=<\"x\">#frag"), error),
            400)
      << error;
  ASSERT_EQ(server.heads().size(), 1u);
  EXPECT_EQ(request_line(server.heads()[0]),
            "GET /a%20b/c;d,e%5Bf%5D%3Cg%3E%22?q=a b&r=<\"x\"> HTTP/1.1");
  EXPECT_EQ(header_of(server.heads()[0], "User-Agent"), "Go-http-client/1.1");
}

// URLs Go refuses are failed probes, and nothing is connected to.
TEST(url_fetcher, refuses_what_go_refuses_without_connecting) {
  raw_server server([](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  auto port = std::to_string(server.port);
  struct refusal {
    std::string url;
    std::string reason;
  };
  for (const auto& r : std::vector<refusal>{
           {server.url("/%zz"), "invalid URL escape \"%zz\""},
           {server.url("/\x01"), "invalid control character in URL"},
           {"http://127.0.0.1:" + port + "x/", "invalid port"},
           {"http://us er@127.0.0.1:" + port + "/", "invalid userinfo"},
           {"ftp://127.0.0.1:" + port + "/", "unsupported protocol scheme"},
           {"127.0.0.1:" + port + "/", "first path segment in URL cannot"},
           {"http:///ready", "no Host in request URL"},
           {"http://a<b:" + port + "/", "invalid Host header"},
           {"http://127.0.0.1:99999/", "invalid port"},
       }) {
    std::string error;
    EXPECT_EQ(fetch(r.url, error), -1) << r.url;
    EXPECT_NE(error.find(r.reason), std::string::npos)
        << r.url << ": " << error;
  }
  EXPECT_TRUE(server.heads().empty());
  // An empty port is no port (Go's removeEmptyPort): 80.
  std::string error;
  fetch("http://127.0.0.1:/", error, 200ms);
  EXPECT_EQ(error.find("invalid port"), std::string::npos) << error;
}

TEST(url_fetcher, bad_location_is_a_failed_probe) {
  raw_server server([](int fd, const std::string&) {
    send_text(fd, "HTTP/1.1 302 Found\r\nLocation: http://h/%zz\r\n"
                  "Content-Length: 0\r\n\r\n");
  });
  std::string error;
  EXPECT_EQ(fetch(server.url("/"), error), -1);
  EXPECT_NE(error.find("failed to parse Location header"), std::string::npos)
      << error;
}

// HTTPS servers are checked against the CAs the system trusts, as Go's
// client checks them; OpenSSL's SSL_CERT_FILE points those at the test CA.
TEST(url_fetcher, https_is_verified_against_the_systems_cas) {
  test::test_pki pki;
  httplib::SSLServer web(pki.server_cert.c_str(), pki.server_key.c_str());
  web.Get("/ready", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
  });
  web.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/ready", 308);
  });
  int port = web.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { web.listen_after_bind(); });
  while (!web.is_running())
    std::this_thread::sleep_for(5ms);
  auto url = "https://127.0.0.1:" + std::to_string(port);
  auto fetch_trusting = [&](const std::string& ca_file, const std::string& path,
                            std::string& error) {
    ::setenv("SSL_CERT_FILE", ca_file.c_str(), 1);
    http_url_fetcher fetcher;
    ::unsetenv("SSL_CERT_FILE");
    return fetcher.get_status(url + path, 5s, error);
  };
  std::string error;
  EXPECT_EQ(fetch_trusting(pki.ca_cert, "/moved", error), 200) << error;
  EXPECT_EQ(fetch_trusting(pki.foreign_ca_cert, "/ready", error), -1);
  EXPECT_NE(error.find("certificate"), std::string::npos) << error;
  web.stop();
  serving.join();
}

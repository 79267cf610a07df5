// The operator pages as a browser sees them: headless Chromium loads the
// status page and the dashboard from the real server, at small and large size.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/child_process.hpp"
#include "tests/support/sanitizer.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/window_specs.hpp"

using namespace dm::test;

namespace {

using std::chrono::steady_clock;

// The chromium executable on PATH, or empty.
std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = (dir.empty() ? std::string(".") : dir) + "/chromium";
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

// Runs Chromium headless with a fresh profile, as the leader of a process
// group, so that a hang is ended with all its helper processes. Its stdout
// (`out`) is the serialized DOM with --dump-dom.
program_run
run_chromium(const std::string& chromium, std::vector<std::string> page_args,
             std::chrono::seconds timeout = std::chrono::seconds(30)) {
  temp_dir profile;
  std::vector<std::string> args = {chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + profile.path()};
  args.insert(args.end(), page_args.begin(), page_args.end());
  program_options options;
  options.own_process_group = true;
  options.timeout = timeout;
  return run_program(args, options);
}

std::string describe(const program_run& run) {
  return "chromium exit " + std::to_string(run.exit_code) +
         (run.timed_out ? " (timed out)" : "") + "\nstderr:\n" + run.err;
}

// Reads one answer on `fd`; the body, or empty if the connection ended first.
std::string read_answer_body(int fd) {
  std::string data;
  char chunk[4096];
  for (;;) {
    auto end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      auto pos = data.find("Content-Length: ");
      std::size_t length = pos != std::string::npos && pos < end
                               ? std::stoul(data.substr(pos + 16))
                               : 0;
      if (data.size() >= end + 4 + length)
        return data.substr(end + 4, length);
    }
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0)
      return {};
    data.append(chunk, static_cast<std::size_t>(n));
  }
}

// 127.1.0.1 .. 127.1.39.250 for 10,000 machines.
std::string machine_address(int i) {
  return "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

// Sends `request` for machines 0..count-1, each on its own connection from
// the machine's own address (the self-only rule allows nothing else). Each
// thread keeps a batch in flight, so the server answers many of them per
// sync instead of one sync per machine. Returns how many were permitted.
int register_machines(int port, int count, const nlohmann::json& tags) {
  constexpr int threads = 4;
  constexpr int batch = 100;
  std::atomic<int> permitted{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<int> mine;
      for (int i = t; i < count; i += threads)
        mine.push_back(i);
      for (std::size_t first = 0; first < mine.size(); first += batch) {
        std::vector<int> fds;
        auto last = std::min(mine.size(), first + batch);
        for (auto k = first; k < last; ++k) {
          auto host = machine_address(mine[k]);
          int fd = connect_from(host, port);
          if (fd < 0)
            continue;
          auto body = nlohmann::json{
              {"MDB", {{"Hostname", host}, {"Tags", tags}}},
              {"Request",
               "request"}}.dump();
          auto raw = "POST /api/v1/request HTTP/1.1\r\nHost: test\r\n"
                     "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body;
          if (::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(raw.size()))
            fds.push_back(fd);
          else
            ::close(fd);
        }
        for (int fd : fds) {
          if (read_answer_body(fd).find("\"permitted\"") != std::string::npos)
            ++permitted;
          ::close(fd);
        }
      }
    });
  }
  for (auto& w : workers)
    w.join();
  return permitted;
}

// Sits between Chromium and the server and keeps every request head, so a
// test can tell the dashboard's own refresh (a script fetch, Sec-Fetch-Mode
// cors) from a reload (a navigation), and act just before a request is
// forwarded.
class recording_proxy {
public:
  using hook = std::function<void(const std::string& request_head)>;

  recording_proxy(int server_port, hook before_forward = {})
      : server_port_(server_port), before_forward_(std::move(before_forward)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0)
      return;
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~recording_proxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable())
      acceptor_.join();
    ::close(listen_fd_);
    for (auto& c : connections_)
      c.join();
  }

  int port() const { return port_; }

  std::vector<std::string> request_heads() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return heads_;
  }

private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        return;
      timeval tv{30, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      connections_.emplace_back([this, fd] { relay(fd); });
    }
  }

  // One upstream connection per browser connection, one GET at a time, as
  // the browser keeps connections alive.
  void relay(int fd) {
    http_connection upstream(server_port_);
    std::string data;
    char chunk[8192];
    for (;;) {
      auto end = data.find("\r\n\r\n");
      if (end == std::string::npos) {
        auto n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0)
          break;
        data.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      auto head = data.substr(0, end + 4);
      data.erase(0, end + 4);
      {
        std::lock_guard<std::mutex> guard(mutex_);
        heads_.push_back(head);
      }
      if (before_forward_)
        before_forward_(head);
      auto answer = upstream.exchange(head);
      if (answer.status == 0)
        break;
      auto raw = answer.headers + "\r\n\r\n";
      if (answer.chunks > 0) {
        // Passed on as one chunk: the browser sees the same framing.
        char size[20];
        std::snprintf(size, sizeof(size), "%zx\r\n", answer.body.size());
        raw += size + answer.body + "\r\n0\r\n\r\n";
      } else {
        raw += answer.body;
      }
      if (::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(raw.size()))
        break;
    }
    ::close(fd);
  }

  int server_port_;
  hook before_forward_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> connections_; // touched by the acceptor only
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
};

bool is_refresh_of(const std::string& head, const std::string& path) {
  return head.rfind("GET " + path + " ", 0) == 0 &&
         head.find("Sec-Fetch-Mode: cors") != std::string::npos;
}

bool is_navigation_to(const std::string& head, const std::string& path) {
  return head.rfind("GET " + path + " ", 0) == 0 &&
         head.find("Sec-Fetch-Mode: navigate") != std::string::npos;
}

struct browser_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  std::string chromium = find_chromium();

  void SetUp() override {
    // A missing browser is a broken set-up, not a reason to skip.
    ASSERT_FALSE(chromium.empty())
        << "chromium is not installed (not found on PATH); scripts/setup "
           "installs it";
    server =
        std::make_unique<server_process>(DM_SERVER_BINARY, dir.file("state"));
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  int port() const { return server->port(); }
  std::string url(int port, const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  // Alpha (limit 2): one permitted, one waiting on its ready timeout, one
  // queued. Beta (limit 1): one permitted, one queued.
  void make_two_groups() {
    const std::string alpha =
        R"({"DisruptionManagerGroupIdentifier":"Alpha",)"
        R"("DisruptionManagerGroupMaximumDisrupting":"2")";
    const std::string beta = R"({"DisruptionManagerGroupIdentifier":"Beta"})";
    ASSERT_EQ(disruption(port(), "request", "127.0.60.1", alpha + "}"),
              "permitted");
    ASSERT_EQ(disruption(port(), "request", "127.0.60.2", alpha + "}"),
              "permitted");
    ASSERT_EQ(disruption(port(), "request", "127.0.60.3", alpha + "}"),
              "requested");
    // Cancelling with a ready timeout keeps the slot held: waiting.
    disruption(port(), "cancel", "127.0.60.2",
               alpha + R"(,"DisruptionManagerReadyTimeout":"10m"})");
    ASSERT_EQ(disruption(port(), "request", "127.0.61.1", beta), "permitted");
    ASSERT_EQ(disruption(port(), "request", "127.0.61.2", beta), "requested");
  }
};

} // namespace

TEST_F(browser_fixture, pages_render_tables_and_screenshot) {
  make_two_groups();
  // Gamma: its records' maintenance window is closed (it opens in two
  // hours), so its one machine queues.
  auto closed =
      utc_window_at(std::chrono::system_clock::now() + std::chrono::hours(2),
                    std::chrono::minutes(60));
  ASSERT_EQ(disruption(port(), "request", "127.0.62.1",
                       R"({"DisruptionManagerGroupIdentifier":"Gamma",)"
                       R"("DisruptionManagerMaintenanceWindow":")" +
                           closed + "\"}"),
            "requested");

  auto dashboard =
      run_chromium(chromium, {"--dump-dom", url(port(), "/showState")});
  ASSERT_EQ(dashboard.exit_code, 0) << describe(dashboard);
  const auto& dom = dashboard.out;
  auto has_row = [&](const std::string& pattern) {
    return std::regex_search(dom, std::regex(pattern));
  };
  EXPECT_TRUE(has_row(
      R"(<tr class="p"><td>127\.0\.60\.1</td><td>permitted</td><td>Alpha</td><td>[0-9]+s/(59m[0-9]+s|1h0m0s)</td></tr>)"))
      << dom;
  EXPECT_TRUE(has_row(
      R"(<tr class="w"><td>127\.0\.60\.2</td><td>waiting</td><td>Alpha</td><td></td><td>(9m[0-9]+s|10m0s)</td><td></td></tr>)"))
      << dom;
  EXPECT_TRUE(has_row(
      R"(<tr class="r"><td>127\.0\.60\.3</td><td>requested \(#1\)</td><td>Alpha</td>)"))
      << dom;
  EXPECT_TRUE(has_row(
      R"(<tr class="p"><td>127\.0\.61\.1</td><td>permitted</td><td>Beta</td>)"))
      << dom;
  EXPECT_TRUE(has_row(
      R"(<tr class="r"><td>127\.0\.61\.2</td><td>requested \(#1\)</td><td>Beta</td>)"))
      << dom;
  // Groups: limit, in use, permitted, waiting, queued.
  EXPECT_TRUE(has_row("<tr><td><a href=\"\\?group=Alpha\">Alpha</a></td><td>2"
                      "</td><td>2</td><td>1</td><td>1</td><td>1</td></tr>"))
      << dom;
  EXPECT_TRUE(has_row("<tr><td><a href=\"\\?group=Beta\">Beta</a></td><td>1"
                      "</td><td>1</td><td>1</td><td>0</td><td>1</td></tr>"))
      << dom;
  // A group with windows: whether they are open, and when that changes.
  EXPECT_TRUE(has_row("<tr><td><a "
                      "href=\"\\?group=Gamma\">Gamma</a></td><td>1</td><td>0</"
                      "td><td>0</td><td>0</"
                      "td><td>1</td><td title=\"" +
                      closed + "\">closed, opens [0-9-]+T[0-9:]+Z</td></tr>"))
      << dom;
  EXPECT_EQ(dom.find("http-equiv=\"refresh\""), std::string::npos)
      << "a meta refresh reloads the whole page";

  auto status = run_chromium(chromium, {"--dump-dom", url(port(), "/")});
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  EXPECT_NE(
      status.out.find("2 disruptions permitted, 3 requested and 1 waiting"),
      std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("href=\"showState\""), std::string::npos);

  // Kept in the working directory (the build directory under ctest) for a
  // person to look at.
  auto png = (std::filesystem::current_path() / "dashboard.png").string();
  std::filesystem::remove(png);
  auto shot =
      run_chromium(chromium, {"--screenshot=" + png, "--window-size=1280,900",
                              "--hide-scrollbars", url(port(), "/showState")});
  ASSERT_EQ(shot.exit_code, 0) << describe(shot);
  ASSERT_TRUE(std::filesystem::exists(png)) << describe(shot);
  std::ifstream in(png, std::ios::binary);
  std::string magic(8, '\0');
  in.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
  // A blank 1280x900 page compresses to a few hundred bytes; text does not.
  EXPECT_GT(std::filesystem::file_size(png), 10u * 1024) << png;
  std::printf("dashboard screenshot: %s (%ju bytes)\n", png.c_str(),
              static_cast<std::uintmax_t>(std::filesystem::file_size(png)));
}

TEST_F(browser_fixture, dashboard_refreshes_in_place) {
  make_two_groups();
  // The state changes after the page has loaded and before its first
  // refresh; the refreshed tables must show it without a new navigation.
  std::atomic<bool> changed{false};
  recording_proxy proxy(port(), [&](const std::string& head) {
    if (is_refresh_of(head, "/showState") && !changed.exchange(true))
      disruption(port(), "request", "127.0.61.3",
                 R"({"DisruptionManagerGroupIdentifier":"Beta"})");
  });
  ASSERT_GT(proxy.port(), 0);
  // Virtual time runs the page's timers without waiting for them; it
  // stops short of a second refresh (every 5 s).
  auto run = run_chromium(chromium, {"--virtual-time-budget=8000", "--dump-dom",
                                     url(proxy.port(), "/showState")});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  auto heads = proxy.request_heads();
  auto navigations = std::count_if(heads.begin(), heads.end(), [](auto& h) {
    return is_navigation_to(h, "/showState");
  });
  auto refreshes = std::count_if(heads.begin(), heads.end(), [](auto& h) {
    return is_refresh_of(h, "/showState");
  });
  EXPECT_EQ(navigations, 1);
  EXPECT_GE(refreshes, 1);
  EXPECT_TRUE(std::regex_search(
      run.out,
      std::regex(
          R"(<tr class="r"><td>127\.0\.61\.3</td><td>requested \(#2\)</td><td>Beta</td>)")))
      << run.out;
  EXPECT_NE(run.out.find("<tr><td><a href=\"?group=Beta\">Beta</a></td><td>1"
                         "</td><td>1</td><td>1</td><td>0</td><td>2</td></tr>"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(count_of(run.out, "id=\"live\""), 1u);
}

TEST_F(browser_fixture, dashboard_holds_ten_thousand_machines) {
  // Under a sanitizer registering 10,000 machines takes minutes and runs
  // into the client's timeouts; the page's behaviour is the same at 1,000.
  const int machines = under_sanitizer() ? 1000 : 10000;
  auto started = steady_clock::now();
  int permitted = register_machines(
      port(), machines,
      {{"DisruptionManagerGroupIdentifier", "Big"},
       {"DisruptionManagerGroupMaximumDisrupting", std::to_string(machines)}});
  double register_seconds =
      std::chrono::duration<double>(steady_clock::now() - started).count();
  ASSERT_EQ(permitted, machines);
  std::printf("registered %d machines in %.1f s\n", machines, register_seconds);

  // The host cell, in the page as sent (end tags left out) and in the DOM.
  const std::string row = "<td>127.1.";
  auto page = http_get(port(), "/showState");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(count_of(page.body, row), static_cast<std::size_t>(machines));
  const std::string summary = "<tr><td><a href=\"?group=Big\">Big</a><td>" +
                              std::to_string(machines) + "<td>" +
                              std::to_string(machines) + "<td>" +
                              std::to_string(machines) + "<td>0<td>0</tr>\n";
  EXPECT_NE(page.body.find(summary), std::string::npos);

  // Through the proxy, to count what the browser asks for: the page and
  // perhaps a favicon, never anything per row.
  recording_proxy proxy(port());
  ASSERT_GT(proxy.port(), 0);
  auto run =
      run_chromium(chromium, {"--dump-dom", url(proxy.port(), "/showState")});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(count_of(run.out, row), static_cast<std::size_t>(machines));
  // Only the page itself (again when its 5 s refresh fires during a slow
  // render) and the favicon: nothing per row.
  std::size_t pages = 0;
  for (const auto& head : proxy.request_heads()) {
    bool page_load = head.rfind("GET /showState ", 0) == 0;
    bool favicon = head.rfind("GET /favicon.ico ", 0) == 0;
    EXPECT_TRUE(page_load || favicon) << head;
    pages += page_load ? 1 : 0;
  }
  EXPECT_LE(pages, 4u);
  // Chromium's own start-up, to read the figure above against.
  auto small = run_chromium(chromium, {"--dump-dom", url(port(), "/")});
  std::printf("dashboard with %d machines: %.0f KiB (%zu chunks), chromium "
              "--dump-dom took %.2f s (%.2f s for the status page), %zu "
              "requests\n",
              machines, page.body.size() / 1024.0, page.chunks, run.seconds,
              small.seconds, proxy.request_heads().size());
}

// Blocking alerts as a browser shows them: where they come from, and each
// firing alert with what it blocks (every group, or the group its label
// names); a pending alert blocks nothing and is not shown.
TEST_F(browser_fixture, dashboard_shows_blocking_alerts) {
  ready_endpoint prometheus;
  prometheus.set_body(R"({"status": "success", "data": {"alerts": [
      {"labels": {"alertname": "DiskFull"}, "state": "firing"},
      {"labels": {"alertname": "Rack<7>Power",
                  "disruption_manager_group": "Beta"}, "state": "firing"},
      {"labels": {"alertname": "SlowBurn"}, "state": "pending"}]}})",
                      "application/json");
  prometheus.status = 200;
  server_process alerted(DM_SERVER_BINARY, dir.file("alerted"),
                         {"-blockingAlertsUrl=" + prometheus.url(""),
                          "-blockingAlertsInterval=100ms"});
  ASSERT_TRUE(alerted.start()) << alerted.log_text();
  // Until the first poll's answer is in.
  std::string state;
  for (int i = 0; i < 100; ++i) {
    state = http_get(alerted.port(), "/api/v1/state").body;
    if (state.find("DiskFull") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(state.find("DiskFull"), std::string::npos) << state;
  auto dashboard =
      run_chromium(chromium, {"--dump-dom", url(alerted.port(), "/showState")});
  ASSERT_EQ(dashboard.exit_code, 0) << describe(dashboard);
  const auto& dom = dashboard.out;
  EXPECT_NE(dom.find("<h2>Blocking alerts</h2>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<tr><td>DiskFull</td><td>every group</td></tr>"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<tr><td>Rack&lt;7&gt;Power</td><td>Beta</td></tr>"),
            std::string::npos)
      << dom;
  EXPECT_EQ(dom.find("SlowBurn"), std::string::npos) << dom;
  EXPECT_GT(prometheus.hits.load(), 0);
}

// Operator control as a browser shows it: the freeze, each group's pause
// and override, and the audit trail, newest first, its texts escaped.
TEST_F(browser_fixture, dashboard_shows_operator_control) {
  make_two_groups();
  ASSERT_EQ(http_post(port(), "/api/v1/admin/pause",
                      R"({"Group": "Beta", "Reason": "rack <7> swap"})")
                .status,
            200);
  ASSERT_EQ(http_post(port(), "/api/v1/admin/limit",
                      R"({"Group": "Alpha", "Limit": 3})")
                .status,
            200);
  ASSERT_EQ(http_post(port(), "/api/v1/admin/freeze", "{}").status, 200);
  auto dashboard =
      run_chromium(chromium, {"--dump-dom", url(port(), "/showState")});
  ASSERT_EQ(dashboard.exit_code, 0) << describe(dashboard);
  const auto& dom = dashboard.out;
  EXPECT_NE(dom.find("<b>Frozen</b>: no group grants new permits."),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<tr><td>Alpha</td><td>no</td><td>3</td></tr>"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<tr><td>Beta</td><td>paused</td><td></td></tr>"),
            std::string::npos)
      << dom;
  // Newest first: freeze, limit, pause.
  auto freeze = dom.find("<td>freeze</td>");
  auto pause = dom.find("<td>pause</td><td>Beta</td><td></td><td>rack "
                        "&lt;7&gt; swap</td>");
  ASSERT_NE(freeze, std::string::npos) << dom;
  ASSERT_NE(pause, std::string::npos) << dom;
  EXPECT_LT(freeze, pause);
  // The group table shows the limit that decides, marked as the override:
  // raised to 3 before the freeze, it granted Alpha's queued machine at
  // once; Beta is marked paused.
  EXPECT_NE(dom.find("<tr><td><a href=\"?group=Alpha\">Alpha</a></td><td "
                     "title=\"an operator's override; the records' tag says "
                     "2\">3 (override)</td><td>3</td><td>2</td>"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<a href=\"?group=Beta\">Beta</a> (paused)</td>"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<tr class=\"p\"><td>127.0.60.3</td><td>permitted</td>"),
            std::string::npos)
      << dom;
}

// Starts and stops Prometheus for tests.
#include "tests/support/prometheus_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/server_process.hpp"

namespace dm::test {

namespace {

const char* const prometheus_binary = "/usr/bin/prometheus";

} // namespace

bool prometheus_available() {
  return ::access(prometheus_binary, X_OK) == 0;
}

prometheus_server::prometheus_server(std::vector<std::string> targets,
                                     std::string rules)
    : port_(free_port()) {
  std::string list;
  for (const auto& target : targets)
    list += (list.empty() ? "'" : ", '") + target + "'";
  dir_.write("prometheus.yml", "global:\n"
                               "  scrape_interval: 1s\n"
                               "  scrape_timeout: 1s\n"
                               "  evaluation_interval: 1s\n"
                               "rule_files:\n"
                               "  - " +
                                   dir_.file("rules.yml") +
                                   "\n"
                                   "scrape_configs:\n"
                                   "  - job_name: dm_test\n"
                                   "    static_configs:\n"
                                   "      - targets: [" +
                                   list + "]\n");
  dir_.write("rules.yml", rules);
}

prometheus_server::~prometheus_server() {
  stop();
}

std::string prometheus_server::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

bool prometheus_server::start(std::string& error, std::chrono::seconds wait) {
  if (!prometheus_available()) {
    error = std::string(prometheus_binary) + " is missing: run scripts/setup";
    return false;
  }
  if (pid_ > 0)
    return true;
  int log = ::open(dir_.file("prometheus.log").c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  child_io io;
  io.out_fd = log;
  io.err_fd = log;
  pid_ = start_program(
      {prometheus_binary, "--config.file=" + dir_.file("prometheus.yml"),
       "--storage.tsdb.path=" + dir_.file("data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port_),
       "--log.level=warn"},
      io);
  if (log >= 0)
    ::close(log);
  if (pid_ <= 0) {
    error = "cannot start Prometheus";
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string output;
    if (run_program({"/usr/bin/curl", "-sf", "-m", "2", url() + "/-/ready"},
                    output) == 0)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto text = log_text();
  error = "Prometheus did not become ready:\n" +
          (text.size() > 2000 ? text.substr(text.size() - 2000) : text);
  return false;
}

void prometheus_server::stop() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGTERM);
  reap(pid_);
  pid_ = -1;
}

} // namespace dm::test

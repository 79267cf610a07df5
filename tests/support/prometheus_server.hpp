// A real Prometheus for tests: Debian's /usr/bin/prometheus on a free
// loopback port, with its configuration, rules and data in a temporary
// directory, scraping and evaluating every second; stopped (and started
// again on the same port and data) by the test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace dm::test {

class prometheus_server {
public:
  // Scrapes `targets` ("127.0.0.1:port") and evaluates `rules` (the text of
  // one rule file), both every second.
  prometheus_server(std::vector<std::string> targets, std::string rules);
  ~prometheus_server();
  prometheus_server(const prometheus_server&) = delete;
  prometheus_server& operator=(const prometheus_server&) = delete;

  // Starts it and waits until it is ready; false (with its log in
  // `error`) when it is not.
  bool start(std::string& error,
             std::chrono::seconds wait = std::chrono::seconds(30));
  void stop(); // SIGTERM, then reap
  bool running() const { return pid_ > 0; }

  // "http://127.0.0.1:<port>"
  std::string url() const;
  std::string log_text() const { return dir_.read("prometheus.log"); }

private:
  temp_dir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Whether Prometheus is there (the tests need it: scripts/setup).
bool prometheus_available();

} // namespace dm::test

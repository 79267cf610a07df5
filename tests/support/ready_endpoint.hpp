// A real HTTP server on a loopback port standing in for machines' ready
// endpoints: every GET is answered with the status the test sets, and
// counted.
#pragma once

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace dm::test {

class ready_endpoint {
public:
  ready_endpoint();
  ~ready_endpoint();
  ready_endpoint(const ready_endpoint&) = delete;
  ready_endpoint& operator=(const ready_endpoint&) = delete;

  // "http://127.0.0.1:<port><path>"
  std::string url(const std::string& path) const;
  // The path of the last GET, and the same with its query as sent.
  std::string last_path() const;
  std::string last_target() const;

  std::atomic<int> status{503};
  std::atomic<int> hits{0};
  int port = 0;

private:
  mutable std::mutex mutex_;
  std::string last_path_;
  std::string last_target_;
  httplib::Server server_;
  std::thread thread_;
};

} // namespace dm::test

// A real HTTP server on a loopback port standing in for machines' ready
// endpoints (and for other servers the service reads, such as Prometheus,
// or a target Prometheus scrapes): every GET is answered with the status
// and body the test sets, and counted.
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
  // What every GET answers from now on (empty at first), as `content_type`.
  void set_body(std::string body, std::string content_type = "text/plain");

  std::atomic<int> status{503};
  std::atomic<int> hits{0};
  int port = 0;

private:
  mutable std::mutex mutex_;
  std::string last_path_;
  std::string last_target_;
  std::string body_;
  std::string content_type_ = "text/plain";
  httplib::Server server_;
  std::thread thread_;
};

} // namespace dm::test

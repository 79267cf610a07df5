// The ready endpoint's server thread.
#include "tests/support/ready_endpoint.hpp"

#include <chrono>

namespace dm::test {

ready_endpoint::ready_endpoint() {
  server_.Get(R"(/.*)",
              [this](const httplib::Request& req, httplib::Response& res) {
                {
                  std::lock_guard<std::mutex> lock(mutex_);
                  last_path_ = req.path;
                  last_target_ = req.target;
                }
                ++hits;
                res.status = status.load();
                res.set_content("", "text/plain");
              });
  port = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

ready_endpoint::~ready_endpoint() {
  server_.stop();
  thread_.join();
}

std::string ready_endpoint::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

std::string ready_endpoint::last_path() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_path_;
}

std::string ready_endpoint::last_target() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_target_;
}

} // namespace dm::test

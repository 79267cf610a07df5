// The ready endpoint's server thread.
#include "tests/support/ready_endpoint.hpp"

#include <chrono>

namespace dm::test {

ready_endpoint::ready_endpoint() {
  server_.Get(R"(/.*)",
              [this](const httplib::Request& req, httplib::Response& res) {
                std::string body;
                std::string content_type;
                {
                  std::lock_guard<std::mutex> lock(mutex_);
                  last_path_ = req.path;
                  last_target_ = req.target;
                  body = body_;
                  content_type = content_type_;
                }
                ++hits;
                res.status = status.load();
                res.set_content(body, content_type);
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

void ready_endpoint::set_body(std::string body, std::string content_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  body_ = std::move(body);
  content_type_ = std::move(content_type);
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

// Test HTTP client.
#include "tests/support/http_client.hpp"

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/server_process.hpp"

namespace dm::test {

http_connection::http_connection(int port, std::string source) {
  fd_ = connect_from(source, port);
}

http_connection::~http_connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

http_answer http_connection::exchange(const std::string& raw) {
  http_answer answer;
  if (fd_ < 0)
    return answer;
  size_t sent = 0;
  while (sent < raw.size()) {
    auto n = ::send(fd_, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; // The server may answer (413) before reading everything.
    sent += static_cast<size_t>(n);
  }
  for (;;) {
    auto header_end = buffer_.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      answer.headers = buffer_.substr(0, header_end);
      answer.status = std::stoi(buffer_.substr(9, 3));
      size_t length = 0;
      auto pos = answer.headers.find("Content-Length: ");
      if (pos != std::string::npos)
        length = std::stoul(answer.headers.substr(pos + 16));
      if (buffer_.size() >= header_end + 4 + length) {
        answer.body = buffer_.substr(header_end + 4, length);
        buffer_.erase(0, header_end + 4 + length);
        return answer;
      }
    }
    char chunk[65536];
    auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      answer.status = 0;
      return answer;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

http_answer http_connection::post(const std::string& path,
                                  const std::string& body) {
  return exchange("POST " + path + " HTTP/1.1\r\nHost: test\r\n"
                  "Content-Type: application/json\r\nContent-Length: "
                  + std::to_string(body.size()) + "\r\n\r\n" + body);
}

http_answer http_connection::get(const std::string& path) {
  return exchange("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
}

http_answer http_post(int port, const std::string& path,
                      const std::string& body, const std::string& source) {
  http_connection conn(port, source);
  return conn.post(path, body);
}

http_answer http_get(int port, const std::string& path) {
  http_connection conn(port);
  return conn.get(path);
}

std::string disruption(int port, const std::string& op, const std::string& host,
                       const std::string& tags_json,
                       const std::string& source) {
  nlohmann::json body = {{"MDB",
                          {{"Hostname", host},
                           {"Tags", nlohmann::json::parse(tags_json)}}},
                         {"Request", op}};
  auto from = source.empty() ? host : source;
  auto answer = http_post(port, "/api/v1/request", body.dump(), from);
  if (answer.status != 200)
    return "HTTP " + std::to_string(answer.status) + ": " + answer.body;
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("Response"))
    return "bad body: " + answer.body;
  return parsed["Response"].get<std::string>();
}

} // namespace dm::test

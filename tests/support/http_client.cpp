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
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!read_more())
      return answer;
  answer.headers = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  auto length_at = answer.headers.find("Content-Length: ");
  if (answer.headers.find("Transfer-Encoding: chunked") != std::string::npos) {
    if (!take_chunked_body(answer))
      return answer;
  } else if (length_at != std::string::npos) {
    size_t length = std::stoul(answer.headers.substr(length_at + 16));
    while (buffer_.size() < length)
      if (!read_more())
        return answer;
    answer.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else {
    // Neither length nor chunks: the body ends when the server closes.
    while (read_more()) {
    }
    answer.body.swap(buffer_);
  }
  answer.status = std::stoi(answer.headers.substr(9, 3));
  return answer;
}

bool http_connection::read_more() {
  char chunk[65536];
  auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0)
    return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool http_connection::take_chunked_body(http_answer& answer) {
  for (;;) {
    size_t line_end;
    while ((line_end = buffer_.find("\r\n")) == std::string::npos)
      if (!read_more())
        return false;
    auto size_text = buffer_.substr(0, line_end);
    if (size_text.empty() || size_text.find_first_not_of(
                                 "0123456789abcdefABCDEF") != std::string::npos)
      return false;
    auto size = std::stoul(size_text, nullptr, 16);
    // The chunk and the line end after it; the last chunk (size 0) is
    // followed by an empty trailer.
    while (buffer_.size() < line_end + 2 + size + 2)
      if (!read_more())
        return false;
    if (buffer_.compare(line_end + 2 + size, 2, "\r\n") != 0)
      return false;
    answer.body.append(buffer_, line_end + 2, size);
    buffer_.erase(0, line_end + 2 + size + 2);
    if (size == 0)
      return true;
    ++answer.chunks;
  }
}

http_answer http_connection::post(const std::string& path,
                                  const std::string& body) {
  return exchange("POST " + path +
                  " HTTP/1.1\r\nHost: test\r\n"
                  "Content-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
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
  nlohmann::json body = {
      {"MDB", {{"Hostname", host}, {"Tags", nlohmann::json::parse(tags_json)}}},
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

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

} // namespace dm::test

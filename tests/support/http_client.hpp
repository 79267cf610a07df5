// A small blocking HTTP/1.1 client for tests, able to connect from any
// loopback source address (each simulated machine has its own).
#pragma once

#include <string>

namespace dm::test {

struct http_answer {
  int status = 0; // 0: no answer (connection failed, closed, or bad framing)
  std::string headers;
  std::string body;       // de-chunked
  std::size_t chunks = 0; // how many chunks carried the body; 0: not chunked
};

class http_connection {
public:
  http_connection(int port, std::string source = "127.0.0.1");
  ~http_connection();
  bool connected() const { return fd_ >= 0; }
  // Sends `raw` as is and reads one answer (not to HEAD: a head without
  // Content-Length is read as a body that lasts until the server closes).
  // An empty `raw` reads the next answer to requests sent before.
  http_answer exchange(const std::string& raw);
  http_answer post(const std::string& path, const std::string& body);
  http_answer get(const std::string& path);

private:
  bool read_more();
  // Takes a chunked body from the front of buffer_, reading as needed.
  bool take_chunked_body(http_answer& answer);

  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection.
http_answer http_post(int port, const std::string& path,
                      const std::string& body,
                      const std::string& source = "127.0.0.1");
http_answer http_get(int port, const std::string& path);

// POST /api/v1/request for `host` (connecting from `source`, by default the
// host itself when it is an address); returns the Response or the error.
std::string disruption(int port, const std::string& op, const std::string& host,
                       const std::string& tags_json = "{}",
                       const std::string& source = "");

// How many times `needle` occurs in `text`, without overlaps.
std::size_t count_of(const std::string& text, const std::string& needle);

} // namespace dm::test

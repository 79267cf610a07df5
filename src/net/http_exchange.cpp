// A blocking HTTP/1.1 exchange over a non-blocking socket and poll, so that
// connecting, the TLS handshake and reading the answer share one deadline.
#include "net/http_exchange.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "codec/http_request.hpp"
#include "net/ip_address.hpp"
#include "tls/tls_session.hpp"

namespace dm {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::size_t max_header_bytes = 64 * 1024;

// The next line of `data` from `pos` (without its "\n" or "\r\n"); false
// when no complete line is there yet.
bool next_line(std::string_view data, std::size_t& pos,
               std::string_view& line) {
  auto newline = data.find('\n', pos);
  if (newline == std::string_view::npos)
    return false;
  line = data.substr(pos, newline - pos);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  pos = newline + 1;
  return true;
}

bool parse_decimal(std::string_view text, std::size_t& value) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  value = std::stoull(std::string(text));
  return true;
}

bool parse_hex(std::string_view text, std::size_t& value) {
  if (text.empty() || text.size() > 15 ||
      text.find_first_not_of("0123456789abcdefABCDEF") !=
          std::string_view::npos)
    return false;
  value = std::stoull(std::string(text), nullptr, 16);
  return true;
}

// Decodes a chunked body starting at `pos`.
http_parse_status parse_chunked(std::string_view data, std::size_t pos,
                                bool eof, std::string& body, std::string& error,
                                std::size_t max_bytes) {
  auto incomplete = [&] {
    if (!eof)
      return http_parse_status::need_more;
    error = "connection closed in the middle of a chunked body";
    return http_parse_status::error;
  };
  body.clear();
  for (;;) {
    std::string_view line;
    if (!next_line(data, pos, line))
      return incomplete();
    auto size_text = trim_http_space(line.substr(0, line.find(';')));
    std::size_t size = 0;
    if (!parse_hex(size_text, size)) {
      error = "bad chunk size \"" + std::string(size_text) + "\"";
      return http_parse_status::error;
    }
    if (size == 0)
      break;
    if (body.size() + size > max_bytes) {
      error = "answer body larger than " + std::to_string(max_bytes) + " bytes";
      return http_parse_status::error;
    }
    if (data.size() - pos < size)
      return incomplete();
    body.append(data.substr(pos, size));
    pos += size;
    if (!next_line(data, pos, line))
      return incomplete();
    if (!line.empty()) {
      error = "chunk longer than its size";
      return http_parse_status::error;
    }
  }
  // Trailers, up to the empty line ending the message.
  for (;;) {
    std::string_view line;
    if (!next_line(data, pos, line))
      return incomplete();
    if (line.empty())
      return http_parse_status::done;
  }
}

// A socket whose every wait ends at one deadline.
class deadline_socket {
public:
  explicit deadline_socket(clock_type::time_point deadline)
      : deadline_(deadline) {}
  ~deadline_socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  deadline_socket(const deadline_socket&) = delete;
  deadline_socket& operator=(const deadline_socket&) = delete;

  bool connect(const std::string& host, int port, const std::string& source,
               std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    sockaddr_storage local{};
    socklen_t local_size = 0;
    if (!source.empty()) {
      if (!ip_socket_address(source, local, local_size)) {
        error = "bad source address \"" + source + "\"";
        return false;
      }
      // Only addresses of the source's family can be reached from it.
      hints.ai_family = local.ss_family;
    }
    addrinfo* found = nullptr;
    auto port_text = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found);
    if (rc != 0) {
      error = "lookup " + host + ": " + gai_strerror(rc);
      return false;
    }
    error = "connect to " + host + ": no address";
    for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        continue;
      }
      if (local_size != 0 &&
          ::bind(fd, reinterpret_cast<sockaddr*>(&local), local_size) != 0) {
        error =
            "bind to source address " + source + ": " + std::strerror(errno);
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::string reason;
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
          (errno == EINPROGRESS && finish_connect(fd, reason))) {
        fd_ = fd;
        break;
      }
      if (reason.empty())
        reason = std::strerror(errno);
      error = "connect to " + describe(ai->ai_addr, port) + ": " + reason;
      ::close(fd);
    }
    ::freeaddrinfo(found);
    return fd_ >= 0;
  }

  bool send_all(std::string_view data, std::string& error) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait(POLLOUT, error))
          return false;
        continue;
      }
      error = std::strerror(errno);
      return false;
    }
    return true;
  }

  // Bytes read (> 0), 0 at end of stream, -1 on error or timeout.
  long receive(char* buffer, std::size_t size, std::string& error) {
    for (;;) {
      auto n = ::recv(fd_, buffer, size, 0);
      if (n >= 0)
        return static_cast<long>(n);
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error = std::strerror(errno);
        return -1;
      }
      if (!wait(POLLIN, error))
        return -1;
    }
  }

private:
  bool finish_connect(int fd, std::string& reason) {
    int saved = fd_;
    fd_ = fd;
    bool ready = wait(POLLOUT, reason);
    fd_ = saved;
    if (!ready)
      return false;
    int so_error = 0;
    socklen_t size = sizeof(so_error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &size);
    if (so_error != 0) {
      reason = std::strerror(so_error);
      return false;
    }
    return true;
  }

  // Waits for `events` until the deadline; false with "timed out" after it.
  bool wait(short events, std::string& error) {
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(
          deadline_ - clock_type::now());
      if (left.count() <= 0) {
        error = "timed out";
        return false;
      }
      pollfd p{fd_, events, 0};
      int rc = ::poll(
          &p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
      if (rc > 0)
        return true;
      if (rc < 0 && errno != EINTR) {
        error = std::string("poll: ") + std::strerror(errno);
        return false;
      }
    }
  }

  static std::string describe(const sockaddr* address, int port) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (address->sa_family == AF_INET) {
      inet_ntop(AF_INET,
                &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text,
                sizeof text);
      return std::string(text) + ":" + std::to_string(port);
    }
    inet_ntop(AF_INET6,
              &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(port);
  }

  clock_type::time_point deadline_;
  int fd_ = -1;
};

} // namespace

std::string http_answer::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (equal_ignoring_case(key, name))
      return value;
  return "";
}

http_parse_status parse_http_answer(std::string_view data, bool eof,
                                    http_answer& answer, std::string& error,
                                    std::size_t max_body_bytes,
                                    bool headers_only) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t start = pos;
    std::string_view status_line;
    if (!next_line(data, pos, status_line)) {
      if (data.size() - start > max_header_bytes) {
        error = "answer headers too long";
        return http_parse_status::error;
      }
      if (eof) {
        error = start == data.size()
                    ? "connection closed without an answer"
                    : "connection closed in the middle of the answer";
        return http_parse_status::error;
      }
      return http_parse_status::need_more;
    }
    // "HTTP/1.1 200 OK": version, status code, optional reason.
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
        status_line[8] != ' ') {
      error = "not an HTTP answer: \"" +
              std::string(status_line.substr(0, 60)) + "\"";
      return http_parse_status::error;
    }
    std::size_t code = 0;
    if (!parse_decimal(status_line.substr(9, 3), code) || code < 100 ||
        code > 999 || (status_line.size() > 12 && status_line[12] != ' ')) {
      error =
          "bad status line \"" + std::string(status_line.substr(0, 60)) + "\"";
      return http_parse_status::error;
    }
    answer.status = static_cast<int>(code);
    answer.reason = status_line.size() > 13
                        ? std::string(trim_http_space(status_line.substr(13)))
                        : std::string();
    answer.headers.clear();
    std::optional<std::size_t> content_length;
    bool chunked = false;
    bool headers_complete = false;
    std::string_view line;
    while (next_line(data, pos, line)) {
      if (line.empty()) {
        headers_complete = true;
        break;
      }
      auto colon = line.find(':');
      if (colon == std::string_view::npos) {
        error = "bad header line \"" + std::string(line.substr(0, 60)) + "\"";
        return http_parse_status::error;
      }
      auto name = trim_http_space(line.substr(0, colon));
      auto value = trim_http_space(line.substr(colon + 1));
      answer.headers.emplace_back(name, value);
      if (equal_ignoring_case(name, "Content-Length")) {
        std::size_t length = 0;
        if (!parse_decimal(value, length)) {
          error = "bad Content-Length \"" + std::string(value) + "\"";
          return http_parse_status::error;
        }
        content_length = length;
      } else if (equal_ignoring_case(name, "Transfer-Encoding")) {
        chunked = contains_ignoring_case(value, "chunked");
      }
    }
    if (!headers_complete) {
      if (data.size() - start > max_header_bytes) {
        error = "answer headers too long";
        return http_parse_status::error;
      }
      if (eof) {
        error = "connection closed in the middle of the answer headers";
        return http_parse_status::error;
      }
      return http_parse_status::need_more;
    }
    // Interim answers (100 Continue) precede the real one.
    if (code < 200 && code != 101)
      continue;
    if (headers_only)
      return http_parse_status::done;
    if (code == 204 || code == 304 || code == 101) {
      answer.body.clear();
      return http_parse_status::done;
    }
    if (chunked)
      return parse_chunked(data, pos, eof, answer.body, error, max_body_bytes);
    std::size_t available = data.size() - pos;
    if (content_length) {
      if (*content_length > max_body_bytes) {
        error = "answer body larger than " + std::to_string(max_body_bytes) +
                " bytes";
        return http_parse_status::error;
      }
      if (available < *content_length) {
        if (!eof)
          return http_parse_status::need_more;
        error = "connection closed in the middle of the answer body";
        return http_parse_status::error;
      }
      answer.body = std::string(data.substr(pos, *content_length));
      return http_parse_status::done;
    }
    // Neither length nor chunks: the body runs until the server closes.
    if (available > max_body_bytes) {
      error = "answer body larger than " + std::to_string(max_body_bytes) +
              " bytes";
      return http_parse_status::error;
    }
    if (!eof)
      return http_parse_status::need_more;
    answer.body = std::string(data.substr(pos));
    return http_parse_status::done;
  }
}

std::optional<http_answer> http_exchange(const http_exchange_request& request,
                                         std::string& error,
                                         http_failure& failure) {
  failure = http_failure::transport;
  deadline_socket socket(request.deadline);
  if (!socket.connect(request.host, request.port, request.source_address,
                      error))
    return std::nullopt;

  std::unique_ptr<tls_session> tls;
  char chunk[16384];
  // Sends what the TLS session has to send; false with `error` set.
  auto flush = [&](const char* step) {
    std::string out;
    tls->take_ciphertext(out);
    std::string why;
    if (!out.empty() && !socket.send_all(out, why)) {
      error = std::string(step) + " " + request.where + ": " + why;
      return false;
    }
    return true;
  };
  if (request.tls) {
    tls = std::make_unique<tls_session>(
        *request.tls,
        request.server_name.empty() ? request.host : request.server_name);
    while (!tls->handshake_done()) {
      if (!flush("TLS handshake with"))
        return std::nullopt;
      if (tls->failed()) {
        std::string_view why = tls->error();
        constexpr std::string_view redundant = "TLS handshake failed: ";
        if (why.substr(0, redundant.size()) == redundant)
          why.remove_prefix(redundant.size());
        error = "TLS handshake with " + request.where + ": " + std::string(why);
        return std::nullopt;
      }
      std::string why;
      long n = socket.receive(chunk, sizeof chunk, why);
      if (n <= 0) {
        error = "TLS handshake with " + request.where + ": " +
                (n == 0 ? std::string("connection closed by the server") : why);
        return std::nullopt;
      }
      tls->feed_ciphertext(chunk, static_cast<std::size_t>(n));
    }
    if (!flush("TLS handshake with"))
      return std::nullopt;
  }

  const std::string& message = request.message;
  if (tls) {
    if (!tls->write_plaintext(message)) {
      error = "sending to " + request.where + ": TLS: " + tls->error();
      return std::nullopt;
    }
    if (!flush("sending to"))
      return std::nullopt;
  } else {
    std::string why;
    if (!socket.send_all(message, why)) {
      error = "sending to " + request.where + ": " + why;
      return std::nullopt;
    }
  }

  std::string received;
  bool eof = false;
  for (;;) {
    http_answer answer;
    std::string why;
    switch (parse_http_answer(received, eof, answer, why,
                              request.max_body_bytes, request.headers_only)) {
    case http_parse_status::done:
      return answer;
    case http_parse_status::error:
      // An answer cut short is the transport's fault, not the server's.
      failure = why.rfind("connection closed", 0) == 0 ? http_failure::transport
                                                       : http_failure::protocol;
      error = "reading the answer from " + request.where + ": " + why;
      return std::nullopt;
    case http_parse_status::need_more:
      break;
    }
    long n = socket.receive(chunk, sizeof chunk, why);
    if (n < 0) {
      error = "reading the answer from " + request.where + ": " + why;
      return std::nullopt;
    }
    if (!tls) {
      if (n == 0)
        eof = true;
      else
        received.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0)
      tls->feed_eof();
    else
      tls->feed_ciphertext(chunk, static_cast<std::size_t>(n));
    tls->read_plaintext(received);
    if (tls->failed()) {
      error =
          "reading the answer from " + request.where + ": TLS: " + tls->error();
      return std::nullopt;
    }
    if (n == 0 || tls->peer_closed())
      eof = true;
    else if (!flush("reading the answer from"))
      return std::nullopt;
  }
}

} // namespace dm

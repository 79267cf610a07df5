// Blocking SRPC client.
#include "srpc/srpc_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/gob.hpp"
#include "codec/srpc_json.hpp"
#include "frontend/call_builder.hpp"
#include "net/ip_address.hpp"
#include "srpc/local_upgrade.hpp"

namespace dm {

namespace {

// How long the next wait may last: `timeout`, cut to what is left before
// the deadline, if there is one (zero or less: nothing is left).
std::chrono::microseconds wait_allowed(const srpc_client_options& options) {
  auto wait =
      std::chrono::duration_cast<std::chrono::microseconds>(options.timeout);
  if (!options.deadline)
    return wait;
  return std::min<std::chrono::microseconds>(
      wait, std::chrono::ceil<std::chrono::microseconds>(
                *options.deadline - std::chrono::steady_clock::now()));
}

timeval as_timeval(std::chrono::microseconds wait) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(wait.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(wait.count() % 1000000);
  return tv;
}

int open_socket(const srpc_client_options& options, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  sockaddr_storage local{};
  socklen_t local_size = 0;
  if (!options.source_address.empty()) {
    if (!ip_socket_address(options.source_address, local, local_size)) {
      error =
          "cannot bind to " + options.source_address + ": not an IP address";
      return -1;
    }
    // Only addresses of the source's family can be reached from it.
    hints.ai_family = local.ss_family;
  }
  addrinfo* found = nullptr;
  auto port = std::to_string(options.port);
  int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    error = "lookup " + options.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (auto* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0)
      continue;
    timeval tv = as_timeval(std::max<std::chrono::microseconds>(
        std::chrono::microseconds(1), wait_allowed(options)));
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (local_size != 0 &&
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), local_size) != 0) {
      error = "cannot bind to " + options.source_address + ": " +
              std::strerror(errno);
      ::close(fd);
      fd = -1;
      break;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      error = "connect to " + options.host + ":" + port + ": " +
              std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

bool send_all(int fd, const std::string& data, std::string& error) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string_view request_type(request_kind kind) {
  switch (kind) {
  case request_kind::check:
    return "DisruptionCheckRequest";
  case request_kind::request:
    return "DisruptionRequestRequest";
  case request_kind::cancel:
    return "DisruptionCancelRequest";
  }
  return "";
}

} // namespace

std::unique_ptr<srpc_client>
srpc_client::connect(const srpc_client_options& options, std::string& error) {
  std::unique_ptr<srpc_client> client(new srpc_client());
  client->options_ = options;
  client->fd_ = open_socket(options, error);
  if (client->fd_ < 0)
    return nullptr;
  bool tls = options.tls != nullptr;
  auto start_tls = [&]() -> bool {
    client->tls_ = std::make_unique<tls_session>(*options.tls, options.host);
    while (!client->tls_->handshake_done()) {
      if (!client->flush_tls(error))
        return false;
      if (client->tls_->failed()) {
        error = "TLS: " + client->tls_->error();
        return false;
      }
      if (!client->fill(error))
        return false;
    }
    return client->flush_tls(error);
  };
  if (tls && options.tls_first && !start_tls())
    return nullptr;
  std::string path =
      options.coder == srpc_coder::gob
          ? (tls ? "/_go_TLS_SRPC_/" : "/_goSRPC_/")
          : (tls ? "/_SRPC_/TLS/JSON" : "/_SRPC_/unsecured/JSON");
  if (options.do_not_use_method_powers)
    path += "?doNotUseMethodPowers=true";
  if (!client->send_raw("CONNECT " + path + " HTTP/1.0\n\n", error))
    return nullptr;
  std::string status;
  if (!client->read_line(status, error))
    return nullptr;
  if (!status.empty() && status.back() == '\r')
    status.pop_back();
  if (status != "HTTP/1.0 200 Connected to Go SRPC") {
    error = status;
    return nullptr;
  }
  std::string blank;
  if (!client->read_line(blank, error))
    return nullptr;
  if (tls && !options.tls_first) {
    if (!client->buffer_.empty()) {
      error = "unexpected bytes after the CONNECT reply";
      return nullptr;
    }
    if (!start_tls())
      return nullptr;
  }
  return client;
}

srpc_client::~srpc_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool srpc_client::flush_tls(std::string& error) {
  std::string out;
  tls_->take_ciphertext(out);
  return out.empty() || send_all(fd_, out, error);
}

bool srpc_client::send_raw(std::string_view bytes, std::string& error) {
  if (!tls_)
    return send_all(fd_, std::string(bytes), error);
  if (!tls_->write_plaintext(bytes)) {
    error = "TLS: " + tls_->error();
    return false;
  }
  return flush_tls(error);
}

bool srpc_client::fill(std::string& error) {
  if (options_.deadline) {
    // The socket's own timeout, cut to what is left of the exchange.
    auto left = wait_allowed(options_);
    if (left.count() <= 0) {
      error = "timed out";
      return false;
    }
    timeval tv = as_timeval(left);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  char chunk[65536];
  auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n == 0) {
    error = "connection closed by the server";
    return false;
  }
  if (n < 0) {
    error = errno == EAGAIN || errno == EWOULDBLOCK
                ? std::string("timed out")
                : std::string("recv: ") + std::strerror(errno);
    return false;
  }
  if (!tls_) {
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  tls_->feed_ciphertext(chunk, static_cast<std::size_t>(n));
  tls_->read_plaintext(buffer_);
  if (tls_->failed()) {
    flush_tls(error);
    error = "TLS: " + tls_->error();
    return false;
  }
  return flush_tls(error);
}

bool srpc_client::read_line(std::string& line, std::string& error) {
  for (;;) {
    auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return true;
    }
    if (!fill(error))
      return false;
  }
}

bool srpc_client::ping(std::string& error) {
  std::string line;
  if (!send_raw("\n", error) || !read_line(line, error))
    return false;
  if (!line.empty()) {
    error = line;
    return false;
  }
  return true;
}

bool srpc_client::call(request_kind kind, const machine_record& machine,
                       disruption_state& state, std::string& response_error,
                       std::string& error) {
  std::string line;
  if (!send_raw(std::string(method_name(kind)) + "\n", error) ||
      !read_line(line, error))
    return false;
  if (!line.empty()) {
    error = line;
    return false;
  }
  std::string value = options_.coder == srpc_coder::gob
                          ? encode_gob_request(request_type(kind), machine)
                          : encode_json_request(machine);
  if (!send_raw(value, error) || !read_line(line, error))
    return false;
  if (!line.empty()) {
    error = line;
    return false;
  }
  for (;;) {
    std::size_t consumed = 0;
    if (options_.coder == srpc_coder::gob) {
      gob_response_decoder decoder;
      auto status = decoder.feed(buffer_, consumed);
      if (status == gob_status::done) {
        buffer_.erase(0, consumed);
        state = decoder.state();
        response_error = decoder.response_error();
        return true;
      }
      if (status == gob_status::error) {
        error = decoder.error();
        return false;
      }
    } else {
      json_response_decoder decoder;
      auto status = decoder.feed(buffer_, consumed);
      if (status == json_status::done) {
        buffer_.erase(0, consumed);
        state = decoder.state();
        response_error = decoder.response_error();
        return true;
      }
      if (status == json_status::error) {
        error = decoder.error();
        return false;
      }
    }
    if (!fill(error))
      return false;
  }
}

bool srpc_client::read_upgrade_value(gob_upgrade_decoder& decoder,
                                     unix_upgrade_value& value,
                                     std::string& error) {
  for (;;) {
    std::size_t consumed = 0;
    if (options_.coder == srpc_coder::gob) {
      auto status = decoder.feed(buffer_, consumed);
      buffer_.erase(0, consumed);
      if (status == gob_status::done) {
        value = decoder.value();
        return true;
      }
      if (status == gob_status::error) {
        error = decoder.error();
        return false;
      }
    } else {
      auto status = decode_json_upgrade(buffer_, consumed, value, error);
      buffer_.erase(0, consumed);
      if (status == upgrade_json_status::done)
        return true;
      if (status == upgrade_json_status::error)
        return false;
    }
    if (!fill(error))
      return false;
  }
}

bool srpc_client::upgrade_to_unix(std::string& error) {
  bool gob = options_.coder == srpc_coder::gob;
  std::string line;
  if (!send_raw(".LocalUpgradeToUnix\n", error) || !read_line(line, error))
    return false;
  if (!line.empty()) {
    error = line;
    return false;
  }
  std::string cookie(unix_cookie_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(cookie.data()),
                 static_cast<int>(cookie.size())) != 1) {
    error = "no random bytes for the cookie";
    return false;
  }
  gob_upgrade_decoder decoder;
  unix_upgrade_value reply;
  if (!send_raw(gob ? encode_gob_upgrade_request_one(cookie)
                    : encode_json_upgrade_request_one(cookie),
                error) ||
      !read_upgrade_value(decoder, reply, error))
    return false;
  if (!reply.error.empty()) {
    error = "server: " + reply.error;
    return false;
  }
  auto decline = [&](std::string why) {
    std::string ignored;
    send_raw(gob ? encode_gob_upgrade_request_two(false)
                 : encode_json_upgrade_request_two(false),
             ignored);
    error = std::move(why);
    return false;
  };
  sockaddr_un address{};
  socklen_t length = 0;
  if (!unix_socket_address(reply.socket_pathname, address, length, error))
    return decline(error);
  int unix_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv = as_timeval(std::max<std::chrono::microseconds>(
      std::chrono::microseconds(1), wait_allowed(options_)));
  if (unix_fd >= 0) {
    ::setsockopt(unix_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(unix_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  if (unix_fd < 0 ||
      ::connect(unix_fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    std::string why =
        "connect to " + reply.socket_pathname + ": " + std::strerror(errno);
    if (unix_fd >= 0)
      ::close(unix_fd);
    return decline(why);
  }
  auto fail_unix = [&](std::string why) {
    ::close(unix_fd);
    return decline(std::move(why));
  };
  char ack = 0;
  if (!send_all(unix_fd, reply.server_cookie, error) ||
      ::recv(unix_fd, &ack, 1, MSG_WAITALL) != 1)
    return fail_unix("no acknowledgement on " + reply.socket_pathname);
  decoder.next_value();
  if (!send_raw(gob ? encode_gob_upgrade_request_two(true)
                    : encode_json_upgrade_request_two(true),
                error) ||
      !read_upgrade_value(decoder, reply, error)) {
    ::close(unix_fd);
    return false;
  }
  if (!reply.error.empty()) {
    ::close(unix_fd);
    error = "server: " + reply.error;
    return false;
  }
  std::string echoed(cookie.size(), '\0');
  if (::recv(unix_fd, echoed.data(), echoed.size(), MSG_WAITALL) !=
          static_cast<ssize_t>(echoed.size()) ||
      echoed != cookie) {
    ::close(unix_fd);
    error = "returned client cookie does not match";
    return false;
  }
  ::close(fd_);
  fd_ = unix_fd;
  tls_.reset();
  buffer_.clear();
  return true;
}

bool srpc_client::on_unix_socket() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  return ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) ==
             0 &&
         address.ss_family == AF_UNIX;
}

} // namespace dm

#include "tests/support/trickle.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

namespace dm::test {

trickler::trickler(int fd, std::string bytes, byte_sender send)
    : fd_(fd), rest_(std::move(bytes)), send_(std::move(send)) {
  if (!send_)
    send_ = [](int to, char byte) {
      return ::send(to, &byte, 1, MSG_NOSIGNAL) == 1;
    };
}

trickler::trickler(trickler&& other) noexcept
    : fd_(other.fd_), rest_(std::move(other.rest_)),
      send_(std::move(other.send_)) {
  other.fd_ = -1;
}

trickler::~trickler() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool trickler::step() {
  if (fd_ < 0)
    return false;
  bool closed = false;
  for (;;) {
    char buffer[4096];
    auto n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0)
      continue; // an answer to what came before (a CONNECT, a handshake)
    closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  if (!closed && !rest_.empty()) {
    closed = !send_(fd_, rest_.front());
    rest_.erase(0, 1);
  }
  if (closed) {
    ::close(fd_);
    fd_ = -1;
  }
  return !closed;
}

} // namespace dm::test

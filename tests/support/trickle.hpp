// A client that sends its bytes one at a time and never finishes, to see
// that the server cuts it off: each step reads (and drops) what the server
// sent, notes whether it closed the connection, and sends the next byte.
#pragma once

#include <functional>
#include <string>

namespace dm::test {

class trickler {
public:
  // Sends one byte on the connection; false when it could not.
  using byte_sender = std::function<bool(int fd, char byte)>;

  // Takes `fd` over (closed when done). By default a byte goes as it is;
  // a TLS client passes a sender that wraps it in a record.
  trickler(int fd, std::string bytes, byte_sender send = {});
  ~trickler();
  trickler(trickler&& other) noexcept;
  trickler& operator=(trickler&&) = delete;

  // One step; false once the server has closed the connection.
  bool step();
  bool cut() const { return fd_ < 0; }

private:
  int fd_;
  std::string rest_; // what it still has to send
  byte_sender send_;
};

} // namespace dm::test

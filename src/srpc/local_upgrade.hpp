// .LocalUpgradeToUnix, lib/srpc's builtin method that moves a local SRPC
// connection onto a Unix socket (docs/protocol.md, "Moving to a Unix
// socket"): the values of both coders, the socket's address, and the
// listener that pairs each connection made to it with the server cookie its
// client sent there.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "codec/gob.hpp"

namespace dm {

// lib/srpc's cookie sizes; a client cookie is echoed whatever its length,
// up to this bound.
inline constexpr std::size_t unix_cookie_bytes = 8;
inline constexpr std::size_t max_client_cookie_bytes = 64;

// The JSON coder's values: one line each, as Go's json.Encoder writes them
// ([]byte as base64, nil as null).
std::string encode_json_upgrade_request_one(std::string_view client_cookie);
std::string encode_json_upgrade_request_two(bool sent_server_cookie);
std::string encode_json_upgrade_response_one(const std::string& error,
                                             std::string_view server_cookie,
                                             const std::string& socket_path);
std::string encode_json_upgrade_response_two(const std::string& error);

enum class upgrade_json_status { need_more, done, error };
// Reads one value (a JSON object on one line) from the front of `input`
// into `out`, setting `consumed`; at most `max_bytes` are looked at.
upgrade_json_status decode_json_upgrade(std::string_view input,
                                        std::size_t& consumed,
                                        unix_upgrade_value& out,
                                        std::string& error,
                                        std::size_t max_bytes = 4096);

// The address of a Unix socket name as Go's net package reads it: "@name"
// is Linux's abstract name space, anything else a path. False with `error`
// for an empty or too long name.
bool unix_socket_address(const std::string& name, sockaddr_un& address,
                         socklen_t& length, std::string& error);

// Accepts on the -srpcUnixSocketPath socket. Each connection made to it
// must send a server cookie (8 bytes) within a few seconds; it then gets one
// byte back and waits, at most 30 s, for the SRPC connection whose
// .LocalUpgradeToUnix call handed out that cookie to take it. Runs a thread
// of its own (accepting and reading cookies must not block an I/O thread);
// safe to use from any thread.
class unix_upgrade_listener {
public:
  // Listens on `name` (a path is replaced if it exists). Returns null with
  // `error` when the socket cannot be had.
  static std::shared_ptr<unix_upgrade_listener> open(const std::string& name,
                                                     std::string& error);
  ~unix_upgrade_listener();
  unix_upgrade_listener(const unix_upgrade_listener&) = delete;
  unix_upgrade_listener& operator=(const unix_upgrade_listener&) = delete;

  const std::string& name() const { return name_; }

  // The connection that sent `cookie`, now the caller's (blocking mode);
  // -1 when none did (or it waited too long).
  int take(std::string_view cookie);

private:
  unix_upgrade_listener() = default;
  void run();

  std::string name_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
  struct waiting {
    int fd;
    std::chrono::steady_clock::time_point since;
  };
  std::mutex mutex_;
  std::map<std::string, waiting> ready_; // by cookie
};

} // namespace dm

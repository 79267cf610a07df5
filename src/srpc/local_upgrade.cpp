// .LocalUpgradeToUnix: values, addresses and the Unix socket listener.
#include "srpc/local_upgrade.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace dm {

namespace {

using json = nlohmann::json;

constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Go's base64.StdEncoding, which encoding/json uses for []byte.
std::string base64_encode(std::string_view data) {
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t at) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[at]));
  };
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6)
      out += base64_alphabet[(v >> shift) & 63];
  }
  if (i + 1 == data.size()) {
    unsigned v = byte(i) << 16;
    out += base64_alphabet[(v >> 18) & 63];
    out += base64_alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += base64_alphabet[(v >> 18) & 63];
    out += base64_alphabet[(v >> 12) & 63];
    out += base64_alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0)
    return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned v = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      const char* at = c == '\0' ? nullptr : std::strchr(base64_alphabet, c);
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      if (at == nullptr || pad > 0)
        return false;
      v = v << 6 | static_cast<unsigned>(at - base64_alphabet);
    }
    out += static_cast<char>(v >> 16);
    if (pad < 2)
      out += static_cast<char>(v >> 8 & 0xff);
    if (pad < 1)
      out += static_cast<char>(v & 0xff);
  }
  return true;
}

json bytes_value(std::string_view bytes) {
  return bytes.empty() ? json(nullptr) : json(base64_encode(bytes));
}

std::string line_of(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void close_quietly(int fd) {
  if (fd >= 0)
    ::close(fd);
}

} // namespace

std::string encode_json_upgrade_request_one(std::string_view client_cookie) {
  return line_of(json{{"ClientCookie", bytes_value(client_cookie)}});
}

std::string encode_json_upgrade_request_two(bool sent_server_cookie) {
  return line_of(json{{"SentServerCookie", sent_server_cookie}});
}

std::string encode_json_upgrade_response_one(const std::string& error,
                                             std::string_view server_cookie,
                                             const std::string& socket_path) {
  // Go writes the fields in their declared order; nlohmann sorts keys,
  // which for these three is the same order.
  return line_of(json{{"Error", error},
                      {"ServerCookie", bytes_value(server_cookie)},
                      {"SocketPathname", socket_path}});
}

std::string encode_json_upgrade_response_two(const std::string& error) {
  return line_of(json{{"Error", error}});
}

upgrade_json_status decode_json_upgrade(std::string_view input,
                                        std::size_t& consumed,
                                        unix_upgrade_value& out,
                                        std::string& error,
                                        std::size_t max_bytes) {
  consumed = 0;
  auto newline = input.find('\n');
  if (newline == std::string_view::npos) {
    if (input.size() > max_bytes) {
      error = "value longer than " + std::to_string(max_bytes) + " bytes";
      return upgrade_json_status::error;
    }
    return upgrade_json_status::need_more;
  }
  if (newline > max_bytes) {
    error = "value longer than " + std::to_string(max_bytes) + " bytes";
    return upgrade_json_status::error;
  }
  auto value = json::parse(input.substr(0, newline), nullptr, false);
  consumed = newline + 1;
  if (!value.is_object()) {
    error = "malformed JSON";
    return upgrade_json_status::error;
  }
  out = unix_upgrade_value{};
  auto text = [&](const char* name, std::string& field, bool bytes) {
    auto it = value.find(name);
    if (it == value.end() || it->is_null())
      return true;
    if (!it->is_string())
      return false;
    return bytes ? base64_decode(it->get<std::string>(), field)
                 : (field = it->get<std::string>(), true);
  };
  bool ok = text("ClientCookie", out.client_cookie, true) &&
            text("Error", out.error, false) &&
            text("ServerCookie", out.server_cookie, true) &&
            text("SocketPathname", out.socket_pathname, false);
  if (auto it = value.find("SentServerCookie");
      ok && it != value.end() && !it->is_null()) {
    ok = it->is_boolean();
    out.sent_server_cookie = ok && it->get<bool>();
  }
  if (!ok) {
    error = "malformed JSON: a field of the wrong type";
    return upgrade_json_status::error;
  }
  return upgrade_json_status::done;
}

bool unix_socket_address(const std::string& name, sockaddr_un& address,
                         socklen_t& length, std::string& error) {
  address = sockaddr_un{};
  address.sun_family = AF_UNIX;
  if (name.empty() || name.size() >= sizeof address.sun_path) {
    error = "bad Unix socket name \"" + name + "\"";
    return false;
  }
  std::memcpy(address.sun_path, name.data(), name.size());
  if (name[0] == '@')
    address.sun_path[0] = '\0'; // abstract: no terminating NUL counts
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                  name.size() + (name[0] == '@' ? 0 : 1));
  return true;
}

std::shared_ptr<unix_upgrade_listener>
unix_upgrade_listener::open(const std::string& name, std::string& error) {
  sockaddr_un address{};
  socklen_t length = 0;
  if (!unix_socket_address(name, address, length, error))
    return nullptr;
  std::shared_ptr<unix_upgrade_listener> listener(new unix_upgrade_listener());
  listener->name_ = name;
  if (name[0] != '@')
    ::unlink(name.c_str()); // as the original: a stale socket is replaced
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(fd, 128) != 0) {
    error = "Unix socket " + name + ": " + std::strerror(errno);
    close_quietly(fd);
    return nullptr;
  }
  listener->listen_fd_ = fd;
  listener->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (listener->stop_fd_ < 0) {
    error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  listener->thread_ = std::thread([raw = listener.get()] { raw->run(); });
  return listener;
}

unix_upgrade_listener::~unix_upgrade_listener() {
  if (thread_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  for (auto& [cookie, entry] : ready_)
    close_quietly(entry.fd);
  close_quietly(listen_fd_);
  close_quietly(stop_fd_);
  if (!name_.empty() && name_[0] != '@')
    ::unlink(name_.c_str());
}

int unix_upgrade_listener::take(std::string_view cookie) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = ready_.find(std::string(cookie));
  if (it == ready_.end())
    return -1;
  int fd = it->second.fd;
  ready_.erase(it);
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

void unix_upgrade_listener::run() {
  using clock = std::chrono::steady_clock;
  // Connections that have not sent their cookie yet.
  struct greeting {
    int fd;
    clock::time_point since;
    std::string cookie;
  };
  constexpr std::size_t max_greetings = 64;
  constexpr std::size_t max_ready = 256;
  constexpr auto greeting_time = std::chrono::seconds(5);
  constexpr auto ready_time = std::chrono::seconds(30);
  std::vector<greeting> greetings;
  for (;;) {
    std::vector<pollfd> polled = {{stop_fd_, POLLIN, 0},
                                  {listen_fd_, POLLIN, 0}};
    for (const auto& g : greetings)
      polled.push_back({g.fd, POLLIN, 0});
    ::poll(polled.data(), polled.size(), 1000);
    if (polled[0].revents != 0)
      return;
    auto now = clock::now();
    // Cookies first (their fds are in `polled` by position), then new
    // connections.
    std::vector<greeting> still;
    for (std::size_t i = 0; i < greetings.size(); ++i) {
      auto& g = greetings[i];
      bool keep = now - g.since < greeting_time;
      if (keep && polled[i + 2].revents != 0) {
        char buffer[unix_cookie_bytes];
        auto n = ::recv(g.fd, buffer, unix_cookie_bytes - g.cookie.size(), 0);
        if (n > 0)
          g.cookie.append(buffer, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
          keep = false;
      }
      if (keep && g.cookie.size() == unix_cookie_bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        char ack = 0;
        if (ready_.size() < max_ready && ready_.count(g.cookie) == 0 &&
            ::send(g.fd, &ack, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
          ready_.emplace(g.cookie, waiting{g.fd, now});
          continue;
        }
        keep = false;
      }
      if (keep)
        still.push_back(std::move(g));
      else
        close_quietly(g.fd);
    }
    greetings = std::move(still);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = ready_.begin(); it != ready_.end();) {
        if (now - it->second.since >= ready_time) {
          close_quietly(it->second.fd);
          it = ready_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (;;) {
      int fd =
          ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        break;
      if (greetings.size() >= max_greetings) {
        ::close(fd);
        continue;
      }
      greetings.push_back({fd, now, {}});
    }
  }
}

} // namespace dm

// Process control for end-to-end tests.
#include "tests/support/server_process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <ctime>
#include <fstream>
#include <random>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace dm::test {

int free_port() {
  // Below the kernel's ephemeral range (32768 and up by default), so the
  // thousands of client sockets some tests open cannot take the port, and
  // bound the way the server binds (every address, both families).
  static std::mt19937 rng(static_cast<unsigned>(::getpid()) * 2654435761u ^
                          static_cast<unsigned>(time(nullptr)));
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = pick(rng);
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    int zero = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<std::uint16_t>(port));
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (ok)
      return port;
  }
  return 0;
}

int connect_from(const std::string& source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<std::uint16_t>(port));
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) !=
      0) {
    ::close(fd);
    return -1;
  }
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

server_process::server_process(std::string binary, std::string state_dir,
                               std::vector<std::string> extra_args)
    : binary_(std::move(binary)), state_dir_(std::move(state_dir)),
      extra_args_(std::move(extra_args)) {
  log_file_ = state_dir_ + ".stderr";
  port_ = free_port();
}

server_process::~server_process() {
  if (pid_ > 0)
    kill_hard();
}

bool server_process::start(std::chrono::seconds wait) {
  // Another process may take the free port between our look and the
  // server's bind; before the first successful start, try another one.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto log_before = log_text().size();
    if (start_once(wait))
      return true;
    if (started_once_ || log_text().find("Address already in use",
                                         log_before) == std::string::npos)
      return false;
    port_ = free_port();
  }
  return false;
}

bool server_process::start_once(std::chrono::seconds wait) {
  std::vector<std::string> args = {binary_,
                                   "-portNum=" + std::to_string(port_),
                                   "-stateDir=" + state_dir_,
                                   "-logDir=" + state_dir_ + ".logs",
                                   "-alsoLogToStderr",
                                   "-allowRoot"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  int log = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                   0644);
  child_io io;
  io.out_fd = log;
  io.err_fd = log;
  pid_ = start_program(args, io);
  if (log >= 0)
    ::close(log);
  if (pid_ < 0)
    return false;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    int fd = connect_from("127.0.0.1", port_);
    if (fd >= 0) {
      ::close(fd);
      started_once_ = true;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void server_process::kill_hard() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  reap(pid_);
  pid_ = -1;
}

int server_process::stop() {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  int code = reap(pid_);
  pid_ = -1;
  return code;
}

std::string server_process::log_text() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace dm::test

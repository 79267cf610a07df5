// Runs the real server binary for end-to-end tests: a free port, its own
// state directory, start, wait until it answers, SIGKILL, restart.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "tests/support/child_process.hpp"

namespace dm::test {

// A port nobody listens on right now.
int free_port();

// Connects a TCP socket to 127.0.0.1:port from `source` (any 127.x.y.z).
// Returns the fd or -1.
int connect_from(const std::string& source, int port);

class server_process {
public:
  server_process(std::string binary, std::string state_dir,
                 std::vector<std::string> extra_args = {});
  ~server_process();

  // Flags for the next starts (those that name the port, once it is known).
  void add_args(const std::vector<std::string>& args) {
    extra_args_.insert(extra_args_.end(), args.begin(), args.end());
  }
  // Starts and waits until the port accepts; false if it exited instead.
  bool start(std::chrono::seconds wait = std::chrono::seconds(20));
  void kill_hard(); // SIGKILL, then reap
  int stop();       // SIGTERM, then reap; returns exit status
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_file() const { return log_file_; }
  std::string log_text() const;

private:
  bool start_once(std::chrono::seconds wait);

  bool started_once_ = false;
  std::string binary_;
  std::string state_dir_;
  std::vector<std::string> extra_args_;
  std::string log_file_;
  int port_ = 0;
  pid_t pid_ = -1;
};

} // namespace dm::test

// fork, exec and reap for tests; output captured through pipes, read with
// poll so that a chatty stderr cannot block a child writing to stdout.
#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace dm::test {

pid_t start_program(const std::vector<std::string>& argv, const child_io& io) {
  if (argv.empty())
    return -1;
  // Built before the fork: the child only calls async-signal-safe functions.
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (io.own_process_group)
      ::setpgid(0, 0);
    if (io.out_fd >= 0)
      ::dup2(io.out_fd, 1);
    if (io.err_fd >= 0)
      ::dup2(io.err_fd, 2);
    ::execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

program_run run_program(const std::vector<std::string>& argv,
                        const program_options& options) {
  using clock = std::chrono::steady_clock;
  program_run run;
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0)
    return run;
  if (!options.merge_stderr && ::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return run;
  }
  child_io io;
  io.out_fd = out[1];
  io.err_fd = options.merge_stderr ? out[1] : err[1];
  io.own_process_group = options.own_process_group;
  auto started = clock::now();
  pid_t pid = start_program(argv, io);
  ::close(out[1]);
  if (err[1] >= 0)
    ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    if (err[0] >= 0)
      ::close(err[0]);
    return run;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* into[2] = {&run.out, &run.err};
  int open_count = err[0] >= 0 ? 2 : 1;
  char buffer[65536];
  while (open_count > 0) {
    int wait_ms = -1;
    if (options.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      started + options.timeout - clock::now())
                      .count();
      if (left <= 0) {
        run.timed_out = true;
        ::kill(options.own_process_group ? -pid : pid, SIGKILL);
        break;
      }
      wait_ms = static_cast<int>(left);
    }
    if (::poll(fds, 2, wait_ms) <= 0)
      continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      auto n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        into[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1; // poll skips negative descriptors
        --open_count;
      }
    }
  }
  for (auto& p : fds)
    if (p.fd >= 0)
      ::close(p.fd);
  run.exit_code = reap(pid);
  run.seconds = std::chrono::duration<double>(clock::now() - started).count();
  return run;
}

int run_program(const std::vector<std::string>& argv, std::string& output) {
  program_options options;
  options.merge_stderr = true;
  auto run = run_program(argv, options);
  output += run.out;
  return run.exit_code;
}

} // namespace dm::test

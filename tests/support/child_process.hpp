// The one way tests start other programs (the server, the client, a
// browser, system tools): fork and exec with the output routed as asked,
// then reap with the exit code the shell would show.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace dm::test {

// Where a started program's output goes: descriptors to put on its stdout
// and stderr (-1: the test's own), and whether it leads a process group of
// its own (so that it and its helpers can be ended together).
struct child_io {
  int out_fd = -1;
  int err_fd = -1;
  bool own_process_group = false;
};

// Starts argv[0] (a path) with `argv`; the child's pid, or -1.
pid_t start_program(const std::vector<std::string>& argv,
                    const child_io& io = {});

// Waits for `pid` to end: its exit code, or 128 + the signal that ended it.
int reap(pid_t pid);

struct program_options {
  bool merge_stderr = false;      // stderr into `out`, in order
  bool own_process_group = false; // a timeout then ends the whole group
  // 0: wait as long as it takes; else SIGKILL once this has passed.
  std::chrono::milliseconds timeout{0};
};

struct program_run {
  int exit_code = -1; // or 128 + signal
  bool timed_out = false;
  std::string out;
  std::string err;
  double seconds = 0;
};

// Runs a program to completion, keeping what it writes.
program_run run_program(const std::vector<std::string>& argv,
                        const program_options& options);

// Runs a program to completion; returns its exit code, and its stdout and
// stderr together in `output`.
int run_program(const std::vector<std::string>& argv, std::string& output);

} // namespace dm::test

// What the tests read of a process: its memory figures from
// /proc/<pid>/status, and the descriptor limit raised for many connections.
#pragma once

#include <string>

#include <sys/types.h>

namespace dm::test {

// A field of /proc/<pid>/status in KiB ("VmRSS:", "VmHWM:"), or -1.
long status_kib(pid_t pid, const std::string& field);

// The soft limit on open files raised to the hard one, for tests that open
// hundreds of connections.
void raise_fd_limit();

} // namespace dm::test

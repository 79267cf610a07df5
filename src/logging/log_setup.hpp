// Logging: spdlog to rotating files under -logDir (with a size quota), to
// stderr when asked, and to a ring buffer that /logs shows.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace spdlog::sinks {
template <typename Mutex>
class ringbuffer_sink;
class sink;
} // namespace spdlog::sinks

namespace dm {

// As the original's lib/logbuf and lib/log/serverlogger (see
// docs/architecture.md, "Logging").
struct log_options {
  std::string directory; // empty: no files
  std::uint64_t buffer_lines = 1024;
  bool also_to_stderr = false;
  std::uint64_t file_max_bytes = 10u << 20; // then a new file (>= 16 KiB)
  std::uint64_t quota_bytes = 100u << 20;   // across all files (>= 64 KiB)
  bool subseconds = false;                  // microseconds in time stamps
  std::chrono::nanoseconds idle_mark{0};    // > 0: "MARK" after this quiet
  bool debug = false;                       // debug lines too
};

// A log message as one line that cannot be mistaken for another: control
// characters (C0, DEL, C1, U+2028 and U+2029) become \n, \r, \t or \xHH /
// \uHHHH, a backslash becomes \\, and a byte that is not UTF-8 becomes
// \xHH. Host and group names reach log lines as clients sent them; every
// line passes through this, so none can forge a line in the files or
// /logs.
std::string log_line_text(std::string_view message);

class log_setup {
public:
  // Installs the default logger. A directory that cannot be used gives a
  // warning in `warning` and logging goes on without files.
  explicit log_setup(const log_options& options, std::string& warning);
  ~log_setup();

  // The buffered lines, newest last, one per line.
  std::string recent_text() const;

private:
  class activity_sink;
  void mark_idle_periods(std::chrono::nanoseconds idle);

  std::shared_ptr<spdlog::sinks::ringbuffer_sink<std::mutex>> ring_;
  std::shared_ptr<spdlog::sinks::sink> file_;
  std::shared_ptr<activity_sink> activity_;
  std::mutex mark_mutex_;
  std::condition_variable mark_wake_;
  bool stopping_ = false;
  std::thread marker_;
};

} // namespace dm

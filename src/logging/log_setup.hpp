// Logging: spdlog to rotating files under -logDir (with a size quota), to
// stderr when asked, and to a ring buffer that /logs shows.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace spdlog::sinks {
template <typename Mutex>
class ringbuffer_sink;
}

namespace dm {

struct log_options {
  std::string directory; // empty: no files
  std::uint64_t buffer_lines = 1024;
  bool also_to_stderr = false;
  std::uint64_t quota_bytes = 10u << 20; // across all files
};

class log_setup {
public:
  // Installs the default logger. A directory that cannot be used gives a
  // warning in `warning` and logging goes on without files.
  explicit log_setup(const log_options& options, std::string& warning);
  ~log_setup();

  // The buffered lines, newest last, one per line.
  std::string recent_text() const;

private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink<std::mutex>> ring_;
};

} // namespace dm

// The default logger's sinks.
#include "logging/log_setup.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

namespace dm {

log_setup::log_setup(const log_options& options, std::string& warning) {
  std::vector<spdlog::sink_ptr> sinks;
  ring_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(
      options.buffer_lines > 0 ? options.buffer_lines : 1);
  sinks.push_back(ring_);
  if (!options.directory.empty()) {
    ::mkdir(options.directory.c_str(), 0755);
    try {
      constexpr std::size_t files = 5;
      auto file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.directory + "/disruption-manager.log",
          std::max<std::uint64_t>(options.quota_bytes / files, 64 * 1024),
          files - 1);
      sinks.push_back(file_sink);
    } catch (const spdlog::spdlog_ex& e) {
      warning = std::string("logging to files disabled: ") + e.what();
    }
  }
  if (options.also_to_stderr || sinks.size() == 1)
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("disruption-manager",
                                                 sinks.begin(), sinks.end());
  logger->set_pattern("%Y/%m/%d %H:%M:%S.%f %v");
  logger->set_level(spdlog::level::info);
  // Transitions are frequent: writing each at once would cost a system
  // call per change on an actor thread. Warnings go out at once, the rest
  // within a second; /logs reads the in-memory ring either way.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

log_setup::~log_setup() {
  spdlog::default_logger()->flush();
}

std::string log_setup::recent_text() const {
  std::string out;
  for (auto& line : ring_->last_formatted())
    out += line;
  return out;
}

} // namespace dm

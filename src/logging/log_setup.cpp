// The default logger's sinks.
#include "logging/log_setup.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include <sys/stat.h>

namespace dm {

// Notes when the last line was logged, for the MARK lines.
class log_setup::activity_sink final
    : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
  std::chrono::steady_clock::time_point last() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_.load()));
  }
  void touch() {
    last_ = std::chrono::steady_clock::now().time_since_epoch().count();
  }

protected:
  void sink_it_(const spdlog::details::log_msg&) override { touch(); }
  void flush_() override {}

private:
  std::atomic<std::chrono::steady_clock::rep> last_{
      std::chrono::steady_clock::now().time_since_epoch().count()};
};

log_setup::log_setup(const log_options& options, std::string& warning) {
  std::vector<spdlog::sink_ptr> sinks;
  ring_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(
      options.buffer_lines > 0 ? options.buffer_lines : 1);
  sinks.push_back(ring_);
  if (!options.directory.empty()) {
    ::mkdir(options.directory.c_str(), 0755);
    try {
      // The original's floors: 16 KiB a file, 64 KiB in all; the quota
      // holds as many whole files as fit, at least two.
      std::uint64_t file_bytes =
          std::max<std::uint64_t>(options.file_max_bytes, 16 * 1024);
      std::uint64_t quota =
          std::max<std::uint64_t>(options.quota_bytes, 64 * 1024);
      std::size_t files = static_cast<std::size_t>(
          std::clamp<std::uint64_t>(quota / file_bytes, 2, 1024));
      file_bytes = std::min(file_bytes, quota / files);
      file_ = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.directory + "/disruption-manager.log", file_bytes, files - 1);
      sinks.push_back(file_);
    } catch (const spdlog::spdlog_ex& e) {
      warning = std::string("logging to files disabled: ") + e.what();
    }
  }
  if (options.also_to_stderr || sinks.size() == 1)
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  activity_ = std::make_shared<activity_sink>();
  sinks.push_back(activity_);
  auto logger = std::make_shared<spdlog::logger>("disruption-manager",
                                                 sinks.begin(), sinks.end());
  // Go's log.LstdFlags, with log.Lmicroseconds for -logSubseconds.
  logger->set_pattern(options.subseconds ? "%Y/%m/%d %H:%M:%S.%f %v"
                                         : "%Y/%m/%d %H:%M:%S %v");
  logger->set_level(options.debug ? spdlog::level::debug : spdlog::level::info);
  // Transitions are frequent: writing each at once would cost a system
  // call per change on an actor thread. Warnings go out at once, the rest
  // within a second; /logs reads the in-memory ring either way.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  if (file_ && options.idle_mark.count() > 0)
    marker_ = std::thread(
        [this, idle = options.idle_mark] { mark_idle_periods(idle); });
}

log_setup::~log_setup() {
  if (marker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mark_mutex_);
      stopping_ = true;
    }
    mark_wake_.notify_all();
    marker_.join();
  }
  spdlog::default_logger()->flush();
}

// As lib/logbuf: after `idle` without a line, "MARK" goes to the file only
// (not to /logs or stderr), and again after each further `idle`.
void log_setup::mark_idle_periods(std::chrono::nanoseconds idle) {
  std::unique_lock<std::mutex> lock(mark_mutex_);
  while (!stopping_) {
    auto due = activity_->last() + idle;
    if (std::chrono::steady_clock::now() < due) {
      mark_wake_.wait_until(lock, due);
      continue;
    }
    spdlog::details::log_msg mark("disruption-manager", spdlog::level::info,
                                  "MARK");
    file_->log(mark);
    file_->flush();
    activity_->touch();
  }
}

std::string log_setup::recent_text() const {
  std::string out;
  for (auto& line : ring_->last_formatted())
    out += line;
  return out;
}

} // namespace dm

// The default logger's sinks.
#include "logging/log_setup.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include <sys/stat.h>

#include "template/go_text.hpp"

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

namespace {

void append_hex(std::string& out, const char* prefix, std::uint32_t value,
                int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  out += prefix;
  for (int i = digits - 1; i >= 0; --i)
    out += hex[(value >> (4 * i)) & 0xF];
}

// The message part of every line ("%V" in the pattern), escaped.
class escaped_message final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    auto text =
        log_line_text(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<escaped_message>();
  }
};

} // namespace

std::string log_line_text(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto c = static_cast<unsigned char>(message[pos]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\')
        out += '\\';
      out += static_cast<char>(c);
      ++pos;
      continue;
    }
    char32_t rune = 0;
    auto width = tmpl::decode_rune(message, pos, rune);
    if (c < 0x80 || (rune == tmpl::rune_error && width == 1)) {
      // A C0 control, DEL, or a byte that is not UTF-8.
      if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else
        append_hex(out, "\\x", c, 2);
      ++pos;
      continue;
    }
    if ((rune >= 0x80 && rune <= 0x9F) || rune == 0x2028 || rune == 0x2029)
      append_hex(out, "\\u", rune, 4);
    else
      out.append(message.substr(pos, width));
    pos += width;
  }
  return out;
}

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
  // Go's log.LstdFlags, with log.Lmicroseconds for -logSubseconds; every
  // message escaped (log_line_text): one record, one line.
  spdlog::pattern_formatter::custom_flags flags;
  flags['V'] = std::make_unique<escaped_message>();
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      options.subseconds ? "%Y/%m/%d %H:%M:%S.%f %V" : "%Y/%m/%d %H:%M:%S %V",
      spdlog::pattern_time_type::local, spdlog::details::os::default_eol,
      std::move(flags)));
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

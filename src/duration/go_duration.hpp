// Go's time.ParseDuration and time.Duration.String, reproduced exactly, so a
// DisruptionManagerReadyTimeout tag means here what it means to the Go original.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dm {

// Outcome of parse_go_duration: exactly one of value or error is meaningful.
struct duration_result {
  std::optional<std::chrono::nanoseconds> value; // set on success
  std::string error; // Go's error text on failure, e.g.
                     // `time: missing unit in duration "1"`

  explicit operator bool() const { return value.has_value(); }
};

// Accepts exactly what time.ParseDuration accepts ("300ms", "-1.5h",
// "2h45m", ".5s", "+0", units ns us µs μs ms s m h) and fails with Go's
// message otherwise, including its overflow rules.
duration_result parse_go_duration(std::string_view text);

// Same text as Go's Duration.String(): "1h0m0s", "1.5s", "300ms", "0s",
// "-2m3s", "1µs" (with U+00B5).
std::string format_go_duration(std::chrono::nanoseconds d);

} // namespace dm

// Fuzzes parse_go_duration (DisruptionManagerReadyTimeout tags) and
// format_go_duration: what parses must format back to text that parses to
// the same value, as Go's Duration.String output always does.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "duration/go_duration.hpp"
#include "invariant.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = dm::parse_go_duration(text);
  if (!parsed) {
    DM_FUZZ_EXPECT(!parsed.error.empty(), "a refused duration names a reason");
  } else {
    auto formatted = dm::format_go_duration(*parsed.value);
    auto again = dm::parse_go_duration(formatted);
    DM_FUZZ_EXPECT(again && *again.value == *parsed.value,
                   "parse(format(parse(text))) == parse(text)");
  }
  // Any int64 is a Duration Go can print and read back.
  if (size >= 8) {
    std::int64_t raw = 0;
    std::memcpy(&raw, data, sizeof(raw));
    std::chrono::nanoseconds value{raw};
    auto formatted = dm::format_go_duration(value);
    auto again = dm::parse_go_duration(formatted);
    DM_FUZZ_EXPECT(again && *again.value == value,
                   "parse(format(d)) == d for every int64");
  }
  return 0;
}

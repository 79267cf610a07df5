// Fuzzes parse_legacy_state (the original's state.json, read at first start)
// and the RFC 3339 times inside it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "storage/legacy_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A fixed "now" keeps runs reproducible: 2024-01-01T00:00:00Z.
  const dm::timestamp now{std::chrono::seconds(1704067200)};
  std::string error;
  auto state = dm::parse_legacy_state(text, now, error);
  if (!state) {
    DM_FUZZ_EXPECT(!error.empty(), "a refused state.json names a reason");
  } else {
    for (const auto& [id, group] : state->groups) {
      DM_FUZZ_EXPECT(!group.hosts.empty(), "no empty groups are imported");
      for (const auto& [host, entry] : group.hosts) {
        DM_FUZZ_EXPECT(!host.empty(), "every imported host has a name");
        DM_FUZZ_EXPECT(entry.hold || entry.wait,
                       "every imported host holds or waits");
        DM_FUZZ_EXPECT(!entry.wait || entry.wait->deadline > now,
                       "expired waits are dropped");
      }
    }
  }
  (void)dm::parse_rfc3339(text);
  return 0;
}

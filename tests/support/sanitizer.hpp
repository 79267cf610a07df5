// Set by scripts/run-sanitizers: the suite runs 5-15 times slower and with
// several times the memory, so tests that measure progress or resident
// memory scale their expectations (what they check stays the same).
#pragma once

#include <cstdlib>

namespace dm::test {

inline bool under_sanitizer() {
  const char* kind = std::getenv("DM_SANITIZER");
  return kind != nullptr && *kind != '\0';
}

} // namespace dm::test

// A property every fuzz target checks beyond "does not crash": a broken one
// prints what failed and aborts, so libFuzzer records the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>

#define DM_FUZZ_EXPECT(condition, what)                                        \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", what,        \
                   __FILE__, __LINE__);                                        \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

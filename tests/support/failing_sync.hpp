// Sync failures on demand: test programs linking this get an fdatasync that
// passes every call through to the system's until a test arms it.
#pragma once

namespace dm::test {

// Makes the n-th fdatasync from now fail with EIO (n = 1: the next one);
// 0 disarms.
void fail_nth_sync(int n);

} // namespace dm::test

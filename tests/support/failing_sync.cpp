// fdatasync interposed: the program's definition comes before libc's, so
// the file store's syncs come here. (The linker takes this object, and so
// the interposer, only into programs that call fail_nth_sync.)
#include "tests/support/failing_sync.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace {

std::atomic<int> fail_in{0}; // fail the n-th fdatasync from now; 0: none

} // namespace

namespace dm::test {

void fail_nth_sync(int n) {
  fail_in = n;
}

} // namespace dm::test

extern "C" int fdatasync(int fd) {
  using real_fn = int (*)(int);
  static auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "fdatasync"));
  int left = fail_in.load();
  while (left > 0 && !fail_in.compare_exchange_weak(left, left - 1)) {
  }
  if (left == 1) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

#include "memory/heap_trimmer.hpp"

#include <atomic>
#include <utility>

#include <malloc.h>
#include <sys/resource.h>

namespace dm {

namespace {

std::atomic<bool> trim_requested{false};

std::chrono::microseconds cpu_time(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         std::chrono::microseconds(usage.ru_utime.tv_usec +
                                   usage.ru_stime.tv_usec);
}

} // namespace

void request_heap_trim() {
  trim_requested.store(true, std::memory_order_relaxed);
}

bool take_heap_trim_request() {
  return trim_requested.exchange(false, std::memory_order_relaxed);
}

heap_trimmer::heap_trimmer(std::chrono::milliseconds period, cpu_reading others)
    : period_(period), others_(std::move(others)), thread_([this] { run(); }) {
  // nop
}

heap_trimmer::~heap_trimmer() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::uint64_t heap_trimmer::trims() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return trims_;
}

void heap_trimmer::run() {
  // The process's CPU time less this thread's (a trim's own work must not
  // count as a busy spell).
  cpu_reading others = others_;
  if (!others)
    others = [] { return cpu_time(RUSAGE_SELF) - cpu_time(RUSAGE_THREAD); };
  auto last = others();
  bool busy = false; // a busy period since the last trim
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    auto now = others();
    auto used = now - last;
    last = now;
    if (used * 2 >= period_)
      busy = true;
    bool quiet_after_busy = busy && used * 10 < period_;
    bool asked = take_heap_trim_request();
    if (!quiet_after_busy && !asked)
      continue;
    if (quiet_after_busy)
      busy = false;
    lock.unlock();
    malloc_trim(0);
    lock.lock();
    ++trims_;
  }
}

} // namespace dm

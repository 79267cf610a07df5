#include "service/heap_trimmer.hpp"

#include <malloc.h>

namespace dm {

std::size_t free_heap_bytes() {
  return mallinfo2().fordblks;
}

heap_trimmer::heap_trimmer(std::chrono::milliseconds period,
                           std::size_t threshold)
    : period_(period), threshold_(threshold), thread_([this] { run(); }) {
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

// Free heap stays free heap after a trim (only its pages go back), so the
// trigger is what was freed since: the free total above the lowest seen
// since the last trim.
void heap_trimmer::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::size_t low = free_heap_bytes();
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    auto free = free_heap_bytes();
    if (free < low)
      low = free;
    if (free - low <= threshold_)
      continue;
    lock.unlock();
    malloc_trim(0);
    low = free_heap_bytes();
    lock.lock();
    ++trims_;
  }
}

} // namespace dm

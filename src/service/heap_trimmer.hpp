// Gives free heap back to the system (docs/performance.md, "Free heap
// given back"). Start-up builds and frees copies of the whole state, and a
// page of the whole state builds a view and frees it; glibc's malloc keeps
// such memory mapped unless asked to return it. A thread of its own looks
// at malloc's free total every `period` and calls malloc_trim when more
// than `threshold` bytes were freed since it last did (at most once a
// period).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace dm {

// Free heap malloc holds (glibc's mallinfo2 fordblks, every arena).
std::size_t free_heap_bytes();

class heap_trimmer {
public:
  heap_trimmer(std::chrono::milliseconds period, std::size_t threshold);
  ~heap_trimmer(); // stops the thread
  heap_trimmer(const heap_trimmer&) = delete;
  heap_trimmer& operator=(const heap_trimmer&) = delete;

  // How many times it has trimmed.
  std::uint64_t trims() const;

private:
  void run();

  const std::chrono::milliseconds period_;
  const std::size_t threshold_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t trims_ = 0;
  std::thread thread_;
};

} // namespace dm

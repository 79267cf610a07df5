// Gives free heap back to the system (docs/performance.md, "Free heap
// given back"). Start-up builds and frees copies of the whole state, and a
// page of the whole state builds a view and frees it; glibc's malloc keeps
// such memory mapped unless asked to return it, and malloc_trim(0) walks
// every free chunk with the arena locked (tens of milliseconds on a heap
// of a gigabyte). So a thread of its own trims only when there is reason
// to: when asked (request_heap_trim(), after a large free), and when the
// process turns quiet after a busy spell (the end of start-up or of a
// burst). It never looks at malloc's own figures, which cost a walk too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace dm {

// Asks the process's heap trimmer (if one runs) to trim at its next look:
// a large structure was just freed. Cheap (an atomic store); may be called
// from any thread, actors included.
void request_heap_trim();
// Whether a trim was asked for since the last call (and forgets it): what
// the trimmer looks at.
bool take_heap_trim_request();

class heap_trimmer {
public:
  // The CPU time the process has used, less the trimmer's own thread's
  // (called on that thread). By default getrusage's; tests give their own,
  // so that what counts as busy does not depend on how loaded the machine
  // running them is.
  using cpu_reading = std::function<std::chrono::microseconds()>;

  // Looks every `period`. A period in which the process (less this
  // thread) used at least half a core is busy; one under a tenth of a core
  // after a busy one is the end of the spell.
  explicit heap_trimmer(std::chrono::milliseconds period,
                        cpu_reading others = {});
  ~heap_trimmer(); // stops the thread
  heap_trimmer(const heap_trimmer&) = delete;
  heap_trimmer& operator=(const heap_trimmer&) = delete;

  // How many times it has trimmed.
  std::uint64_t trims() const;

private:
  void run();

  const std::chrono::milliseconds period_;
  const cpu_reading others_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t trims_ = 0;
  std::thread thread_;
};

} // namespace dm

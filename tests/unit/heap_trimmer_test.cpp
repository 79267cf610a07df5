// Free heap given back to the system, and the heap-kept optional of the
// books' entries.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "disruption/group_book.hpp"
#include "memory/heap_trimmer.hpp"
#include "model/heap_optional.hpp"
#include "tests/support/sanitizer.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

// 96 MiB in small blocks (below mmap's threshold: they stay in the heap),
// each written so that its pages are resident; a block kept after them
// holds the top of the heap, so once they are freed only a trim gives
// their pages back.
struct heap_blocks {
  std::vector<std::unique_ptr<char[]>> blocks;
  std::unique_ptr<char[]> top;
  heap_blocks() {
    for (int i = 0; i < 96 * 1024; ++i) {
      blocks.emplace_back(new char[1000]);
      std::fill_n(blocks.back().get(), 1000, 'x');
    }
    top = std::make_unique<char[]>(1000);
  }
};

// CPU time as the test spends it, read by the trimmer's thread.
struct fake_cpu {
  std::shared_ptr<std::atomic<std::int64_t>> micros =
      std::make_shared<std::atomic<std::int64_t>>(0);
  heap_trimmer::cpu_reading reading() const {
    return [micros = micros] { return std::chrono::microseconds(*micros); };
  }
  void spend(std::chrono::microseconds time) { *micros += time.count(); }
};

// Whether freed heap shows in RSS once trimmed: not under a sanitizer,
// whose allocator keeps a heap of its own (and freed blocks in
// quarantine) that malloc_trim does not reach.
bool rss_follows_trims() {
  return !dm::test::under_sanitizer();
}

bool wait_for_trims(const heap_trimmer& trimmer, std::uint64_t more_than) {
  for (int i = 0; i < 1000 && trimmer.trims() <= more_than; ++i)
    std::this_thread::sleep_for(10ms);
  return trimmer.trims() > more_than;
}

} // namespace

// Finding: at a million machines about 350 MiB of RSS was heap freed after
// start-up that malloc kept; malloc_trim gave 181 MiB of it back. Then:
// looking at malloc's free total every 250 ms (mallinfo2) cost 34 ms of a
// core each time at a million machines, with the arena locked.
TEST(heap_trimmer, trims_when_asked_and_not_otherwise) {
  heap_blocks heap;
  take_heap_trim_request(); // (none left over from another test)
  // No busy spell as the trimmer reads CPU time (the test's, so that
  // freeing the blocks, slow under a sanitizer, cannot make one).
  fake_cpu cpu;
  heap_trimmer trimmer(100ms, cpu.reading());
  auto before = rss_kib();
  heap.blocks.clear();
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(trimmer.trims(), 0u);
  if (rss_follows_trims()) {
    EXPECT_GT(rss_kib(), before - 24 * 1024) << before;
  }
  request_heap_trim();
  ASSERT_TRUE(wait_for_trims(trimmer, 0));
  // (Part of the blocks may have reused heap already resident.)
  if (rss_follows_trims()) {
    EXPECT_LT(rss_kib(), before - 24 * 1024) << before;
  }
  // Asked once, trimmed once.
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(trimmer.trims(), 1u);
}

TEST(heap_trimmer, trims_once_the_process_turns_quiet_after_a_busy_spell) {
  take_heap_trim_request();
  // The CPU time the trimmer reads is the test's: how much a busy spell
  // takes of each period on a loaded machine is no business of the test.
  fake_cpu cpu;
  heap_trimmer trimmer(20ms, cpu.reading());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(trimmer.trims(), 0u); // Quiet from the start: nothing to do.
  long before = 0;
  {
    heap_blocks heap; // the busy spell (writing 96 MiB), then freed
    before = rss_kib();
  }
  cpu.spend(1h); // more than any period: busy, then quiet again
  ASSERT_TRUE(wait_for_trims(trimmer, 0));
  if (rss_follows_trims()) {
    EXPECT_LT(rss_kib(), before - 24 * 1024) << before;
  }
  // Quiet since: no more trims.
  std::this_thread::sleep_for(100ms);
  auto trims = trimmer.trims();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(trimmer.trims(), trims);
}

TEST(heap_optional, behaves_as_an_optional_with_deep_copies) {
  heap_optional<waiting> none;
  EXPECT_FALSE(none);
  EXPECT_FALSE(none.has_value());
  waiting w;
  w.url = "http://ready.example/a-url-longer-than-fifteen";
  w.wait_id = 7;
  heap_optional<waiting> some = w;
  ASSERT_TRUE(some);
  EXPECT_EQ(some->url, w.url);
  auto copy = some;
  copy->wait_id = 8;
  EXPECT_EQ(some->wait_id, 7u);
  EXPECT_EQ((*copy).wait_id, 8u);
  copy = some;
  EXPECT_EQ(copy->wait_id, 7u);
  copy = std::nullopt;
  EXPECT_FALSE(copy);
  auto moved = std::move(some);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->wait_id, 7u);
  moved.reset();
  EXPECT_FALSE(moved);
  EXPECT_EQ(moved.emplace(w).wait_id, 7u);
  // An entry of the books is smaller than with the wait inline.
  EXPECT_LE(sizeof(host_entry), sizeof(std::optional<holding>) + sizeof(void*));
}

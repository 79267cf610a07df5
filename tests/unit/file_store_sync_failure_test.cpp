// The state directory when syncs fail (tests/support/failing_sync makes
// them fail on demand), and when a file size limit set on the test process
// stands for a full disk.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "storage/file_store.hpp"
#include "tests/support/failing_sync.hpp"
#include "tests/support/state_directory.hpp"

using namespace dm;

namespace {

// While it lives, no write of this process may make a file larger than
// `bytes` (the write fails with EFBIG, as on a full disk with ENOSPC).
class file_size_limit {
public:
  explicit file_size_limit(std::uint64_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    set(bytes);
  }
  void set(std::uint64_t bytes) {
    rlimit limit = saved_;
    limit.rlim_cur = static_cast<rlim_t>(bytes);
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }

private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

std::uint64_t size_of(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0
             ? static_cast<std::uint64_t>(info.st_size)
             : 0;
}

} // namespace

TEST(file_store_sync_failure, journal_stays_readable_after_a_compaction_fails) {
  test::temp_dir dir;
  file_store_options options;
  options.directory = dir.path();
  options.compact_min_bytes = 300;
  std::string error;
  std::vector<std::string> notes;
  {
    auto store = file_store::open(options, error, notes);
    ASSERT_TRUE(store) << error;
    std::vector<state_change> many;
    for (int i = 0; i < 10; ++i)
      many.push_back(test::permit_change("host-" + std::to_string(i), i + 1));
    store->append(many, error);
    // The batch's own sync works; the compaction that follows empties the
    // journal, but its sync fails: the batch is saved all the same.
    test::fail_nth_sync(2);
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_NE(error.find("cannot empty"), std::string::npos) << error;
    EXPECT_EQ(store->journal_bytes(), 0u);
    // The next batch's sync fails too: the journal is cut back to what it
    // held, an empty file, not grown to the length it had before.
    store->append({test::permit_change("host-10", 11)}, error);
    test::fail_nth_sync(1);
    error.clear();
    EXPECT_FALSE(store->sync(error));
    struct stat info {};
    ASSERT_EQ(::stat(dir.file("state.journal").c_str(), &info), 0);
    EXPECT_EQ(info.st_size, 0);
    // Writes work again; no compaction this time (a crash would come here).
    ASSERT_EQ(::mkdir(dir.file("state.snapshot.tmp").c_str(), 0755), 0);
    store->append({test::permit_change("host-11", 12)}, error);
    error.clear();
    EXPECT_TRUE(store->sync(error));
  }
  ASSERT_EQ(::rmdir(dir.file("state.snapshot.tmp").c_str()), 0);
  error.clear();
  auto again = file_store::open(options, error, notes);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->loaded().host_count(), 12u);
}

// A full disk: every batch after a failed one carries again the machines
// whose changes were not saved (as groups send them). The store keeps one
// pending change per machine, so what waits stays the size of the state,
// and a disk with room for one line per machine takes it all at once.
TEST(file_store_sync_failure,
     full_disk_keeps_one_pending_change_per_machine_and_recovers) {
  test::temp_dir dir;
  file_store_options options;
  options.directory = dir.path();
  std::string error;
  std::vector<std::string> notes;
  constexpr int machines = 200;
  {
    auto store = file_store::open(options, error, notes);
    ASSERT_TRUE(store) << error;
    ASSERT_TRUE(store->append({test::permit_change("host-0", 1)}, error));
    ASSERT_TRUE(store->sync(error)) << error;
    const auto journal = dir.file("state.journal");
    const auto full = size_of(journal);
    file_size_limit limit(full); // not one byte more
    std::vector<state_change> unsaved;
    for (int i = 1; i <= machines; ++i) {
      unsaved.push_back(
          test::permit_change("host-" + std::to_string(i), i + 1));
      ASSERT_TRUE(store->append(unsaved, error));
      error.clear();
      EXPECT_FALSE(store->sync(error));
      EXPECT_FALSE(error.empty());
    }
    EXPECT_EQ(store->pending_changes(), static_cast<std::size_t>(machines));
    EXPECT_EQ(size_of(journal), full);
    // Room for the machines' lines and little more: the next try saves.
    std::uint64_t lines = 0;
    for (const auto& change : unsaved)
      lines += encode_state_line(change).size();
    limit.set(full + lines + lines / 4);
    error.clear();
    EXPECT_TRUE(store->sync(error)) << error;
    EXPECT_EQ(store->pending_changes(), 0u);
    EXPECT_EQ(size_of(journal), full + lines);
  }
  auto again = file_store::open(options, error, notes);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->loaded().host_count(), machines + 1u);
}

// A compaction that cannot be written (a directory in the way of the
// temporary snapshot) is not tried again at every batch: it waits one
// second, then twice as long after each failure, up to the cap, and says
// so; once it can be written it succeeds and the wait is gone.
TEST(file_store_sync_failure, failed_compaction_backs_off_exponentially) {
  test::temp_dir dir;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  file_store_options options;
  options.directory = dir.path();
  options.compact_min_bytes = 200;
  options.compact_retry_first = std::chrono::seconds(1);
  options.compact_retry_cap = std::chrono::seconds(4);
  options.clock = [&now] { return now; };
  std::string error;
  std::vector<std::string> notes;
  auto store = file_store::open(options, error, notes);
  ASSERT_TRUE(store) << error;
  ASSERT_EQ(::mkdir(dir.file("state.snapshot.tmp").c_str(), 0755), 0);
  int seq = 0;
  auto batches = [&](int count) {
    int warnings = 0;
    for (int i = 0; i < count; ++i) {
      ++seq;
      ASSERT_TRUE(
          store->append({test::permit_change("host-" + std::to_string(seq % 7),
                                             static_cast<std::uint64_t>(seq))},
                        error));
      error.clear();
      ASSERT_TRUE(store->sync(error)) << error; // the batch itself is saved
      warnings += !error.empty();
    }
    EXPECT_LE(warnings, 1);
  };
  batches(50);
  EXPECT_EQ(store->health().compaction_failures, 1u);
  EXPECT_TRUE(store->health().compaction_failing);
  EXPECT_EQ(store->health().compaction_backoff, std::chrono::seconds(1));
  now += std::chrono::milliseconds(1100);
  batches(50);
  EXPECT_EQ(store->health().compaction_failures, 2u);
  EXPECT_EQ(store->health().compaction_backoff, std::chrono::seconds(2));
  now += std::chrono::milliseconds(1100); // less than two seconds: no try
  batches(50);
  EXPECT_EQ(store->health().compaction_failures, 2u);
  for (int round = 0; round < 4; ++round) {
    now += std::chrono::seconds(5);
    batches(10);
  }
  EXPECT_EQ(store->health().compaction_failures, 6u);
  EXPECT_EQ(store->health().compaction_backoff, std::chrono::seconds(4));
  EXPECT_EQ(store->compactions(), 0u);
  ASSERT_EQ(::rmdir(dir.file("state.snapshot.tmp").c_str()), 0);
  now += std::chrono::seconds(5);
  batches(1);
  EXPECT_EQ(store->compactions(), 1u);
  EXPECT_FALSE(store->health().compaction_failing);
  EXPECT_EQ(store->health().compaction_backoff, std::chrono::seconds(0));
}

namespace {

// A state as text, one journal line per host and group limit, sorted.
std::string as_lines(const stored_state& state) {
  std::string out;
  for (const auto& [id, group] : state.groups) {
    if (group.limit > 1)
      out += encode_state_line(state_change::limit_update(id, group.limit));
    for (const auto& [host, entry] : group.hosts)
      out += encode_state_line(state_change::host_update(id, host, entry));
  }
  return out;
}

} // namespace

// What the backlog writes after failed syncs reads back as the same state
// as the same changes synced without trouble: erased and re-added hosts,
// limits, and names that are not UTF-8 (written with replacement
// characters either way).
TEST(file_store_sync_failure, backlog_reads_back_as_the_changes_would) {
  const std::string bad = "G\xff";
  std::vector<std::vector<state_change>> batches = {
      {test::permit_change("a", 1), test::permit_change("b", 2),
       state_change::limit_update("L", 3)},
      {state_change::host_update("G", "a", host_entry{}),
       state_change::host_update(bad, "x\xfe", host_entry{})},
      {state_change::host_update(
           bad, "x\xfe",
           host_entry{holding{false, timestamp{std::chrono::seconds(5)}, 9},
                      std::nullopt}),
       state_change::limit_update("L", 1), test::permit_change("a", 4)},
      {state_change::host_update("G", "b", host_entry{}),
       state_change::limit_update("M", 2)},
  };
  auto run = [&](bool full_disk) {
    test::temp_dir dir;
    file_store_options options;
    options.directory = dir.path();
    std::string error;
    std::vector<std::string> notes;
    {
      auto store = file_store::open(options, error, notes);
      EXPECT_TRUE(store) << error;
      std::unique_ptr<file_size_limit> limit;
      if (full_disk)
        limit = std::make_unique<file_size_limit>(0);
      for (const auto& batch : batches) {
        EXPECT_TRUE(store->append(batch, error));
        EXPECT_EQ(store->sync(error), !full_disk) << error;
      }
      limit.reset();
      EXPECT_TRUE(store->sync(error)) << error;
    }
    auto again = file_store::open(options, error, notes);
    EXPECT_TRUE(again) << error;
    return again ? as_lines(again->loaded()) : std::string();
  };
  auto calm = run(false);
  EXPECT_NE(calm.find("\"h\":\"a\""), std::string::npos) << calm;
  EXPECT_EQ(run(true), calm);
}

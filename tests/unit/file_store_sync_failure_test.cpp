// The state directory when syncs fail: fdatasync is interposed for this
// test binary (it passes every call through unless a test arms it).
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "storage/file_store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm;

namespace {

int fail_in = 0; // fail the n-th fdatasync from now; 0: none

state_change permit(const std::string& host, std::uint64_t seq) {
  return state_change::host_update(
      "G", host,
      host_entry{holding{true, timestamp{std::chrono::seconds(1000)}, seq},
                 std::nullopt});
}

} // namespace

extern "C" int fdatasync(int fd) {
  using real_fn = int (*)(int);
  static auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "fdatasync"));
  if (fail_in > 0 && --fail_in == 0) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

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
      many.push_back(permit("host-" + std::to_string(i), i + 1));
    store->append(many, error);
    // The batch's own sync works; the compaction that follows empties the
    // journal, but its sync fails: the batch is saved all the same.
    fail_in = 2;
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_NE(error.find("cannot empty"), std::string::npos) << error;
    EXPECT_EQ(store->journal_bytes(), 0u);
    // The next batch's sync fails too: the journal is cut back to what it
    // held, an empty file, not grown to the length it had before.
    store->append({permit("host-10", 11)}, error);
    fail_in = 1;
    error.clear();
    EXPECT_FALSE(store->sync(error));
    struct stat info {};
    ASSERT_EQ(::stat(dir.file("state.journal").c_str(), &info), 0);
    EXPECT_EQ(info.st_size, 0);
    // Writes work again; no compaction this time (a crash would come here).
    ASSERT_EQ(::mkdir(dir.file("state.snapshot.tmp").c_str(), 0755), 0);
    store->append({permit("host-11", 12)}, error);
    error.clear();
    EXPECT_TRUE(store->sync(error));
  }
  ASSERT_EQ(::rmdir(dir.file("state.snapshot.tmp").c_str()), 0);
  error.clear();
  auto again = file_store::open(options, error, notes);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->loaded().host_count(), 12u);
}

// Fuzzes the file store's write side with arbitrary changes (names, URLs,
// times, limits as clients and the clock can make them; any bytes, as gob
// strings are): append, sync, compact, reopen. What was synced must be what
// a restart reads back; a batch with a time outside the storable range is
// refused whole. Syncs fail now and then (fdatasync is interposed): what
// was pending is saved by the next sync that works, and lost only with a
// restart before it.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <dlfcn.h>

#include <cerrno>

#include <fuzzer/FuzzedDataProvider.h>

#include "invariant.hpp"
#include "state_files.hpp"
#include "utf8_reference.hpp"
#include "storage/file_store.hpp"

namespace {

bool fail_syncs = false; // fdatasync fails with EIO while set

} // namespace

extern "C" int fdatasync(int fd) {
  using real_fn = int (*)(int);
  static auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "fdatasync"));
  if (fail_syncs) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

namespace {

// Mostly a time the store keeps; now and then any 64-bit value, which the
// store must refuse.
dm::timestamp next_time(FuzzedDataProvider& in) {
  auto ns = in.ConsumeBool()
                ? in.ConsumeIntegral<std::int64_t>()
                : in.ConsumeIntegralInRange<std::int64_t>(
                      dm::earliest_stored_ns, dm::latest_stored_ns);
  return dm::timestamp{std::chrono::nanoseconds(ns)};
}

bool times_storable(const dm::state_change& change) {
  return (!change.entry.hold ||
          dm::storable_time(change.entry.hold->last_request)) &&
         (!change.entry.wait || dm::storable_time(change.entry.wait->deadline));
}

dm::state_change next_change(FuzzedDataProvider& in) {
  auto group = in.ConsumeRandomLengthString(32);
  auto host = in.ConsumeRandomLengthString(32);
  switch (in.ConsumeIntegralInRange(0, 3)) {
  case 0: // Group limits come from group_limit(), which is at least 1.
    return dm::state_change::limit_update(
        group, std::max<std::uint64_t>(1, in.ConsumeIntegral<std::uint64_t>()));
  case 1: {
    dm::holding hold;
    hold.permitted = in.ConsumeBool();
    hold.last_request = next_time(in);
    hold.queue_seq = in.ConsumeIntegral<std::uint64_t>();
    dm::host_entry entry;
    entry.hold = hold;
    if (in.ConsumeBool()) {
      dm::waiting wait;
      wait.deadline = next_time(in);
      wait.url = in.ConsumeRandomLengthString(64);
      entry.wait = wait;
    }
    return dm::state_change::host_update(group, host.empty() ? "h" : host,
                                         entry);
  }
  case 2: {
    dm::waiting wait;
    wait.deadline = next_time(in);
    wait.url = in.ConsumeRandomLengthString(64);
    dm::host_entry entry;
    entry.wait = wait;
    return dm::state_change::host_update(group, host.empty() ? "h" : host,
                                         entry);
  }
  default: // Forget the host.
    return dm::state_change::host_update(group, host.empty() ? "h" : host,
                                         dm::host_entry{});
  }
}

std::unique_ptr<dm::file_store> reopen(const dm::file_store_options& options,
                                       const dm::stored_state& expected) {
  std::string error;
  std::vector<std::string> notes;
  auto store = dm::file_store::open(options, error, notes);
  DM_FUZZ_EXPECT(store != nullptr, "what we wrote opens");
  DM_FUZZ_EXPECT(notes.empty(), "what we synced has no torn tail");
  DM_FUZZ_EXPECT(dm::fuzz::same_state(store->loaded(), expected),
                 "a restart reads back what was synced");
  return store;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  FuzzedDataProvider in(data, size);
  dm::fuzz::clear_scratch_directory();
  dm::file_store_options options;
  options.directory = dm::fuzz::scratch_directory();
  // Compacting at every sync covers the snapshot writer as well.
  options.compact_min_bytes = in.ConsumeBool() ? 0 : 4u << 20;
  std::string error;
  std::vector<std::string> notes;
  auto store = dm::file_store::open(options, error, notes);
  DM_FUZZ_EXPECT(store != nullptr, "an empty directory opens");
  dm::stored_state expected;     // what synced: what a restart must show
  dm::stored_state expected_all; // with what is still pending
  for (int batch = 0; batch < 16 && in.remaining_bytes() > 0; ++batch) {
    std::vector<dm::state_change> changes;
    auto count = in.ConsumeIntegralInRange(1, 8);
    for (int i = 0; i < count && in.remaining_bytes() > 0; ++i)
      changes.push_back(next_change(in));
    // The front ends let only UTF-8 text reach the store; that must come
    // back unchanged after a restart. Other bytes must not break the store
    // (it may keep them altered, or refuse the batch with a reason).
    bool text = true;
    for (const auto& change : changes)
      text = text && dm::fuzz::well_formed_utf8(change.group) &&
             dm::fuzz::well_formed_utf8(change.host) &&
             (!change.entry.wait ||
              dm::fuzz::well_formed_utf8(change.entry.wait->url));
    bool storable = std::all_of(changes.begin(), changes.end(), times_storable);
    error.clear();
    bool appended = store->append(changes, error);
    DM_FUZZ_EXPECT(appended || !error.empty(),
                   "a refused batch names a reason");
    DM_FUZZ_EXPECT(appended || !text || !storable, "UTF-8 text is accepted");
    DM_FUZZ_EXPECT(storable || !appended,
                   "a time out of the storable range is refused");
    if (appended && !text) {
      DM_FUZZ_EXPECT(store->sync(error), "sync succeeds");
      // What the store made of the bytes is what a restart must show.
      store.reset();
      std::vector<std::string> open_notes;
      store = dm::file_store::open(options, error, open_notes);
      DM_FUZZ_EXPECT(store != nullptr, "a store fed any bytes opens again");
      expected = expected_all = store->loaded();
      continue;
    }
    if (appended)
      for (const auto& change : changes)
        dm::apply_change(expected_all, change);
    const bool pending = store->pending_changes() > 0;
    const bool inject = in.ConsumeIntegralInRange(0, 3) == 0;
    fail_syncs = inject;
    bool synced = store->sync(error);
    fail_syncs = false;
    DM_FUZZ_EXPECT(synced == (!pending || !inject),
                   "a sync fails exactly when writing what is pending does");
    DM_FUZZ_EXPECT(synced == (store->pending_changes() == 0),
                   "a failed sync keeps what is pending, a good one not");
    if (synced)
      expected = expected_all;
    if (in.ConsumeBool()) {
      store.reset();
      store = reopen(options, expected);
      expected_all = expected;
    }
  }
  store.reset();
  reopen(options, expected);
  return 0;
}

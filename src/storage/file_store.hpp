// The state directory backend: a snapshot plus an append-only journal of
// checksummed lines, synced in batches, compacted when the journal outgrows
// the snapshot. Reads the original's state.json when nothing else is there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/state_store.hpp"

namespace dm {

struct file_store_options {
  std::string directory;
  // Compact when the journal exceeds this and twice the snapshot's size.
  std::uint64_t compact_min_bytes = 4u << 20;
  // Largest state file (snapshot, journal, state.json) read at start.
  std::uint64_t max_file_bytes = 1ull << 30;
  // After a failed compaction the next waits this long, twice as long
  // after each further failure, up to the cap; a success resets it.
  std::chrono::milliseconds compact_retry_first = std::chrono::seconds(1);
  std::chrono::milliseconds compact_retry_cap = std::chrono::minutes(5);
  // The clock of those waits; empty: std::chrono::steady_clock.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

class file_store final : public state_store {
public:
  // Opens (creating the directory if needed) and reads the state. A corrupt
  // file is an error, never an empty state; a torn last journal line (one
  // without its newline: a write cut short by a crash) is dropped with a
  // warning in `notes`. A state file that is not a regular file, or is
  // larger than max_file_bytes, is refused.
  static std::unique_ptr<file_store> open(const file_store_options& options,
                                          std::string& error,
                                          std::vector<std::string>& notes);

  ~file_store() override;

  const stored_state& loaded() const override { return loaded_; }
  // Moves the loaded state out; describe() still counts it.
  stored_state take_loaded() override;
  // Refuses (whole) a batch holding a time outside the storable range.
  bool append(const std::vector<state_change>& changes,
              std::string& error) override;
  // A sync whose write fails keeps one pending change per machine (the
  // latest), so what waits for room never outgrows the state itself.
  bool sync(std::string& error) override;
  bool sync_due() const override { return snapshot_due_; }
  std::string describe() const override;
  store_health health() const override;

  std::uint64_t journal_bytes() const { return journal_size_; }
  std::uint64_t compactions() const { return compactions_; }
  // Changes appended and not yet durable (at most one per machine and one
  // per group limit).
  std::size_t pending_changes() const {
    return backlog_ ? backlog_changes_.size() : pending_count_;
  }

private:
  explicit file_store(file_store_options options);
  // The mirror as a new state.snapshot (temp file, fsync, rename,
  // directory fsync).
  bool write_snapshot(std::string& error);
  // A new snapshot, then the journal emptied.
  bool compact(std::string& error);
  // Compacts when the journal is due for it and no back-off is running.
  void maybe_compact(std::string& error);
  std::chrono::steady_clock::time_point now() const;

  file_store_options options_;
  stored_state loaded_;
  std::size_t loaded_hosts_ = 0, loaded_groups_ = 0; // for describe()
  stored_state mirror_; // what is (or is about to be) on disk
  int journal_fd_ = -1;
  std::uint64_t journal_size_ = 0; // bytes known to be whole lines
  std::uint64_t snapshot_size_ = 0;
  std::uint64_t compactions_ = 0;
  // An import of the original's state.json not yet saved as our snapshot:
  // the next sync writes it before any journal line.
  bool snapshot_due_ = false;
  // Appended, not yet written. Normally the journal lines themselves,
  // encoded as the changes arrive. After a failed sync (the backlog), the
  // latest change per (group, host), an empty host standing for the group's
  // limit, and one for the operators' settings, in order of first
  // appearance: every batch carries the unsaved machines again, and each
  // copy replaces the one before.
  std::string pending_;
  std::size_t pending_count_ = 0;
  std::uint64_t changes_written_ = 0;
  bool backlog_ = false;
  std::vector<state_change> backlog_changes_;
  std::map<std::tuple<bool, std::string, std::string>, std::size_t>
      backlog_index_;
  void add_to_backlog(const state_change& change);
  // The pending lines, read back, become the backlog.
  void enter_backlog();
  // Compaction back-off.
  std::uint64_t compaction_failures_ = 0;
  bool compaction_failing_ = false;
  std::chrono::milliseconds compact_backoff_{0};
  std::chrono::steady_clock::time_point next_compaction_{};
};

// Checksummed line codec of the journal and snapshot (exposed for tests).
void append_state_line(std::string& out, const state_change& change);
std::string encode_state_line(const state_change& change);
std::uint32_t state_crc32(const char* data, std::size_t size);

// What one line (without its newline) holds: a change, a snapshot's header
// or trailer, or nothing this version can read (`why` says what is wrong,
// quoting the line's start).
enum class line_kind { change, marker, damaged };
line_kind decode_state_line(std::string_view line, state_change& change,
                            std::string& why);
// The same with every record read as a whole JSON document, never in
// place (what the in-place reading is tested against).
line_kind decode_state_line_whole(std::string_view line, state_change& change,
                                  std::string& why);
// A line's body that is a machine's entry, read in place: false when it is
// anything else or anything unusual (out-of-range numbers or times, an
// unknown member), which the whole reading then decides.
bool read_host_record(std::string_view body, state_change& change);

} // namespace dm

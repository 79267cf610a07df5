// The state directory backend: a snapshot plus an append-only journal of
// checksummed lines, synced in batches, compacted when the journal outgrows
// the snapshot. Reads the original's state.json when nothing else is there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/state_store.hpp"

namespace dm {

struct file_store_options {
  std::string directory;
  // Compact when the journal exceeds this and twice the snapshot's size.
  std::uint64_t compact_min_bytes = 4u << 20;
};

class file_store final : public state_store {
public:
  // Opens (creating the directory if needed) and reads the state. A corrupt
  // file is an error, never an empty state; a torn last journal line (a
  // write cut short by a crash) is dropped with a warning in `notes`.
  static std::unique_ptr<file_store> open(const file_store_options& options,
                                          std::string& error,
                                          std::vector<std::string>& notes);

  ~file_store() override;

  const stored_state& loaded() const override { return loaded_; }
  bool append(const std::vector<state_change>& changes,
              std::string& error) override;
  bool sync(std::string& error) override;
  std::string describe() const override;

  std::uint64_t journal_bytes() const { return journal_size_; }
  std::uint64_t compactions() const { return compactions_; }

private:
  explicit file_store(file_store_options options);
  // The mirror as a new state.snapshot (temp file, fsync, rename,
  // directory fsync).
  bool write_snapshot(std::string& error);
  // A new snapshot, then the journal emptied.
  bool compact(std::string& error);

  file_store_options options_;
  stored_state loaded_;
  stored_state mirror_; // what is (or is about to be) on disk
  int journal_fd_ = -1;
  std::uint64_t journal_size_ = 0; // bytes known to be whole lines
  std::uint64_t snapshot_size_ = 0;
  std::uint64_t compactions_ = 0;
  std::string pending_; // appended, not yet written
};

// Checksummed line codec of the journal and snapshot (exposed for tests).
void append_state_line(std::string& out, const state_change& change);
std::string encode_state_line(const state_change& change);
std::uint32_t state_crc32(const char* data, std::size_t size);

} // namespace dm

// Fuzzes file_store::open on a state directory holding the input as
// state.journal, state.snapshot (or both) or the original's state.json.
// A store that opens must open again to the same state: opening repairs
// (torn tail, migration) but never changes what is remembered. The limits
// hold: a file over the read limit or not a regular file is refused, only a
// last line without its newline is dropped as torn, and every time loaded
// lies in the storable range.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "invariant.hpp"
#include "state_files.hpp"
#include "storage/file_store.hpp"

namespace {

// Prefixes each line with its correct checksum, so the fuzzer reaches the
// record parser behind the checksum; a last line without "\n" stays torn.
std::string with_checksums(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    auto newline = text.find('\n');
    auto body = text.substr(0, newline);
    char prefix[10];
    std::snprintf(prefix, sizeof(prefix), "%08x ",
                  dm::state_crc32(body.data(), body.size()));
    out.append(prefix, 9);
    out.append(body);
    if (newline == std::string_view::npos)
      break;
    out += '\n';
    text.remove_prefix(newline + 1);
  }
  return out;
}

bool times_in_range(const dm::stored_state& state) {
  for (const auto& [id, group] : state.groups)
    for (const auto& [host, entry] : group.hosts)
      if ((entry.hold && !dm::storable_time(entry.hold->last_request)) ||
          (entry.wait && !dm::storable_time(entry.wait->deadline)))
        return false;
  return true;
}

} // namespace

// The first byte chooses the files: bits 0-1 journal, snapshot, both
// (split at the first NUL) or state.json; bit 2 adds checksums; bit 3
// lowers the read limit to 64 bytes; bit 4 puts a FIFO in place of the
// (first) file.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  const auto mode = data[0];
  std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool checksums = (mode & 4) != 0;
  auto prepare = [&](std::string_view text) {
    return checksums ? with_checksums(text) : std::string(text);
  };
  dm::fuzz::clear_scratch_directory();
  switch (mode & 3) {
  case 0:
    dm::fuzz::write_scratch_file("state.journal", prepare(content));
    break;
  case 1:
    dm::fuzz::write_scratch_file("state.snapshot", prepare(content));
    break;
  case 2: {
    auto nul = content.find('\0');
    auto snapshot = content.substr(0, nul);
    auto journal = nul == std::string_view::npos ? std::string_view{}
                                                 : content.substr(nul + 1);
    dm::fuzz::write_scratch_file("state.snapshot", prepare(snapshot));
    dm::fuzz::write_scratch_file("state.journal", prepare(journal));
    break;
  }
  case 3:
    dm::fuzz::write_scratch_file("state.json", content);
    break;
  }
  const char* first_file = (mode & 3) == 0   ? "state.journal"
                           : (mode & 3) == 3 ? "state.json"
                                             : "state.snapshot";
  const bool fifo = (mode & 16) != 0;
  if (fifo) {
    auto path = dm::fuzz::scratch_directory() + "/" + first_file;
    ::unlink(path.c_str());
    if (::mkfifo(path.c_str(), 0644) != 0)
      return 0;
  }
  dm::file_store_options options;
  options.directory = dm::fuzz::scratch_directory();
  constexpr std::uint64_t small_limit = 64;
  if (mode & 8)
    options.max_file_bytes = small_limit;
  std::uint64_t largest = 0;
  for (const char* name : {"state.journal", "state.snapshot", "state.json"}) {
    struct stat info {};
    auto path = dm::fuzz::scratch_directory() + "/" + name;
    if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode))
      largest = std::max<std::uint64_t>(largest, info.st_size);
  }
  std::string journal_text;
  if ((mode & 3) == 0 || (mode & 3) == 2) {
    auto path = dm::fuzz::scratch_directory() + "/state.journal";
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      journal_text.resize(static_cast<std::size_t>(info.st_size));
      FILE* in = std::fopen(path.c_str(), "rb");
      if (in != nullptr) {
        journal_text.resize(
            std::fread(journal_text.data(), 1, journal_text.size(), in));
        std::fclose(in);
      }
    }
  }
  std::string error;
  std::vector<std::string> notes;
  auto store = dm::file_store::open(options, error, notes);
  if (fifo) {
    DM_FUZZ_EXPECT(store == nullptr &&
                       error.find("not a regular file (a FIFO)") !=
                           std::string::npos,
                   "a FIFO is refused as not a regular file");
    return 0;
  }
  if ((mode & 8) && largest > small_limit)
    DM_FUZZ_EXPECT(store == nullptr &&
                       error.find("larger than") != std::string::npos,
                   "a file over the read limit is refused");
  if (!store) {
    DM_FUZZ_EXPECT(!error.empty(), "a refused state names a reason");
    return 0;
  }
  DM_FUZZ_EXPECT(times_in_range(store->loaded()),
                 "every time loaded is in the storable range");
  for (const auto& note : notes)
    if (note.find("cut short") != std::string::npos)
      DM_FUZZ_EXPECT(!journal_text.empty() && journal_text.back() != '\n',
                     "only a last line without its newline is torn");
  auto first = store->loaded();
  (void)store->describe();
  store.reset();
  std::string again_error;
  auto again = dm::file_store::open(options, again_error, notes);
  DM_FUZZ_EXPECT(again != nullptr, "a state that opened opens again");
  DM_FUZZ_EXPECT(dm::fuzz::same_state(first, again->loaded()),
                 "opening again gives the same state");
  return 0;
}

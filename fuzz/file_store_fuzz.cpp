// Fuzzes file_store::open on a state directory holding the input as
// state.journal, state.snapshot (or both) or the original's state.json.
// A store that opens must open again to the same state: opening repairs
// (torn tail, migration) but never changes what is remembered.
#include <cstddef>
#include <cstdio>
#include <cstdint>
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

} // namespace

// The first byte chooses the files: bits 0-1 journal, snapshot, both
// (split at the first NUL) or state.json; bit 2 adds checksums.
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
  dm::file_store_options options;
  options.directory = dm::fuzz::scratch_directory();
  std::string error;
  std::vector<std::string> notes;
  auto store = dm::file_store::open(options, error, notes);
  if (!store) {
    DM_FUZZ_EXPECT(!error.empty(), "a refused state names a reason");
    return 0;
  }
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

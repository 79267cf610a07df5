// Fuzzes what a replica reads back from etcd: a value under a key of the
// state prefix (decode_stored_value). A value is taken only when it is one
// whole record of the key it sits under, and what the store would write
// for it is taken again; anything else is refused naming the key, never taken as empty.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "etcd/etcd_store.hpp"
#include "invariant.hpp"
#include "storage/file_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string prefix = "/dm/";
  bool own_key = in.ConsumeBool();
  std::string key = in.ConsumeRandomLengthString(256);
  std::string value = in.ConsumeRemainingBytesAsString();
  if (own_key) {
    // Often the key the value's record belongs under: the decoder's
    // deeper checks (empty records, limits) are reached.
    dm::state_change inner;
    std::string why;
    std::string_view line(value);
    if (!line.empty() && line.back() == '\n')
      line.remove_suffix(1);
    if (dm::decode_state_line(line, inner, why) == dm::line_kind::change)
      key = inner.host.empty()
                ? dm::etcd::limit_key(prefix, inner.group)
                : dm::etcd::machine_key(prefix, inner.group, inner.host);
  }
  dm::state_change change;
  std::string error;
  if (!dm::etcd::decode_stored_value(prefix, key, value, change, error)) {
    DM_FUZZ_EXPECT(error.rfind("etcd key ", 0) == 0,
                   "a refused value names its key");
    return 0;
  }
  dm::state_change again;
  DM_FUZZ_EXPECT(dm::etcd::decode_stored_value(
                     prefix, key, dm::encode_state_line(change), again, error),
                 "a value taken reads back as written by the store");
  if (change.host.empty()) {
    DM_FUZZ_EXPECT(key == dm::etcd::limit_key(prefix, change.group),
                   "a limit sits under its group's limit key");
  } else {
    DM_FUZZ_EXPECT(key ==
                       dm::etcd::machine_key(prefix, change.group, change.host),
                   "a record sits under its machine's key");
    DM_FUZZ_EXPECT(change.entry.hold || change.entry.wait,
                   "a machine's record holds or waits");
  }
  return 0;
}

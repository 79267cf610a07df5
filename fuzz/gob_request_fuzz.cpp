// Fuzzes gob_request_decoder (the SRPC gob coder's request side) fed all at
// once and byte by byte, which must agree; a decoder that carried another
// call before (as a connection's does, keeping that call's type
// definitions) must read the input as a new one does; and a decoded record
// survives our gob encoding of it unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codec/gob.hpp"
#include "invariant.hpp"
#include "pieces.hpp"

namespace {

struct outcome {
  dm::gob_status status = dm::gob_status::need_more;
  std::size_t used = 0;
  dm::machine_record machine;
  std::optional<std::uint64_t> request_field;
  std::string type_name;
  std::string error;
};

outcome finish(dm::gob_request_decoder& decoder, dm::gob_status status,
               std::size_t used) {
  outcome out;
  out.status = status;
  out.used = used;
  if (status == dm::gob_status::done) {
    out.machine = decoder.machine();
    out.request_field = decoder.request_field();
    out.type_name = decoder.type_name();
  } else if (status == dm::gob_status::error) {
    out.error = decoder.error();
  }
  return out;
}

// As a connection reads: everything that has arrived, minus what was used.
outcome decode(std::string_view stream, std::size_t piece) {
  dm::gob_request_decoder decoder(1 << 16);
  std::size_t used = 0;
  auto status = dm::fuzz::feed_in_pieces(decoder, stream, piece, used);
  return finish(decoder, status, used);
}

// As a connection reads its next call: the decoder carried `before` first.
outcome decode_after(std::string_view before, std::string_view stream) {
  dm::gob_request_decoder decoder(1 << 16);
  std::size_t consumed = 0;
  decoder.feed(before, consumed);
  decoder.reset();
  auto status = decoder.feed(stream, consumed);
  return finish(decoder, status, consumed);
}

// gob sends no pointer to an all-zero struct, so an empty AwsMetadata and
// none are the same on the wire.
dm::machine_record normalized(dm::machine_record m) {
  if (m.aws && *m.aws == dm::aws_metadata{})
    m.aws.reset();
  return m;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  auto [whole, bytewise] = dm::fuzz::at_once_and_bytewise(stream, decode);
  // Before it: a Go client's usual call, and the input itself.
  static const std::string usual = [] {
    dm::machine_record machine;
    machine.hostname = "node-1";
    machine.tags["DisruptionManagerGroupIdentifier"] = "g";
    return dm::encode_gob_request("DisruptionCheckRequest", machine);
  }();
  for (auto before : {std::string_view(usual), stream}) {
    auto next = decode_after(before, stream);
    DM_FUZZ_EXPECT(next.status == whole.status && next.error == whole.error,
                   "a call after another reads as on a new decoder");
    if (whole.status == dm::gob_status::done)
      DM_FUZZ_EXPECT(next.used == whole.used && next.machine == whole.machine &&
                         next.request_field == whole.request_field &&
                         next.type_name == whole.type_name,
                     "same value after another call as on a new decoder");
  }
  if (whole.status != dm::gob_status::done)
    return 0;
  DM_FUZZ_EXPECT(whole.used == bytewise.used,
                 "the value ends at the same byte however the bytes arrive");
  DM_FUZZ_EXPECT(whole.machine == bytewise.machine,
                 "same record however the bytes arrive");
  DM_FUZZ_EXPECT(whole.request_field == bytewise.request_field,
                 "same Request field however the bytes arrive");

  auto encoded = dm::encode_gob_request(whole.type_name, whole.machine, 65, 66,
                                        whole.request_field);
  auto again = decode(encoded, encoded.size() + 1);
  DM_FUZZ_EXPECT(again.status == dm::gob_status::done,
                 "our own encoding decodes");
  DM_FUZZ_EXPECT(again.used == encoded.size(), "our encoding is used whole");
  DM_FUZZ_EXPECT(normalized(again.machine) == normalized(whole.machine),
                 "record survives encode + decode");
  DM_FUZZ_EXPECT(again.type_name == whole.type_name,
                 "type name survives encode + decode");
  return 0;
}

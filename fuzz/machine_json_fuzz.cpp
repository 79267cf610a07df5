// Fuzzes the REST / SRPC JSON body parser (parse_request_body) with and
// without a required kind, compares it with a reading through a full JSON
// document, and checks that an accepted body survives Go's
// encoding of it unchanged (what we answer must mean what we read).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "codec/machine_json.hpp"
#include "codec/srpc_json.hpp"
#include "invariant.hpp"
#include "tests/support/json_reference.hpp"

namespace {

void parse_and_round_trip(std::string_view text, bool with_kind) {
  std::string error;
  auto decoded = dm::parse_request_body(text, with_kind, error);
  if (!dm::test::ambiguous(text)) {
    std::string reference_error;
    auto reference =
        dm::test::reference_parse(text, with_kind, reference_error);
    DM_FUZZ_EXPECT(decoded.has_value() == reference.has_value(),
                   "the document reading agrees on accepting the body");
    if (decoded && reference) {
      DM_FUZZ_EXPECT(decoded->machine == reference->machine,
                     "the document reading finds the same machine");
      DM_FUZZ_EXPECT(decoded->kind == reference->kind,
                     "the document reading finds the same kind");
    }
  }
  if (!decoded) {
    DM_FUZZ_EXPECT(!error.empty(), "a refused body names a reason");
    return;
  }
  DM_FUZZ_EXPECT(!with_kind || decoded->kind.has_value(),
                 "a REST body has a kind");
  auto encoded = dm::encode_json_request(decoded->machine, decoded->kind);
  std::string again_error;
  auto again = dm::parse_request_body(encoded, with_kind, again_error);
  DM_FUZZ_EXPECT(again.has_value(), "our own encoding parses");
  DM_FUZZ_EXPECT(again->machine == decoded->machine,
                 "machine survives encode + parse");
  DM_FUZZ_EXPECT(again->kind == decoded->kind, "kind survives encode + parse");
  // The state page and logs render records through nlohmann's dump.
  (void)dm::machine_to_json(decoded->machine).dump();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parse_and_round_trip(text, true);
  parse_and_round_trip(text, false);
  return 0;
}

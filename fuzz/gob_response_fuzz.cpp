// Fuzzes gob_response_decoder (what the SRPC client reads) fed all at once
// and byte by byte, which must agree, and checks that a decoded response
// survives our gob encoding of it unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/gob.hpp"
#include "invariant.hpp"
#include "pieces.hpp"

namespace {

struct outcome {
  dm::gob_status status = dm::gob_status::need_more;
  std::size_t used = 0;
  std::string response_error;
  dm::disruption_state state = dm::disruption_state::anytime;
  std::string type_name;
  std::string error;
};

outcome decode(std::string_view stream, std::size_t piece) {
  dm::gob_response_decoder decoder(1 << 16);
  outcome out;
  out.status = dm::fuzz::feed_in_pieces(decoder, stream, piece, out.used);
  if (out.status == dm::gob_status::done) {
    out.response_error = decoder.response_error();
    out.state = decoder.state();
    out.type_name = decoder.type_name();
  } else if (out.status == dm::gob_status::error) {
    out.error = decoder.error();
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  auto [whole, bytewise] = dm::fuzz::at_once_and_bytewise(stream, decode);
  if (whole.status != dm::gob_status::done)
    return 0;
  DM_FUZZ_EXPECT(whole.used == bytewise.used &&
                     whole.response_error == bytewise.response_error &&
                     whole.state == bytewise.state,
                 "same response however the bytes arrive");

  auto encoded = dm::encode_gob_response(whole.type_name, whole.response_error,
                                         whole.state);
  auto again = decode(encoded, encoded.size() + 1);
  DM_FUZZ_EXPECT(again.status == dm::gob_status::done,
                 "our own encoding decodes");
  DM_FUZZ_EXPECT(again.used == encoded.size() &&
                     again.response_error == whole.response_error &&
                     again.state == whole.state &&
                     again.type_name == whole.type_name,
                 "response survives encode + decode");
  return 0;
}

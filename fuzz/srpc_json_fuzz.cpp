// Fuzzes the SRPC JSON coder's stream decoders (json_request_decoder and
// json_response_decoder, with their value framer) fed all at once and byte
// by byte, which must agree, and checks that decoded values survive Go's
// encoding of them unchanged. A request read in place (its first line all
// there) must come out as the framer's way makes it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/srpc_json.hpp"
#include "invariant.hpp"
#include "pieces.hpp"

namespace {

// Feeds `stream` in pieces of `piece` bytes as a connection would. Returns
// the final status.
template <class Decoder>
dm::json_status decode(Decoder& decoder, std::string_view stream,
                       std::size_t piece) {
  std::size_t used = 0;
  return dm::fuzz::feed_in_pieces(decoder, stream, piece, used);
}

constexpr std::size_t max_value = 1 << 16;

// The stream in two pieces: up to its first byte that is not white space,
// then the rest with what was left. The value is framed before it is read,
// never read in place as a whole first line is. Returns the final status
// and the bytes used in all.
dm::json_status decode_framed(dm::json_request_decoder& decoder,
                              std::string_view stream, std::size_t& used) {
  auto first = stream.find_first_not_of(" \t\r\n");
  auto head = first == std::string_view::npos ? stream.size() : first + 1;
  std::string buffer(stream.substr(0, head));
  std::size_t consumed = 0;
  auto status = decoder.feed(buffer, consumed);
  used = consumed;
  if (status != dm::json_status::need_more || head == stream.size())
    return status;
  buffer.erase(0, consumed);
  buffer.append(stream.substr(head));
  status = decoder.feed(buffer, consumed);
  used += consumed;
  return status;
}

void requests(std::string_view stream) {
  dm::json_request_decoder whole(max_value);
  dm::json_request_decoder bytewise(max_value);
  std::size_t whole_used = 0;
  auto a = whole.feed(stream, whole_used);
  DM_FUZZ_EXPECT(whole_used <= stream.size(), "consumed within the input");
  auto b = decode(bytewise, stream, 1);
  dm::json_request_decoder framed(max_value);
  std::size_t framed_used = 0;
  auto c = decode_framed(framed, stream, framed_used);
  DM_FUZZ_EXPECT(a == c && whole.error() == framed.error(),
                 "request: read in place or framed, the same outcome");
  DM_FUZZ_EXPECT(a == dm::json_status::error || whole_used == framed_used,
                 "request: read in place or framed, the same bytes used");
  DM_FUZZ_EXPECT(a != dm::json_status::done ||
                     whole.machine() == framed.machine(),
                 "request: read in place or framed, the same record");
  DM_FUZZ_EXPECT(a == b, "request: same status however the bytes arrive");
  DM_FUZZ_EXPECT(whole.error() == bytewise.error(),
                 "request: same error however the bytes arrive");
  if (a != dm::json_status::done)
    return;
  DM_FUZZ_EXPECT(whole.machine() == bytewise.machine(),
                 "request: same record however the bytes arrive");
  auto encoded = dm::encode_json_request(whole.machine());
  dm::json_request_decoder again(max_value);
  DM_FUZZ_EXPECT(decode(again, encoded, encoded.size() + 1) ==
                     dm::json_status::done,
                 "request: our own encoding decodes");
  DM_FUZZ_EXPECT(again.machine() == whole.machine(),
                 "request: record survives encode + decode");
}

void responses(std::string_view stream) {
  dm::json_response_decoder whole(max_value);
  dm::json_response_decoder bytewise(max_value);
  auto a = decode(whole, stream, stream.size() + 1);
  auto b = decode(bytewise, stream, 1);
  DM_FUZZ_EXPECT(a == b, "response: same status however the bytes arrive");
  DM_FUZZ_EXPECT(whole.error() == bytewise.error(),
                 "response: same error however the bytes arrive");
  if (a != dm::json_status::done)
    return;
  DM_FUZZ_EXPECT(whole.response_error() == bytewise.response_error() &&
                     whole.state() == bytewise.state(),
                 "response: same value however the bytes arrive");
  auto encoded =
      dm::encode_json_response(whole.response_error(), whole.state());
  dm::json_response_decoder again(max_value);
  DM_FUZZ_EXPECT(decode(again, encoded, encoded.size() + 1) ==
                     dm::json_status::done,
                 "response: our own encoding decodes");
  DM_FUZZ_EXPECT(again.response_error() == whole.response_error() &&
                     again.state() == whole.state(),
                 "response: value survives encode + decode");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  requests(stream);
  responses(stream);
  return 0;
}

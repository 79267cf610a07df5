// Feeds a stream decoder as a connection reads: the stream arrives in pieces
// and the decoder sees everything that has arrived minus what it used.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "invariant.hpp"

namespace dm::fuzz {

// Feeds `stream` to `decoder` in pieces of `piece` bytes until the decoder
// stops asking for more. Returns its last status; `used` gets the bytes it
// used in all.
template <class Decoder>
auto feed_in_pieces(Decoder& decoder, std::string_view stream,
                    std::size_t piece, std::size_t& used) {
  using status_type =
      decltype(decoder.feed(std::declval<std::string&>(), used));
  std::string buffer;
  auto status = status_type::need_more;
  used = 0;
  for (std::size_t pos = 0; pos < stream.size();) {
    auto n = std::min(piece, stream.size() - pos);
    buffer.append(stream.substr(pos, n));
    pos += n;
    std::size_t consumed = 0;
    status = decoder.feed(buffer, consumed);
    DM_FUZZ_EXPECT(consumed <= buffer.size(), "consumed within the input");
    buffer.erase(0, consumed);
    used += consumed;
    if (status != status_type::need_more)
      break;
  }
  return status;
}

// Decodes `stream` at once and byte by byte with `decode(stream, piece)`,
// whose outcomes must agree on the status and the error. Returns both, the
// whole one first.
template <class Decode>
auto at_once_and_bytewise(std::string_view stream, Decode decode) {
  auto whole = decode(stream, stream.size() + 1);
  auto bytewise = decode(stream, 1);
  DM_FUZZ_EXPECT(whole.status == bytewise.status,
                 "same status however the bytes arrive");
  DM_FUZZ_EXPECT(whole.error == bytewise.error,
                 "same error however the bytes arrive");
  return std::pair(std::move(whole), std::move(bytewise));
}

} // namespace dm::fuzz

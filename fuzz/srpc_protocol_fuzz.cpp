// Fuzzes the SRPC call framing after CONNECT (srpc_protocol: method lines,
// pings, one gob or JSON request per call, the response) on a fake
// channel: the harness plays the I/O loop, handing in the bytes
// in pieces and answering each call at once.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "srpc/srpc_protocol.hpp"
#include "tests/support/fake_channel.hpp"

namespace {

constexpr std::size_t pieces[] = {1, 2, 3, 7, 16, 64, 512, 1u << 20};

} // namespace

// The first byte chooses: bit 0 the coder (gob, JSON), bits 1-3 the size of
// the pieces the bytes arrive in, bits 4-5 the state answered, bit 6 an
// error answer. The rest is what the client sends after CONNECT.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  // A caller with power over every method, so no call needs a look-up.
  static const auto identity = dm::test::powerful_identity();
  const auto mode = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto coder = (mode & 1) ? dm::srpc_coder::json : dm::srpc_coder::gob;
  const auto piece = pieces[(mode >> 1) & 7];
  dm::call_result answer;
  answer.state = static_cast<dm::disruption_state>((mode >> 4) & 3);
  if (mode & 64)
    answer.error = "state not saved";

  dm::test::fake_channel ch;
  ch.peer_id = identity;
  dm::srpc_protocol proto(coder, true, 1 << 16);
  std::size_t calls = 0;
  for (std::size_t pos = 0; pos < stream.size() && !ch.closing;) {
    auto n = std::min(piece, stream.size() - pos);
    auto before = ch.in.size() + n;
    ch.feed(proto, stream.substr(pos, n));
    pos += n;
    DM_FUZZ_EXPECT(ch.in.size() <= before, "input only shrinks");
    DM_FUZZ_EXPECT(ch.lookups.empty(), "a powerful caller needs no look-up");
    // As the loop does: answer a pending call, read what is left.
    while (ch.awaiting) {
      ++calls;
      DM_FUZZ_EXPECT(calls <= stream.size(), "each call takes input");
      ch.answer_call(proto, answer);
    }
    // Unread answers are the loop's concern; keep memory flat here.
    ch.out.clear();
    ch.calls.clear();
  }
  return 0;
}

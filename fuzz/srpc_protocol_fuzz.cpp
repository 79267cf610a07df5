// Fuzzes the SRPC call framing after CONNECT (srpc_protocol: method lines,
// pings, one gob or JSON request per call, the response) on a connection
// that is never put on a socket: the harness plays the I/O loop, handing
// in the bytes in pieces and answering each call at once.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "net/host_resolver.hpp"
#include "net/io_loop.hpp"
#include "srpc/srpc_protocol.hpp"
#include "tls/peer_identity.hpp"

namespace {

// A loop that runs no thread and listens nowhere: submit_call only marks
// the connection busy and sends to a null front desk, which drops it.
dm::io_loop& idle_loop() {
  static dm::host_resolver resolver(0);
  static dm::io_loop loop(
      -1, dm::connection_limits{}, resolver,
      [] { return std::unique_ptr<dm::protocol>(); },
      std::make_shared<std::atomic<std::size_t>>(0));
  return loop;
}

// A caller with power over every method, so no call needs a name lookup.
std::shared_ptr<const dm::peer_identity> powerful_caller() {
  auto identity = std::make_shared<dm::peer_identity>();
  identity->has_certificate = true;
  identity->verified = true;
  identity->username = "fuzz";
  identity->method_globs = {"DisruptionManager.*"};
  return identity;
}

constexpr std::size_t pieces[] = {1, 2, 3, 7, 16, 64, 512, 1u << 20};

} // namespace

// The first byte chooses: bit 0 the coder (gob, JSON), bits 1-3 the size of
// the pieces the bytes arrive in, bits 4-5 the state answered, bit 6 an
// error answer. The rest is what the client sends after CONNECT.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  static const auto identity = powerful_caller();
  const auto mode = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto coder = (mode & 1) ? dm::srpc_coder::json : dm::srpc_coder::gob;
  const auto piece = pieces[(mode >> 1) & 7];
  dm::call_result answer;
  answer.state = static_cast<dm::disruption_state>((mode >> 4) & 3);
  if (mode & 64)
    answer.error = "state not saved";

  dm::connection conn;
  conn.id = 1;
  conn.loop = &idle_loop();
  conn.peer_address = "127.0.0.1";
  conn.identity = identity;
  dm::srpc_protocol proto(coder, true, 1 << 16);
  std::size_t calls = 0;
  for (std::size_t pos = 0; pos < stream.size() && !conn.close_when_flushed;) {
    auto n = std::min(piece, stream.size() - pos);
    conn.input.append(stream.substr(pos, n));
    pos += n;
    // As the loop does: read, answer a pending call, read what is left.
    for (;;) {
      auto before = conn.input.size();
      proto.on_input(conn);
      DM_FUZZ_EXPECT(conn.input.size() <= before, "input only shrinks");
      if (!conn.busy)
        break;
      ++calls;
      DM_FUZZ_EXPECT(calls <= stream.size(), "each call takes input");
      conn.busy = false;
      proto.on_call_result(conn, answer);
      if (conn.input.empty() || conn.close_when_flushed)
        break;
    }
    // Unread answers are the loop's concern; keep memory flat here.
    conn.output.clear();
  }
  return 0;
}

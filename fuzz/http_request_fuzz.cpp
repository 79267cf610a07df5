// Fuzzes parse_http_request (every plain connection's first bytes) with the
// server's limits and with small ones, and checks that a request's parse
// never depends on the bytes after it (they belong to the next request).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/http_request.hpp"
#include "invariant.hpp"

namespace {

void parse_with(std::string_view data, const dm::http_limits& limits) {
  dm::http_request request;
  auto result = dm::parse_http_request(data, limits, request);
  switch (result.status) {
  case dm::parse_status::need_more:
    DM_FUZZ_EXPECT(data.size() <=
                       limits.max_header_bytes + limits.max_body_bytes + 4,
                   "need_more only while within the limits");
    return;
  case dm::parse_status::failed:
    DM_FUZZ_EXPECT(result.error_status >= 400 && result.error_status < 600,
                   "a failure carries an error status");
    DM_FUZZ_EXPECT(dm::http_reason(result.error_status) != "Unknown",
                   "a failure's status has a reason phrase");
    return;
  case dm::parse_status::done:
    break;
  }
  DM_FUZZ_EXPECT(result.consumed > 0 && result.consumed <= data.size(),
                 "a request is a non-empty prefix of the input");
  DM_FUZZ_EXPECT(request.body.size() <= limits.max_body_bytes,
                 "the body is within the limit");
  dm::http_request alone;
  auto again =
      dm::parse_http_request(data.substr(0, result.consumed), limits, alone);
  DM_FUZZ_EXPECT(again.status == dm::parse_status::done &&
                     again.consumed == result.consumed,
                 "the request parses the same without what follows it");
  DM_FUZZ_EXPECT(
      alone.method == request.method && alone.target == request.target &&
          alone.headers == request.headers && alone.body == request.body &&
          alone.keep_alive == request.keep_alive,
      "the same request without what follows it");
  // What the server builds from a request: the response framing.
  (void)dm::http_response_head(200, "text/plain", request.body.size(),
                               !request.keep_alive);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parse_with(text, dm::http_limits{});
  dm::http_limits small;
  small.max_header_bytes = 64;
  small.max_body_bytes = 16;
  parse_with(text, small);
  return 0;
}

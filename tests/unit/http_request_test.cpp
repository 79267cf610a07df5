// parse_http_request: framing, the keep-alive rules, limits, and one
// request object reused for a connection's pipelined requests.
#include "codec/http_request.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace dm {
namespace {

TEST(http_request, parses_a_post_with_its_body) {
  std::string data = "POST /api/v1/request?x=1 HTTP/1.1\r\nHost: h\r\n"
                     "Content-Length: 4\r\n\r\nbody";
  http_request request;
  auto result = parse_http_request(data, http_limits{}, request);
  ASSERT_EQ(result.status, parse_status::done);
  EXPECT_EQ(result.consumed, data.size());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/v1/request?x=1");
  EXPECT_EQ(request.path, "/api/v1/request");
  EXPECT_EQ(request.query, "x=1");
  EXPECT_EQ(request.body, "body");
  EXPECT_TRUE(request.keep_alive);
  ASSERT_NE(request.header("host"), nullptr);
  EXPECT_EQ(*request.header("host"), "h");
}

TEST(http_request, header_names_match_ignoring_case) {
  std::string data = "GET / HTTP/1.1\r\nX-Thing:  spaced value \t\r\n"
                     "CONTENT-length: 0\r\n\r\n";
  http_request request;
  ASSERT_EQ(parse_http_request(data, http_limits{}, request).status,
            parse_status::done);
  ASSERT_NE(request.header("x-thing"), nullptr);
  EXPECT_EQ(*request.header("X-THING"), "spaced value");
  EXPECT_EQ(request.header("x-other"), nullptr);
}

TEST(http_request, bare_newlines_end_lines_as_in_go) {
  std::string data = "CONNECT /_goSRPC_/ HTTP/1.0\n\n";
  http_request request;
  auto result = parse_http_request(data, http_limits{}, request);
  ASSERT_EQ(result.status, parse_status::done);
  EXPECT_EQ(result.consumed, data.size());
  EXPECT_EQ(request.method, "CONNECT");
  EXPECT_EQ(request.minor_version, 0);
  EXPECT_FALSE(request.keep_alive);
}

TEST(http_request, keep_alive_follows_the_version_and_connection_header) {
  struct example {
    const char* text;
    bool keep_alive;
  } examples[] = {
      {"GET / HTTP/1.1\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nconnection: upgrade, close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
  };
  for (const auto& e : examples) {
    http_request request;
    ASSERT_EQ(parse_http_request(e.text, http_limits{}, request).status,
              parse_status::done)
        << e.text;
    EXPECT_EQ(request.keep_alive, e.keep_alive) << e.text;
  }
}

TEST(http_request, waits_for_the_whole_body) {
  std::string data = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345";
  http_request request;
  EXPECT_EQ(parse_http_request(data, http_limits{}, request).status,
            parse_status::need_more);
  EXPECT_EQ(parse_http_request("POST / HTTP/1.1\r\nContent-Le", http_limits{},
                               request)
                .status,
            parse_status::need_more);
}

TEST(http_request, refuses_what_it_cannot_serve) {
  http_limits limits;
  limits.max_header_bytes = 64;
  limits.max_body_bytes = 8;
  struct example {
    std::string text;
    int status;
  } examples[] = {
      {"GET / HTTP/1.1\r\nX: " + std::string(80, 'a') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nX: " + std::string(80, 'a'), 431},
      {"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n",
       400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET /\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400},
  };
  for (const auto& e : examples) {
    http_request request;
    auto result = parse_http_request(e.text, limits, request);
    ASSERT_EQ(result.status, parse_status::failed) << e.text;
    EXPECT_EQ(result.error_status, e.status) << e.text;
    EXPECT_FALSE(result.error_reason.empty());
  }
}

TEST(http_request, repeated_equal_content_lengths_are_one) {
  http_request request;
  EXPECT_EQ(parse_http_request("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
                               "CONTENT-LENGTH: 2\r\n\r\nok",
                               http_limits{}, request)
                .status,
            parse_status::done);
  EXPECT_EQ(request.body, "ok");
}

// As Go's server: one Transfer-Encoding field, and only "chunked"; two
// fields (a proxy may honour the last, we the first) are refused whatever
// Content-Length says, and so is "identity".
TEST(http_request, two_transfer_encodings_are_refused) {
  std::string two = "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n"
                    "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n"
                    "\r\nok";
  std::string identity = "POST / HTTP/1.1\r\nTransfer-Encoding: "
                         "IDENTITY\r\nContent-Length: 2\r\n\r\nok";
  std::string list = "POST / HTTP/1.1\r\nTransfer-Encoding: identity, "
                     "chunked\r\nContent-Length: 2\r\n\r\nok";
  for (const auto& text : {two, identity, list}) {
    http_request request;
    auto result = parse_http_request(text, http_limits{}, request);
    ASSERT_EQ(result.status, parse_status::failed) << text;
    EXPECT_EQ(result.error_status, 501) << text;
    EXPECT_EQ(result.error_reason, "Unsupported transfer encoding");
  }
  // Chunked with a length: the length does not frame the body either.
  http_request request;
  auto chunked = parse_http_request(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "2\r\n\r\nok",
      http_limits{}, request);
  ASSERT_EQ(chunked.status, parse_status::failed);
  EXPECT_EQ(chunked.error_status, 411);
}

TEST(http_request, transfer_encoding_is_ignored_in_http_1_0) {
  http_request request;
  EXPECT_EQ(parse_http_request("POST / HTTP/1.0\r\nTransfer-Encoding: "
                               "chunked\r\nTransfer-Encoding: identity\r\n"
                               "Content-Length: 2\r\n\r\nok",
                               http_limits{}, request)
                .status,
            parse_status::done);
  EXPECT_EQ(request.body, "ok");
}

TEST(http_request, one_object_reads_pipelined_requests_in_turn) {
  std::string data = "POST /a?q HTTP/1.1\r\nX-First: 1\r\nContent-Length: 1\r\n"
                     "\r\nA"
                     "GET /b HTTP/1.0\r\n\r\n";
  http_request request;
  auto first = parse_http_request(data, http_limits{}, request);
  ASSERT_EQ(first.status, parse_status::done);
  EXPECT_EQ(request.path, "/a");
  EXPECT_EQ(request.body, "A");
  std::string rest = data.substr(first.consumed);
  auto second = parse_http_request(rest, http_limits{}, request);
  ASSERT_EQ(second.status, parse_status::done);
  EXPECT_EQ(second.consumed, rest.size());
  // Nothing of the first request is left over in the second.
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/b");
  EXPECT_EQ(request.query, "");
  EXPECT_EQ(request.body, "");
  EXPECT_EQ(request.header("x-first"), nullptr);
  EXPECT_EQ(request.headers.size(), 0u);
  EXPECT_FALSE(request.keep_alive);
}

TEST(http_request, response_head_carries_length_and_close) {
  EXPECT_EQ(http_response_head(200, "application/json", 33, false),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Content-Length: 33\r\n\r\n");
  std::string out = "before";
  append_response_head(out, 503, "text/plain", 0, true, "X-A: b\r\n");
  EXPECT_EQ(out, "beforeHTTP/1.1 503 Service Unavailable\r\n"
                 "Content-Type: text/plain\r\nContent-Length: 0\r\n"
                 "Connection: close\r\nX-A: b\r\n\r\n");
}

} // namespace
} // namespace dm

TEST(http_request, query_values_read_as_go_reads_them) {
  struct example {
    std::string query;
    std::optional<std::string> value;
    bool malformed;
  } examples[] = {
      {"doNotUseMethodPowers=true", "true", false},
      {"doNotUseMethodPowers=%74rue", "true", false},
      {"doNot%55seMethodPowers=true", "true", false},
      {"doNotUseMethodPowers=true_not", "true_not", false},
      {"a=1&doNotUseMethodPowers=false&doNotUseMethodPowers=true", "false",
       false},
      {"&&doNotUseMethodPowers=a+b&", "a b", false},
      {"doNotUseMethodPowers", "", false},
      {"doNotUseMethodPowersX=true", std::nullopt, false},
      {"", std::nullopt, false},
      {"doNotUseMethodPowers=%7", std::nullopt, true},
      {"x=%zz&doNotUseMethodPowers=true", std::nullopt, true},
      {"doNotUseMethodPowers=true;x=1", std::nullopt, true},
  };
  for (const auto& e : examples) {
    bool malformed = !e.malformed;
    auto value =
        dm::first_query_value(e.query, "doNotUseMethodPowers", malformed);
    EXPECT_EQ(value, e.value) << e.query;
    EXPECT_EQ(malformed, e.malformed) << e.query;
  }
}

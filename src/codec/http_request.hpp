// An HTTP/1.x request read from a byte stream, with hard limits on header
// and body size. Bare "\n" line ends are accepted, as Go's server does.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dm {

// The fields are views into the bytes it was parsed from and stay valid
// only while those bytes do. Parsing into the same object again reuses its
// header list, so a connection's requests allocate nothing.
struct http_request {
  std::string_view method;
  std::string_view target; // as sent: path and query
  std::string_view path;
  std::string_view query;
  int minor_version = 1;
  std::vector<std::pair<std::string_view, std::string_view>> headers; // as sent
  std::string_view body;
  bool keep_alive = true;

  // The value of a header (name matched ignoring case), or nullptr.
  const std::string_view* header(std::string_view name) const;
};

// Text rules both ends of HTTP share (the server's parser, the client's).
// Whether two ASCII names (header names, tokens) are equal ignoring case.
bool equal_ignoring_case(std::string_view a, std::string_view b);
// Whether `text` holds the ASCII `word` anywhere, ignoring case.
bool contains_ignoring_case(std::string_view text, std::string_view word);
// `text` without leading spaces and tabs, or trailing spaces, tabs and "\r".
std::string_view trim_http_space(std::string_view text);

// The first value of `name` in a URL query, decoded as Go's
// url.ParseQuery does ("+" is a space, %XX a byte; pairs split at "&").
// Empty when the name is absent; `malformed` is set, as Go refuses, for a
// bad escape or a ";" in a pair.
std::optional<std::string> first_query_value(std::string_view query,
                                             std::string_view name,
                                             bool& malformed);
// Every name and value of a URL query in order, decoded the same way;
// false (and `pairs` cut short) for a bad escape or a ";" in a pair.
bool parse_query(std::string_view query,
                 std::vector<std::pair<std::string, std::string>>& pairs);

struct http_limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
};

enum class parse_status { need_more, done, failed };

// Parses one request from the front of `data` into `out`, whose views then
// point into `data`. On done, `consumed` is its length. On failed,
// `error_status` (400, 411, 413, 431, 501, 505) and `error_reason` say what
// to answer before closing.
struct http_parse_result {
  parse_status status = parse_status::need_more;
  std::size_t consumed = 0;
  int error_status = 0;
  std::string error_reason;
};

http_parse_result parse_http_request(std::string_view data,
                                     const http_limits& limits,
                                     http_request& out);

// The reason phrase of a status code ("OK", "Not Found", ...).
std::string_view http_reason(int status);

// The status line and headers of a response with Content-Length, without
// its body; `close` adds "Connection: close".
std::string http_response_head(int status, std::string_view content_type,
                               std::size_t content_length, bool close,
                               std::string_view extra_headers = {});
// The same head, appended to `out`.
void append_response_head(std::string& out, int status,
                          std::string_view content_type,
                          std::size_t content_length, bool close,
                          std::string_view extra_headers = {});

// How a body of unknown length ends: with a last chunk (HTTP/1.1), or when
// the server closes the connection (HTTP/1.0, which has no chunks).
enum class open_body { chunked, until_close };

// The head of a response whose body follows in pieces.
std::string http_response_head(int status, std::string_view content_type,
                               open_body framing, bool close);

// Appends `data` as one chunk; empty data appends nothing, since an empty
// chunk would end the body.
void append_chunk(std::string& out, std::string_view data);
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

} // namespace dm

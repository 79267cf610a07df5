// HTTP/1.x request parsing and response framing.
#include "codec/http_request.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

#include "text/hex_digit.hpp"

namespace dm {

namespace {

// Header names and the tokens looked for are ASCII.
char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 7230 token characters: visible ASCII but for the separators.
constexpr std::array<bool, 256> token_chars = [] {
  std::array<bool, 256> table{};
  for (int c = 33; c < 127; ++c)
    table[c] = true;
  for (char c : std::string_view("()<>@,;:\\\"/[]?={}"))
    table[static_cast<unsigned char>(c)] = false;
  return table;
}();

bool is_token(std::string_view text) {
  if (text.empty())
    return false;
  for (char c : text)
    if (!token_chars[static_cast<unsigned char>(c)])
      return false;
  return true;
}

// Appends the decimal digits of `value`.
template <class Number>
void append_number(std::string& out, Number value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, end);
}

void append_status_line(std::string& out, int status,
                        std::string_view content_type) {
  out += "HTTP/1.1 ";
  append_number(out, status);
  out += ' ';
  out += http_reason(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\n";
}

http_parse_result fail(int status, std::string reason) {
  http_parse_result result;
  result.status = parse_status::failed;
  result.error_status = status;
  result.error_reason = std::move(reason);
  return result;
}

} // namespace

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  return true;
}

bool contains_ignoring_case(std::string_view text, std::string_view word) {
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i)
    if (equal_ignoring_case(text.substr(i, word.size()), word))
      return true;
  return false;
}

std::string_view trim_http_space(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

namespace {

bool query_unescape(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%') {
      if (i + 2 >= text.size())
        return false;
      int high = hex_digit_value(text[i + 1]);
      int low = hex_digit_value(text[i + 2]);
      if (high < 0 || low < 0)
        return false;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return true;
}

} // namespace

bool parse_query(std::string_view query,
                 std::vector<std::pair<std::string, std::string>>& pairs) {
  pairs.clear();
  std::string key;
  std::string value;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    if (pair.find(';') != std::string_view::npos)
      return false;
    if (pair.empty())
      continue;
    auto equals = pair.find('=');
    auto raw_value = equals == std::string_view::npos ? std::string_view{}
                                                      : pair.substr(equals + 1);
    if (!query_unescape(pair.substr(0, equals), key) ||
        !query_unescape(raw_value, value))
      return false;
    pairs.emplace_back(key, value);
  }
  return true;
}

std::optional<std::string> first_query_value(std::string_view query,
                                             std::string_view name,
                                             bool& malformed) {
  std::vector<std::pair<std::string, std::string>> pairs;
  malformed = !parse_query(query, pairs);
  if (malformed)
    return std::nullopt;
  for (auto& [key, value] : pairs)
    if (key == name)
      return std::move(value);
  return std::nullopt;
}

const std::string_view* http_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (equal_ignoring_case(key, name))
      return &value;
  return nullptr;
}

http_parse_result parse_http_request(std::string_view data,
                                     const http_limits& limits,
                                     http_request& out) {
  // Find the end of the header block: an empty line.
  std::size_t header_end = std::string_view::npos;
  std::size_t body_start = 0;
  for (std::size_t i = data.find('\n'); i != std::string_view::npos;
       i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') {
      header_end = i + 1;
      body_start = i + 2;
      break;
    }
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') {
      header_end = i + 1;
      body_start = i + 3;
      break;
    }
  }
  if (header_end == std::string_view::npos) {
    if (data.size() > limits.max_header_bytes)
      return fail(431, "request header too large");
    return {};
  }
  if (header_end > limits.max_header_bytes)
    return fail(431, "request header too large");
  out.headers.clear(); // keeps its room for the next request
  out.query = {};
  out.body = {};
  out.keep_alive = true;
  std::string_view head = data.substr(0, header_end);
  std::size_t line_end = head.find('\n');
  std::string_view request_line = trim_http_space(head.substr(0, line_end));
  auto first_space = request_line.find(' ');
  auto last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space)
    return fail(400, "malformed request line");
  out.method = request_line.substr(0, first_space);
  out.target = trim_http_space(
      request_line.substr(first_space + 1, last_space - first_space - 1));
  auto version = request_line.substr(last_space + 1);
  if (!is_token(out.method))
    return fail(400, "malformed request method");
  if (version == "HTTP/1.1")
    out.minor_version = 1;
  else if (version == "HTTP/1.0")
    out.minor_version = 0;
  else if (version.substr(0, 5) == "HTTP/")
    return fail(505, "HTTP version not supported");
  else
    return fail(400, "malformed request line");
  if (out.target.empty())
    return fail(400, "empty request target");
  auto question = out.target.find('?');
  out.path = out.target.substr(0, question);
  if (question != std::string_view::npos)
    out.query = out.target.substr(question + 1);
  std::size_t pos = line_end + 1;
  while (pos < head.size()) {
    auto next = head.find('\n', pos);
    if (next == std::string_view::npos)
      next = head.size();
    auto line = head.substr(pos, next - pos);
    pos = next + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return fail(400, "malformed header line");
    out.headers.emplace_back(line.substr(0, colon),
                             trim_http_space(line.substr(colon + 1)));
  }
  auto connection = out.header("connection");
  std::string_view connection_value = connection ? *connection : "";
  if (out.minor_version == 0)
    out.keep_alive = contains_ignoring_case(connection_value, "keep-alive");
  else
    out.keep_alive = !contains_ignoring_case(connection_value, "close");
  // Transfer-Encoding as Go's server reads it: ignored in HTTP/1.0; in
  // HTTP/1.1 exactly one field saying "chunked", anything else (several
  // fields, "identity", a list) refused with 501, so no proxy in front can
  // frame the body differently from us (request smuggling). Chunked bodies
  // themselves are not read here: 411, send Content-Length.
  if (out.minor_version >= 1) {
    std::size_t encodings = 0;
    std::string_view encoding;
    for (const auto& [name, value] : out.headers)
      if (equal_ignoring_case(name, "transfer-encoding")) {
        ++encodings;
        encoding = value;
      }
    if (encodings > 1 ||
        (encodings == 1 && !equal_ignoring_case(encoding, "chunked")))
      return fail(501, "Unsupported transfer encoding");
    if (encodings == 1)
      return fail(411, "chunked bodies are not accepted; send Content-Length");
  }
  std::size_t length = 0;
  if (auto value = out.header("content-length")) {
    // Two lengths that disagree leave the body's end to whoever reads
    // the stream (a way to smuggle a request past a proxy): refused, as
    // Go's server does; repeats of one value are taken as that value.
    for (const auto& [name, other] : out.headers)
      if (equal_ignoring_case(name, "content-length") && other != *value)
        return fail(400, "conflicting Content-Length headers");
    if (value->empty() || value->size() > 18 ||
        !std::all_of(value->begin(), value->end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
      return fail(400, "malformed Content-Length");
    for (char c : *value)
      length = length * 10 + static_cast<std::size_t>(c - '0');
    if (length > limits.max_body_bytes)
      return fail(413, "request body larger than " +
                           std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (data.size() - body_start < length)
    return {};
  out.body = data.substr(body_start, length);
  http_parse_result result;
  result.status = parse_status::done;
  result.consumed = body_start + length;
  return result;
}

std::string_view http_reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 411:
    return "Length Required";
  case 413:
    return "Payload Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Unknown";
  }
}

std::string http_response_head(int status, std::string_view content_type,
                               std::size_t content_length, bool close,
                               std::string_view extra_headers) {
  std::string out;
  out.reserve(128);
  append_response_head(out, status, content_type, content_length, close,
                       extra_headers);
  return out;
}

void append_response_head(std::string& out, int status,
                          std::string_view content_type,
                          std::size_t content_length, bool close,
                          std::string_view extra_headers) {
  append_status_line(out, status, content_type);
  out += "Content-Length: ";
  append_number(out, content_length);
  out += "\r\n";
  if (close)
    out += "Connection: close\r\n";
  out += extra_headers;
  out += "\r\n";
}

std::string http_response_head(int status, std::string_view content_type,
                               open_body framing, bool close) {
  std::string out;
  append_status_line(out, status, content_type);
  if (framing == open_body::chunked)
    out += "Transfer-Encoding: chunked\r\n";
  if (close || framing == open_body::until_close)
    out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty())
    return;
  char size[20];
  auto n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
}

} // namespace dm

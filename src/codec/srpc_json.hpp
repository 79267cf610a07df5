// The SRPC JSON coder: Go's json.Encoder writes one value per line and
// json.Decoder reads values from a byte stream. Frames values as they arrive,
// decodes requests and responses, and writes Go's exact text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/machine_record.hpp"

namespace dm {

// Result of feeding bytes to a JSON framer or decoder.
enum class json_status {
  need_more, // the value is not complete yet
  done,      // one complete value was found (and decoded)
  error,     // the bytes are not JSON, or too much of it; error() says why
};

// Finds where one JSON value ends in a byte stream: skips whitespace before
// it, tracks strings, escapes and nesting, and stops at the value's end.
// Bytes are copied as they are scanned, so each byte is looked at once
// however the stream is split. Syntax inside the value is checked only as
// far as framing needs (brackets match, strings close, no stray
// characters); the parser that reads the value checks the rest.
class json_value_framer {
public:
  explicit json_value_framer(std::size_t max_value_bytes = 1 << 20,
                             std::size_t max_depth = 512);

  // Scans `available` (bytes not consumed before); sets `consumed` to the
  // bytes used by this call. On done, the value ends inside `available` and
  // whitespace right after it that is already there is consumed too (Go's
  // encoder ends each value with a newline). A number or literal at the top
  // level ends only at the next byte that cannot belong to it.
  json_status feed(std::string_view available, std::size_t& consumed);

  // The complete value text once done.
  const std::string& value() const { return value_; }
  const std::string& error() const { return error_; }
  void reset();
  // Nothing of a value seen yet (white space before it may have been).
  bool idle() const { return phase_ == phase::before_value; }
  std::size_t max_value_bytes() const { return max_value_bytes_; }
  std::size_t max_depth() const { return max_depth_; }

private:
  enum class phase { before_value, in_value, after_value, finished, failed };
  json_status fail(std::string message);

  std::size_t max_value_bytes_;
  std::size_t max_depth_;
  phase phase_ = phase::before_value;
  std::string value_;
  std::string error_;
  std::vector<char> open_; // closers expected, innermost last
  bool in_string_ = false;
  bool escaped_ = false;
  bool scalar_ = false; // the top-level value is a number or literal
};

// Decodes one SRPC request in the JSON coder: {"MDB": {...}} as Go writes
// it for DisruptionCheckRequest and the like. Go's encoder ends each value
// with a newline, and JSON text holds none inside strings, so when the
// value's first line is all there it is read in place in one pass; only
// when that fails (a value over several lines or several values on one, a
// part still to come, any error) is it framed, copied and read as before,
// which decides the outcome.
class json_request_decoder {
public:
  explicit json_request_decoder(std::size_t max_value_bytes = 1 << 20);

  json_status feed(std::string_view available, std::size_t& consumed);
  const machine_record& machine() const { return machine_; }
  const std::string& error() const { return error_; }
  void reset();

private:
  json_value_framer framer_;
  machine_record machine_;
  std::string error_;
  json_status status_ = json_status::need_more;
};

// Decodes one SRPC response in the JSON coder: {"Error": "...",
// "Response": "permitted"}; the state is written by name only.
class json_response_decoder {
public:
  explicit json_response_decoder(std::size_t max_value_bytes = 1 << 20);

  json_status feed(std::string_view available, std::size_t& consumed);
  const std::string& response_error() const { return response_error_; }
  disruption_state state() const { return state_; }
  const std::string& error() const { return error_; }
  void reset();

private:
  json_value_framer framer_;
  std::string response_error_;
  disruption_state state_ = disruption_state::anytime;
  std::string error_;
  json_status status_ = json_status::need_more;
};

// `text` as a JSON string literal exactly as Go's encoder writes it: quotes
// and backslashes escaped, \n \r \t \b \f short, other control characters
// and <, >, &, U+2028, U+2029 as \u00XX / \u2028, each byte of invalid
// UTF-8 as \ufffd.
std::string go_json_string(std::string_view text);

// Go's json.Encoder text for an SRPC response, newline included:
// {"Error":"","Response":"permitted"}\n
std::string encode_json_response(const std::string& error,
                                 disruption_state state);

// The REST response struct the same way: {"Response":"permitted"}\n
std::string encode_json_rest_response(disruption_state state);

// Go's json.Encoder text for a request {"MDB": machine}, newline included.
// mdb.Machine omits empty fields except Hostname; AwsMetadata, when
// present, writes all its fields (empty Tags as null, as Go writes a nil
// map). With `kind`, the REST body's "Request" field follows.
std::string
encode_json_request(const machine_record& machine,
                    std::optional<request_kind> kind = std::nullopt);

} // namespace dm

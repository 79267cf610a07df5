// Go's encoding/gob for the SRPC values of the DisruptionManager service:
// incremental decoders for one request or response, and encoders that write
// the bytes a fresh Go gob encoder writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/machine_record.hpp"

namespace dm {

// Result of feeding bytes to a decoder.
enum class gob_status {
  need_more, // every complete message was used; more bytes are needed
  done,      // the value message was decoded
  error,     // the stream is unusable; error() says why
};

// Decodes one SRPC request value: a struct with an `MDB` field of Go type
// mdb.Machine (DisruptionCheckRequest, DisruptionRequestRequest,
// DisruptionCancelRequest), optionally with the REST struct's `Request` uint
// field (DisruptionRequest). Fields are matched by name as gob does, so a
// sender with other field orders, extra fields or other type names decodes
// too; a field of an incompatible type is an error.
//
// The stream of one call is type definitions followed by one value message.
// Bytes arrive in pieces: feed() uses whole messages only and reports how
// many bytes it used, so the caller drops those and calls again with more.
// Limits: each message at most `max_message_bytes`, and all type
// definitions of one call together at most that much again.
class gob_request_decoder {
public:
  using status = gob_status;

  explicit gob_request_decoder(std::size_t max_message_bytes = 1 << 20);
  ~gob_request_decoder();
  gob_request_decoder(gob_request_decoder&&) noexcept;
  gob_request_decoder& operator=(gob_request_decoder&&) noexcept;

  // Uses complete messages at the front of `available`; sets `consumed` to
  // the bytes used by this call. Never reads past the value message, so bytes
  // of whatever follows on the connection stay with the caller. After done
  // or error, further calls consume nothing and repeat the status.
  status feed(std::string_view available, std::size_t& consumed);

  // The decoded record; meaningful after done.
  const machine_record& machine() const;
  // The `Request` field of a DisruptionRequest, when the sender's struct has
  // that field (gob omits a zero value, so a present field may read 0).
  std::optional<std::uint64_t> request_field() const;
  // The sender's name for the value's type ("DisruptionCheckRequest").
  const std::string& type_name() const;
  // Why decoding failed ("gob: ...").
  const std::string& error() const;

  // Starts a fresh call: type ids restart, as SRPC uses a new decoder per call.
  void reset();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Decodes one SRPC response value {Error string; Response DisruptionState}
// (also the REST DisruptionResponse, which has only Response), with the same
// feeding contract as gob_request_decoder.
class gob_response_decoder {
public:
  using status = gob_status;

  explicit gob_response_decoder(std::size_t max_message_bytes = 1 << 20);
  ~gob_response_decoder();
  gob_response_decoder(gob_response_decoder&&) noexcept;
  gob_response_decoder& operator=(gob_response_decoder&&) noexcept;

  status feed(std::string_view available, std::size_t& consumed);

  // The response's Error field; empty on success.
  const std::string& response_error() const;
  // The response's state; anytime when the sender left it at zero.
  disruption_state state() const;
  const std::string& type_name() const;
  const std::string& error() const;
  void reset();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The values of lib/srpc's builtin .LocalUpgradeToUnix call, all read into
// one struct by field name (gob matches by name): the client's
// localUpgradeToUnixRequestOne {ClientCookie []byte} and ...RequestTwo
// {SentServerCookie bool}, the server's ...ResponseOne {Error string;
// ServerCookie []byte; SocketPathname string} and ...ResponseTwo {Error
// string}.
struct unix_upgrade_value {
  std::string client_cookie;
  bool sent_server_cookie = false;
  std::string error;
  std::string server_cookie;
  std::string socket_pathname;
};

// Decodes the values of one .LocalUpgradeToUnix call, with the feeding
// contract of gob_request_decoder. The call's values share one gob stream:
// next_value() readies the decoder for the next one, keeping the types.
class gob_upgrade_decoder {
public:
  explicit gob_upgrade_decoder(std::size_t max_message_bytes = 4096);
  ~gob_upgrade_decoder();
  gob_upgrade_decoder(gob_upgrade_decoder&&) noexcept;
  gob_upgrade_decoder& operator=(gob_upgrade_decoder&&) noexcept;

  gob_status feed(std::string_view available, std::size_t& consumed);
  const unix_upgrade_value& value() const;
  const std::string& error() const;
  void next_value();
  void reset(); // a fresh call

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// What a Go gob encoder writes for those values. The two values of one side
// share the call's fresh encoder: the first type gets id 65, the second 66.
std::string encode_gob_upgrade_request_one(std::string_view client_cookie);
std::string encode_gob_upgrade_request_two(bool sent_server_cookie);
std::string encode_gob_upgrade_response_one(const std::string& error,
                                            std::string_view server_cookie,
                                            const std::string& socket_pathname);
std::string encode_gob_upgrade_response_two(const std::string& error);

// What a fresh Go gob encoder writes for a response struct
// {Error string; Response sub.DisruptionState} named `type_name`
// ("DisruptionCheckResponse"): its type definition, then the value.
// `first_type_id` is the id Go gives the struct: 65 in a fresh process;
// vectors written by a process that encoded other types first have others.
std::string encode_gob_response(std::string_view type_name,
                                const std::string& error,
                                disruption_state state, int first_type_id = 65);

// The REST response struct DisruptionResponse {Response sub.DisruptionState}.
std::string encode_gob_rest_response(disruption_state state,
                                     int first_type_id = 65);

// What a fresh Go gob encoder writes for a request struct {MDB mdb.Machine}
// named `type_name` ("DisruptionCheckRequest"), in a process where the
// request struct gets `first_type_id` and Machine, []string, tags.Tags and
// AwsMetadata the four ids after it (the order Go assigns them in).
std::string encode_gob_request(std::string_view type_name,
                               const machine_record& machine,
                               int first_type_id = 65);

// As above with every choice open: `machine_type_id` is the first of the
// four consecutive ids of Machine, []string, tags.Tags and AwsMetadata (a Go
// process that sent another request type before keeps the ids it gave
// them), and `request_field` adds DisruptionRequest's `Request` field.
std::string encode_gob_request(std::string_view type_name,
                               const machine_record& machine,
                               int request_type_id, int machine_type_id,
                               std::optional<std::uint64_t> request_field);

} // namespace dm

// SRPC after a successful CONNECT: "Service.Method\n" lines, the empty-line
// ping, one request value per call in the connection's coder (gob or JSON),
// and "\n" plus one response value back, as Dominator's lib/srpc does.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "codec/gob.hpp"
#include "codec/srpc_json.hpp"
#include "model/machine_record.hpp"
#include "frontend/admission.hpp"
#include "frontend/channel.hpp"

namespace dm {

enum class srpc_coder { gob, json };

// The CONNECT paths and what they ask for.
struct srpc_path {
  srpc_coder coder = srpc_coder::gob;
  bool tls = false;
};
std::optional<srpc_path> parse_srpc_path(std::string_view path);

class unix_upgrade_listener;

class srpc_protocol final : public protocol {
public:
  // `powers_allowed` is false when the client asked doNotUseMethodPowers.
  // `unix_listener` (null: none) serves .LocalUpgradeToUnix.
  srpc_protocol(srpc_coder coder, bool powers_allowed,
                std::size_t max_value_bytes = 1 << 20,
                std::shared_ptr<unix_upgrade_listener> unix_listener = nullptr);
  ~srpc_protocol() override;

  void on_input(channel& ch) override;
  void on_call_result(channel& ch, call_result result) override;
  void on_resolved(channel& ch, std::vector<std::string> addresses,
                   std::string error) override;
  // A method line or a request value read in part (each its own deadline).
  std::uint64_t unfinished_unit(const channel& ch) const override;

private:
  enum class phase {
    method_line,
    request_value,
    answering,
    upgrade_one, // .LocalUpgradeToUnix: the client cookie comes
    upgrade_two, // ... then whether the client sent the server cookie
  };

  bool read_method_line(channel& ch);
  bool read_request_value(channel& ch);
  bool read_upgrade_value(channel& ch);
  // A value that could not be decoded: says why and closes (true), or
  // nothing when `error` is empty (false).
  bool refused_value(channel& ch, const std::string& error);
  void on_upgrade_value(channel& ch, const unix_upgrade_value& value);
  void dispatch(channel& ch, const machine_record& machine);
  void respond(channel& ch, const std::string& error, disruption_state state);

  srpc_coder coder_;
  bool powers_allowed_;
  phase phase_ = phase::method_line;
  request_kind kind_ = request_kind::check;
  gob_request_decoder gob_;
  json_request_decoder json_;
  admission admission_;
  std::uint64_t units_ = 0;    // lines and values read
  bool value_started_ = false; // bytes of the request value have come
  // Go's JSON encoder ends a value with "\n" that its decoder swallows; it
  // may arrive after the value, and is no ping.
  bool skip_newline_ = false;
  std::chrono::steady_clock::time_point call_started_;
  std::shared_ptr<unix_upgrade_listener> unix_listener_;
  gob_upgrade_decoder upgrade_gob_;
  std::string client_cookie_;
  std::string server_cookie_;
};

} // namespace dm

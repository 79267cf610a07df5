// SRPC call handling for the DisruptionManager service.
#include "srpc/srpc_protocol.hpp"

#include <vector>

#include "frontend/call_builder.hpp"
#include "metrics/service_metrics.hpp"
#include "tls/peer_identity.hpp"

namespace dm {

namespace {

constexpr std::size_t max_method_line = 4096;

std::string trim_space(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n\v\f");
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(" \t\r\n\v\f");
  return std::string(text.substr(first, last - first + 1));
}

std::string_view response_type(request_kind kind) {
  switch (kind) {
  case request_kind::check:
    return "DisruptionCheckResponse";
  case request_kind::request:
    return "DisruptionRequestResponse";
  case request_kind::cancel:
    return "DisruptionCancelResponse";
  }
  return "";
}

// An answer without an error is one of 24 fixed byte strings (coder, kind,
// state), each what a fresh Go encoder writes: made once, then copied.
const std::string& plain_answer(srpc_coder coder, request_kind kind,
                                disruption_state state) {
  constexpr std::size_t kinds = 3, states = 4;
  static const auto table = [] {
    std::vector<std::string> answers(2 * kinds * states);
    const std::string no_error;
    for (std::size_t k = 0; k < kinds; ++k)
      for (std::size_t st = 0; st < states; ++st) {
        auto state_k = static_cast<disruption_state>(st);
        answers[k * states + st] = encode_gob_response(
            response_type(static_cast<request_kind>(k)), no_error, state_k);
        answers[(kinds + k) * states + st] =
            encode_json_response(no_error, state_k);
      }
    return answers;
  }();
  std::size_t row =
      static_cast<std::size_t>(kind) + (coder == srpc_coder::json ? kinds : 0);
  return table[row * states + static_cast<std::size_t>(state)];
}

} // namespace

std::optional<srpc_path> parse_srpc_path(std::string_view path) {
  if (path == "/_goSRPC_/")
    return srpc_path{srpc_coder::gob, false};
  if (path == "/_go_TLS_SRPC_/")
    return srpc_path{srpc_coder::gob, true};
  if (path == "/_SRPC_/unsecured/JSON")
    return srpc_path{srpc_coder::json, false};
  if (path == "/_SRPC_/TLS/JSON")
    return srpc_path{srpc_coder::json, true};
  return std::nullopt;
}

srpc_protocol::srpc_protocol(srpc_coder coder, bool powers_allowed,
                             std::size_t max_value_bytes)
    : coder_(coder), powers_allowed_(powers_allowed), gob_(max_value_bytes),
      json_(max_value_bytes) {
  // nop
}

void srpc_protocol::on_input(connection& conn) {
  if (conn.input.empty())
    return; // Under TLS: nothing until the handshake is done.
  if (conn.encrypted && (!conn.identity || !conn.identity->verified)) {
    // TLS began after the CONNECT reply, so the certificate is judged only
    // now; the original's handshake fails here, so the connection ends.
    conn.input.clear();
    conn.send("client certificate not from a trusted CA\n");
    conn.close_after_send();
    return;
  }
  while (!conn.busy && !conn.close_when_flushed) {
    bool progressed = phase_ == phase::method_line ? read_method_line(conn)
                                                   : read_request_value(conn);
    if (!progressed)
      return;
  }
}

bool srpc_protocol::read_method_line(connection& conn) {
  if (skip_newline_ && !conn.input.empty()) {
    skip_newline_ = false;
    if (conn.input.front() == '\n')
      conn.input.erase(0, 1);
  }
  auto newline = conn.input.find('\n');
  if (newline == std::string::npos) {
    if (conn.input.size() > max_method_line) {
      conn.send("malformed Service.Method: line too long\n");
      conn.close_after_send();
    }
    return false;
  }
  auto line = trim_space(std::string_view(conn.input).substr(0, newline));
  conn.input.erase(0, newline + 1);
  if (line.empty()) {
    conn.send("\n"); // ping
    return true;
  }
  auto dot = line.find('.');
  if (dot == std::string::npos ||
      line.find('.', dot + 1) != std::string::npos) {
    conn.send("malformed Service.Method: " + line + "\n");
    return true;
  }
  auto service = line.substr(0, dot);
  auto method = line.substr(dot + 1);
  if (service != "DisruptionManager") {
    conn.send("unknown service: " + service + "\n");
    return true;
  }
  if (method == "Check")
    kind_ = request_kind::check;
  else if (method == "Request")
    kind_ = request_kind::request;
  else if (method == "Cancel")
    kind_ = request_kind::cancel;
  else {
    conn.send(service + ": unknown method: " + method + "\n");
    return true;
  }
  // Check, Request and Cancel are public methods: any caller may call.
  conn.send("\n");
  if (coder_ == srpc_coder::gob)
    gob_.reset();
  else
    json_.reset();
  phase_ = phase::request_value;
  return true;
}

bool srpc_protocol::read_request_value(connection& conn) {
  std::size_t consumed = 0;
  bool done = false;
  std::string error;
  if (coder_ == srpc_coder::gob) {
    auto status = gob_.feed(conn.input, consumed);
    done = status == gob_status::done;
    if (status == gob_status::error)
      error = gob_.error();
  } else {
    auto status = json_.feed(conn.input, consumed);
    done = status == json_status::done;
    if (status == json_status::error)
      error = json_.error();
  }
  bool newline_taken = consumed > 0 && conn.input[consumed - 1] == '\n';
  conn.input.erase(0, consumed);
  if (!error.empty()) {
    // As the original: the decode error's text, then the connection closes.
    conn.send(error + "\n");
    conn.close_after_send();
    return false;
  }
  if (!done)
    return false;
  phase_ = phase::answering;
  skip_newline_ = coder_ == srpc_coder::json && !newline_taken;
  dispatch(conn, coder_ == srpc_coder::gob ? gob_.machine() : json_.machine());
  return true;
}

void srpc_protocol::dispatch(connection& conn, const machine_record& machine) {
  call_started_ = std::chrono::steady_clock::now();
  if (machine.hostname.empty()) {
    respond(conn, "MDB.Hostname is required", disruption_state::anytime);
    return;
  }
  auto call = make_disruption_call(kind_, machine);
  auto text_error = call_text_error(call);
  if (!text_error.empty()) {
    respond(conn, text_error, disruption_state::anytime);
    return;
  }
  bool power = powers_allowed_ && conn.identity &&
               conn.identity->has_method_power(method_name(kind_));
  switch (check_access(kind_, conn.peer_address, call.host, power)) {
  case access_verdict::allowed:
    conn.loop->submit_call(conn, std::move(call));
    return;
  case access_verdict::denied:
    ++service_metrics::instance().access_refused;
    respond(conn, not_permitted_text(call.host), disruption_state::anytime);
    return;
  case access_verdict::needs_lookup:
    pending_call_ = std::move(call);
    conn.loop->resolve(conn, pending_call_->host);
    return;
  }
}

void srpc_protocol::on_resolved(connection& conn,
                                std::vector<std::string> addresses,
                                std::string error) {
  auto call = std::move(*pending_call_);
  pending_call_.reset();
  auto refusal =
      refusal_after_lookup(conn.peer_address, call.host, addresses, error);
  if (!refusal.empty()) {
    ++service_metrics::instance().access_refused;
    respond(conn, refusal, disruption_state::anytime);
    return;
  }
  conn.loop->submit_call(conn, std::move(call));
}

void srpc_protocol::on_call_result(connection& conn, call_result result) {
  service_metrics::instance().count_call(
      front_end::srpc, kind_, result.state, !result.error.empty(),
      std::chrono::steady_clock::now() - call_started_);
  respond(conn, result.error,
          result.error.empty() ? result.state : disruption_state::anytime);
}

void srpc_protocol::respond(connection& conn, const std::string& error,
                            disruption_state state) {
  conn.send("\n");
  // (A state outside the enumeration, which no group gives, is encoded as
  // before rather than looked up past the table.)
  if (error.empty() && state <= disruption_state::denied)
    conn.send(plain_answer(coder_, kind_, state));
  else if (coder_ == srpc_coder::gob)
    conn.send(encode_gob_response(response_type(kind_), error, state));
  else
    conn.send(encode_json_response(error, state));
  phase_ = phase::method_line;
}

} // namespace dm

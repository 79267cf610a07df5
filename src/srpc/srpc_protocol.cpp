// SRPC call handling for the DisruptionManager service.
#include "srpc/srpc_protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "metrics/service_metrics.hpp"
#include "srpc/local_upgrade.hpp"
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

srpc_protocol::srpc_protocol(
    srpc_coder coder, bool powers_allowed, std::size_t max_value_bytes,
    std::shared_ptr<unix_upgrade_listener> unix_listener)
    : coder_(coder), powers_allowed_(powers_allowed), gob_(max_value_bytes),
      json_(max_value_bytes), unix_listener_(std::move(unix_listener)) {
  // nop
}

srpc_protocol::~srpc_protocol() = default;

void srpc_protocol::on_input(channel& ch) {
  if (ch.input().empty())
    return; // Under TLS: nothing until the handshake is done.
  if (ch.encrypted() && (!ch.identity() || !ch.identity()->verified)) {
    // TLS began after the CONNECT reply, so the certificate is judged only
    // now; the original's handshake fails here, so the connection ends.
    ch.input().clear();
    ch.send("client certificate not from a trusted CA\n");
    ch.close_after_send();
    return;
  }
  while (ch.ready()) {
    bool progressed = phase_ == phase::method_line     ? read_method_line(ch)
                      : phase_ == phase::request_value ? read_request_value(ch)
                                                       : read_upgrade_value(ch);
    if (!progressed)
      return;
  }
}

bool srpc_protocol::read_method_line(channel& ch) {
  if (skip_newline_ && !ch.input().empty()) {
    skip_newline_ = false;
    if (ch.input().front() == '\n')
      ch.input().erase(0, 1);
  }
  auto newline = ch.input().find('\n');
  if (newline == std::string::npos) {
    if (ch.input().size() > max_method_line) {
      ch.send("malformed Service.Method: line too long\n");
      ch.close_after_send();
    }
    return false;
  }
  auto line = trim_space(std::string_view(ch.input()).substr(0, newline));
  ch.input().erase(0, newline + 1);
  ++units_;
  if (line.empty()) {
    ch.send("\n"); // ping
    return true;
  }
  auto dot = line.find('.');
  if (dot == std::string::npos ||
      line.find('.', dot + 1) != std::string::npos) {
    ch.send("malformed Service.Method: " + line + "\n");
    return true;
  }
  auto service = line.substr(0, dot);
  auto method = line.substr(dot + 1);
  if (service.empty()) {
    // lib/srpc's builtin receiver. Its one method is granted to every
    // caller that uses method powers, so not under doNotUseMethodPowers.
    if (method != "LocalUpgradeToUnix") {
      ch.send(": unknown method: " + method + "\n");
      return true;
    }
    if (!powers_allowed_) {
      ch.send("access to method denied\n");
      return true;
    }
    ch.send("\n");
    upgrade_gob_.reset();
    phase_ = phase::upgrade_one;
    value_started_ = false;
    return true;
  }
  if (service != "DisruptionManager") {
    ch.send("unknown service: " + service + "\n");
    return true;
  }
  if (method == "Check")
    kind_ = request_kind::check;
  else if (method == "Request")
    kind_ = request_kind::request;
  else if (method == "Cancel")
    kind_ = request_kind::cancel;
  else {
    ch.send(service + ": unknown method: " + method + "\n");
    return true;
  }
  // Check, Request and Cancel are public methods: any caller may call.
  ch.send("\n");
  if (coder_ == srpc_coder::gob)
    gob_.reset();
  else
    json_.reset();
  phase_ = phase::request_value;
  value_started_ = false;
  return true;
}

bool srpc_protocol::read_request_value(channel& ch) {
  if (!ch.input().empty())
    value_started_ = true;
  std::size_t consumed = 0;
  bool done = false;
  std::string error;
  if (coder_ == srpc_coder::gob) {
    auto status = gob_.feed(ch.input(), consumed);
    done = status == gob_status::done;
    if (status == gob_status::error)
      error = gob_.error();
  } else {
    auto status = json_.feed(ch.input(), consumed);
    done = status == json_status::done;
    if (status == json_status::error)
      error = json_.error();
  }
  bool newline_taken = consumed > 0 && ch.input()[consumed - 1] == '\n';
  ch.input().erase(0, consumed);
  if (refused_value(ch, error) || !done)
    return false;
  phase_ = phase::answering;
  ++units_;
  skip_newline_ = coder_ == srpc_coder::json && !newline_taken;
  dispatch(ch, coder_ == srpc_coder::gob ? gob_.machine() : json_.machine());
  return true;
}

bool srpc_protocol::refused_value(channel& ch, const std::string& error) {
  if (error.empty())
    return false;
  // As the original: the decode error's text, then the connection closes.
  ch.send(error + "\n");
  ch.close_after_send();
  return true;
}

bool srpc_protocol::read_upgrade_value(channel& ch) {
  if (!ch.input().empty())
    value_started_ = true;
  std::size_t consumed = 0;
  std::string error;
  unix_upgrade_value value;
  bool done = false;
  if (coder_ == srpc_coder::gob) {
    auto status = upgrade_gob_.feed(ch.input(), consumed);
    done = status == gob_status::done;
    if (done)
      value = upgrade_gob_.value();
    if (status == gob_status::error)
      error = upgrade_gob_.error();
  } else {
    auto status = decode_json_upgrade(ch.input(), consumed, value, error);
    done = status == upgrade_json_status::done;
  }
  ch.input().erase(0, consumed);
  if (refused_value(ch, error) || !done)
    return false;
  ++units_;
  value_started_ = false;
  upgrade_gob_.next_value();
  on_upgrade_value(ch, value);
  return true;
}

// lib/srpc's LocalUpgradeToUnix, step by step: a server cookie and the
// socket's name for the client cookie; then, if the client says it sent
// the server cookie on the socket, the connection that did moves in.
void srpc_protocol::on_upgrade_value(channel& ch,
                                     const unix_upgrade_value& value) {
  bool gob = coder_ == srpc_coder::gob;
  if (phase_ == phase::upgrade_one) {
    phase_ = phase::method_line;
    std::string refusal;
    server_cookie_.assign(unix_cookie_bytes, '\0');
    if (!unix_listener_)
      refusal = "no socket";
    else if (value.client_cookie.size() > max_client_cookie_bytes)
      refusal = "client cookie longer than " +
                std::to_string(max_client_cookie_bytes) + " bytes";
    else if (RAND_bytes(reinterpret_cast<unsigned char*>(server_cookie_.data()),
                        static_cast<int>(server_cookie_.size())) != 1)
      refusal = "no random bytes";
    if (!refusal.empty()) {
      ch.send(gob ? encode_gob_upgrade_response_one(refusal, "", "")
                  : encode_json_upgrade_response_one(refusal, "", ""));
      return;
    }
    client_cookie_ = value.client_cookie;
    const auto& name = unix_listener_->name();
    ch.send(gob ? encode_gob_upgrade_response_one("", server_cookie_, name)
                : encode_json_upgrade_response_one("", server_cookie_, name));
    phase_ = phase::upgrade_two;
    return;
  }
  phase_ = phase::method_line;
  if (!value.sent_server_cookie)
    return; // the client could not use the socket: the call ends here
  int fd = unix_listener_->take(server_cookie_);
  if (fd < 0) {
    ch.send(gob ? encode_gob_upgrade_response_two("cookie not found")
                : encode_json_upgrade_response_two("cookie not found"));
    return;
  }
  ch.send(gob ? encode_gob_upgrade_response_two("")
              : encode_json_upgrade_response_two(""));
  // The client reads its cookie on the Unix socket once it has the answer
  // above; a fresh socket takes 8 bytes at once.
  auto sent = ::send(fd, client_cookie_.data(), client_cookie_.size(),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != static_cast<ssize_t>(client_cookie_.size())) {
    ::close(fd);
    ch.close_after_send();
    return;
  }
  spdlog::debug("upgraded connection from {} to Unix", ch.peer_address());
  ch.move_to_socket(fd);
}

void srpc_protocol::dispatch(channel& ch, const machine_record& machine) {
  call_started_ = std::chrono::steady_clock::now();
  bool power = powers_allowed_ && has_method_power(ch.identity(), kind_);
  if (auto refused =
          admission_.admit(ch, kind_, machine, ch.peer_address(), power))
    respond(ch, refused->reason, disruption_state::anytime);
}

void srpc_protocol::on_resolved(channel& ch, std::vector<std::string> addresses,
                                std::string error) {
  if (auto refused = admission_.resolved(ch, addresses, error))
    respond(ch, refused->reason, disruption_state::anytime);
}

std::uint64_t srpc_protocol::unfinished_unit(const channel& ch) const {
  if (phase_ == phase::method_line)
    return ch.input().empty() ? 0 : units_ << 2 | 1;
  if ((phase_ == phase::request_value || phase_ == phase::upgrade_one ||
       phase_ == phase::upgrade_two) &&
      value_started_)
    return units_ << 2 | 2;
  return 0;
}

void srpc_protocol::on_call_result(channel& ch, call_result result) {
  service_metrics::instance().count_call(
      front_end::srpc, kind_, result.state, !result.error.empty(),
      std::chrono::steady_clock::now() - call_started_);
  respond(ch, result.error,
          result.error.empty() ? result.state : disruption_state::anytime);
}

void srpc_protocol::respond(channel& ch, const std::string& error,
                            disruption_state state) {
  ch.send("\n");
  // (A state outside the enumeration, which no group gives, is encoded as
  // before rather than looked up past the table.)
  if (error.empty() && state <= disruption_state::denied)
    ch.send(plain_answer(coder_, kind_, state));
  else if (coder_ == srpc_coder::gob)
    ch.send(encode_gob_response(response_type(kind_), error, state));
  else
    ch.send(encode_json_response(error, state));
  phase_ = phase::method_line;
}

} // namespace dm

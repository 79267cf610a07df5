// HTTP routing and the REST semantics of the original (status codes and
// texts), plus 413/431/411 limits of our own.
#include "http/http_protocol.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "codec/machine_json.hpp"
#include "frontend/forwarded_call.hpp"
#include "metrics/service_metrics.hpp"
#include "frontend/admin_request.hpp"
#include "srpc/srpc_protocol.hpp"
#include "web/admin_view.hpp"
#include "web/pages.hpp"

namespace dm {

namespace {

constexpr std::string_view text_plain = "text/plain; charset=utf-8";
constexpr std::string_view text_html = "text/html; charset=utf-8";
constexpr std::string_view application_json = "application/json";
constexpr std::string_view nosniff = "X-Content-Type-Options: nosniff\r\n";

// The original's answer, indented as Go's encoder does; made once per state
// (the last entry for a value outside the enumeration).
std::string_view response_body(disruption_state state) {
  static const auto bodies = [] {
    std::array<std::string, 5> made;
    for (std::size_t i = 0; i < made.size(); ++i)
      made[i] = "{\n    \"Response\": \"" +
                std::string(to_string(static_cast<disruption_state>(i))) +
                "\"\n}\n";
    return made;
  }();
  return bodies[std::min<std::size_t>(static_cast<std::size_t>(state), 4)];
}

// What /metrics shows of the state.
state_figures figures_of(const state_view& view) {
  state_figures figures;
  figures.groups.reserve(view.groups.size());
  for (const auto& g : view.groups) {
    figures.permitted += g.permitted;
    figures.requested += g.queued;
    figures.waiting += g.waiting;
    figures.groups.push_back({g.identifier, g.permitted + g.waiting, g.limit,
                              g.windows.empty()           ? -1
                              : g.controls.outside_window ? 0
                                                          : 1});
  }
  figures.blocking_alerts = view.alerts.alerts;
  return figures;
}

} // namespace

http_protocol::http_protocol(std::shared_ptr<const web_context> ctx)
    : ctx_(std::move(ctx)) {
  // nop
}

void http_protocol::reply(channel& ch, int status,
                          std::string_view content_type, std::string_view body,
                          std::string_view extra_headers) {
  service_metrics::instance().count_http_status(status);
  append_response_head(ch.output(), status, content_type, body.size(),
                       !keep_alive_, extra_headers);
  if (!head_only_)
    ch.send(body);
  if (!keep_alive_)
    ch.close_after_send();
}

void http_protocol::reply_error(channel& ch, int status,
                                std::string_view reason) {
  service_metrics::instance().count_http_status(status);
  append_response_head(ch.output(), status, text_plain, reason.size() + 1,
                       !keep_alive_, nosniff);
  if (!head_only_) {
    ch.send(reason);
    ch.send("\n");
  }
  if (!keep_alive_)
    ch.close_after_send();
}

void http_protocol::reply_in_pieces(channel& ch, std::string_view content_type,
                                    std::unique_ptr<page_writer> page) {
  std::string first;
  if (!page->next(first, body_piece_bytes)) {
    reply(ch, 200, content_type, first);
    return;
  }
  // Too long to hold whole: the rest is written as the client reads. Without
  // chunks (HTTP/1.0) only closing the connection can end the body.
  bool chunked = !http_1_0_;
  if (!chunked)
    keep_alive_ = false;
  service_metrics::instance().count_http_status(200);
  ch.send(http_response_head(
      200, content_type, chunked ? open_body::chunked : open_body::until_close,
      !keep_alive_));
  if (!keep_alive_)
    ch.close_after_send();
  if (head_only_)
    return;
  if (chunked)
    append_chunk(ch.output(), first);
  else
    ch.send(first);
  ch.send_produced([page = std::shared_ptr<page_writer>(std::move(page)),
                    chunked, piece = std::string()](std::string& out) mutable {
    if (!chunked)
      return page->next(out, body_piece_bytes);
    piece.clear();
    bool more = page->next(piece, body_piece_bytes);
    append_chunk(out, piece);
    if (!more)
      out += last_chunk;
    return more;
  });
}

void http_protocol::on_input(channel& ch) {
  // After CONNECT, what follows belongs to the protocol switched to.
  auto& input = ch.input();
  while (ch.ready() && !input.empty()) {
    auto parsed = parse_http_request(input, ctx_->limits, request_);
    if (parsed.status == parse_status::need_more) {
      // (Bare "\n" line ends are accepted, as the parser does.)
      partial_body_ = input.find("\n\r\n") != std::string::npos ||
                      input.find("\n\n") != std::string::npos;
      return;
    }
    if (parsed.status == parse_status::failed) {
      keep_alive_ = false;
      head_only_ = false;
      input.clear();
      reply_error(ch, parsed.error_status, parsed.error_reason);
      // The rest of this request (a body over the limit, say) will not be
      // read: the connection closes lingering, so the answer arrives.
      ch.close_after_send_lingering();
      return;
    }
    keep_alive_ = request_.keep_alive;
    head_only_ = request_.method == "HEAD";
    http_1_0_ = request_.minor_version == 0;
    ++requests_;
    partial_body_ = false;
    handle(ch, request_);
    // The request's fields are views of the input: consumed only now.
    input.erase(0, parsed.consumed);
  }
}

std::uint64_t http_protocol::unfinished_unit(const channel& ch) const {
  if (ch.input().empty())
    return 0;
  return requests_ << 2 | (partial_body_ ? 2 : 1);
}

void http_protocol::handle(channel& ch, const http_request& request) {
  const auto& path = request.path;
  bool get = request.method == "GET" || request.method == "HEAD";
  if (request.method == "CONNECT") {
    // What follows a CONNECT is not meant as HTTP: the connection ends
    // after any answer but the switch. The REST path answers 405 to it,
    // as to any method but POST.
    if (path == "/api/v1/request") {
      keep_alive_ = false;
      handle_api_request(ch, request);
      return;
    }
    handle_connect(ch, request);
    return;
  }
  if (path == "/api/v1/request") {
    handle_api_request(ch, request);
    return;
  }
  if (path == forwarded_call_path && !ctx_->replica_secret.empty()) {
    handle_forwarded_call(ch, request);
    return;
  }
  if (path == forwarded_admin_path && !ctx_->replica_secret.empty()) {
    handle_forwarded_admin(ch, request);
    return;
  }
  if (path == leader_revision_path && !ctx_->replica_secret.empty()) {
    handle_leader_revision(ch, request);
    return;
  }
  if (ctx_->fleetlock)
    if (auto op = fleetlock_route(*ctx_->fleetlock, path)) {
      handle_fleetlock(ch, request, *op);
      return;
    }
  if (path.substr(0, admin_path_prefix.size()) == admin_path_prefix) {
    handle_admin(ch, request);
    return;
  }
  if (path == "/" || path == "/showState" || path == "/api/v1/state" ||
      path == "/metrics") {
    if (!get) {
      reply_error(ch, 405, "unsupported method");
      return;
    }
    // The status page and the metrics need the counts alone.
    auto scope =
        path == "/" || path == "/metrics" ? summary_scope() : gather_scope{};
    if (path == "/showState") {
      std::string error;
      auto query = parse_dashboard_query(request.query, error);
      if (!query) {
        reply_error(ch, 400, error);
        return;
      }
      dashboard_ = std::move(*query);
      scope = dashboard_scope(dashboard_);
    }
    waiting_ = path == "/"            ? waiting_for::status_page
               : path == "/showState" ? waiting_for::dashboard
               : path == "/metrics"   ? waiting_for::metrics
                                      : waiting_for::state;
    ch.request_snapshot(std::move(scope));
    return;
  }
  if (path == "/healthz") {
    auto& metrics = service_metrics::instance();
    if (ctx_->role) {
      // A replica: healthy while it leads and saves, or follows a leader.
      auto role = ctx_->role();
      if (!role.leader) {
        if (role.leader_address.empty())
          reply_error(ch, 503, "no leader elected yet");
        else
          reply(ch, 200, text_plain,
                "ok, follower of " + role.leader_address + "\n");
        return;
      }
    }
    if (metrics.storage_failing)
      reply_error(ch, 503, "state cannot be saved");
    else if (metrics.compaction_failing)
      // Every change is still saved (in the journal): up, but degraded.
      reply(ch, 200, text_plain,
            "ok, degraded: state compaction failing (" +
                std::to_string(metrics.compaction_failures.load()) +
                " failures; next attempt within " +
                std::to_string((metrics.compaction_backoff_ms.load() + 999) /
                               1000) +
                " s); the journal grows until one succeeds\n");
    else
      reply(ch, 200, text_plain, "ok\n");
    return;
  }
  if (path == "/logs") {
    // Names in log lines come from clients: never sniffed as markup.
    reply(ch, 200, text_plain, ctx_->logs_text ? ctx_->logs_text() : "",
          nosniff);
    return;
  }
  reply_error(ch, 404, "404 page not found");
}

void http_protocol::handle_api_request(channel& ch,
                                       const http_request& request) {
  if (request.method != "POST") {
    reply_error(ch, 405, "unsupported method");
    return;
  }
  std::string error;
  auto decoded = parse_request_body(request.body, true, error);
  if (!decoded) {
    reply_error(ch, 400, error);
    return;
  }
  auto kind = *decoded->kind;
  call_kind_ = kind;
  call_started_ = std::chrono::steady_clock::now();
  waiting_ = waiting_for::call;
  if (auto refused =
          admission_.admit(ch, kind, decoded->machine, ch.peer_address(),
                           has_method_power(ch.identity(), kind)))
    refuse(ch, *refused);
}

bool http_protocol::from_replica(channel& ch, const http_request& request) {
  if (request.method != "POST") {
    reply_error(ch, 405, "unsupported method");
    return false;
  }
  const auto* time = request.header(replica_time_header);
  const auto* nonce = request.header(replica_nonce_header);
  const auto* to = request.header(replica_to_header);
  const auto* signature = request.header(replica_signature_header);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  replica_stamp stamp;
  if (time && nonce && to) {
    stamp.time = std::string(*time);
    stamp.nonce = std::string(*nonce);
    stamp.to = std::string(*to);
  }
  if (!time || !nonce || !to || !signature ||
      !replica_signature_valid(ctx_->replica_secret, stamp, request.body,
                               *signature, now)) {
    reply_error(ch, 403, "only a replica may forward calls");
    return false;
  }
  // Signed, but perhaps captured and sent again: meant for this replica,
  // and new (docs/architecture.md, "Forwarding").
  auto self = ctx_->role ? ctx_->role().self : std::string();
  if (stamp.to != self) {
    reply_error(ch, 403,
                "a replica's message meant for " + stamp.to + ", not for " +
                    self);
    return false;
  }
  std::string why;
  if (ctx_->replay &&
      !ctx_->replay->admit(stamp.nonce, std::stoll(stamp.time), now, why)) {
    reply_error(ch, 403, why);
    return false;
  }
  return true;
}

void http_protocol::handle_forwarded_admin(channel& ch,
                                           const http_request& request) {
  if (!from_replica(ch, request))
    return;
  admin_command cmd;
  std::string error;
  if (!decode_forwarded_admin(request.body, cmd, error)) {
    reply_error(ch, 400, error);
    return;
  }
  // Access was decided where the operator connected.
  admin_op_ = cmd.operation;
  waiting_ = waiting_for::admin;
  ch.submit_admin(std::move(cmd));
}

void http_protocol::handle_leader_revision(channel& ch,
                                           const http_request& request) {
  if (!from_replica(ch, request))
    return;
  auto revision =
      ctx_->leader_revision ? ctx_->leader_revision() : std::nullopt;
  if (!revision) {
    reply_error(ch, 503, "this replica does not lead");
    return;
  }
  reply(ch, 200, application_json, encode_leader_revision(*revision));
}

void http_protocol::handle_forwarded_call(channel& ch,
                                          const http_request& request) {
  if (!from_replica(ch, request))
    return;
  disruption_call call;
  std::string error;
  if (!decode_forwarded_call(request.body, call, error)) {
    reply_error(ch, 400, error);
    return;
  }
  ++service_metrics::instance().forwarded_calls_taken;
  call_kind_ = call.kind;
  call_started_ = std::chrono::steady_clock::now();
  waiting_ = waiting_for::forwarded_call;
  if (auto refused = admission_.admit_forwarded(ch, std::move(call)))
    refuse(ch, *refused);
}

void http_protocol::handle_admin(channel& ch, const http_request& request) {
  auto name = request.path.substr(admin_path_prefix.size());
  auto parsed = parse_admin_request(name, request.method, request.body);
  auto& metrics = service_metrics::instance();
  if (!parsed.command) {
    metrics.count_admin(name, admin_outcome::rejected);
    reply_error(ch, parsed.status, parsed.error);
    return;
  }
  admin_op_ = parsed.command->operation;
  waiting_ = waiting_for::admin;
  if (auto refused =
          admit_admin(ch, std::move(*parsed.command), ctx_->tls_configured)) {
    metrics.count_admin(name, admin_outcome::refused);
    refuse(ch, *refused);
  }
}

void http_protocol::on_admin_result(channel& ch, admin_result result) {
  waiting_ = waiting_for::nothing;
  auto name = admin_operation_name(admin_op_);
  service_metrics::instance().count_admin(name, result.status == 200
                                                    ? admin_outcome::done
                                                    : admin_outcome::rejected);
  if (result.status != 200) {
    reply_error(ch, result.status, result.error);
    return;
  }
  if (!result.relayed.empty()) {
    reply(ch, 200, application_json, result.relayed);
    return;
  }
  nlohmann::json answer = {{"Operation", name}, {"Result", "done"}};
  if (!result.detail.empty())
    answer["Detail"] = result.detail;
  reply(ch, 200, application_json,
        answer.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n");
}

void http_protocol::refuse(channel& ch, const refusal& why) {
  waiting_ = waiting_for::nothing;
  bool forbidden = why.kind == refusal_kind::forbidden;
  if (fleetlock_call_) {
    fleetlock_call_.reset();
    reply_fleetlock(ch, {forbidden ? 403 : 400,
                         forbidden ? fleetlock_kind::forbidden
                                   : fleetlock_kind::bad_request,
                         why.reason});
    return;
  }
  reply_error(ch, forbidden ? 403 : 400, why.reason);
}

void http_protocol::handle_fleetlock(channel& ch, const http_request& request,
                                     fleetlock_operation op) {
  const auto& settings = *ctx_->fleetlock;
  auto read = read_fleetlock_request(request);
  if (const auto* failure = std::get_if<fleetlock_failure>(&read)) {
    reply_fleetlock(ch, *failure);
    return;
  }
  auto& client = std::get<fleetlock_client>(read);
  auto kind = fleetlock_kind_of(op);
  call_kind_ = kind;
  call_started_ = std::chrono::steady_clock::now();
  waiting_ = waiting_for::call;
  fleetlock_call_ = client;
  if (auto refused = admission_.admit(
          ch, kind, fleetlock_record(client, settings),
          fleetlock_caller(settings, op, ch.peer_address(), ch.identity()),
          fleetlock_namespace()))
    refuse(ch, *refused);
}

void http_protocol::reply_fleetlock(channel& ch,
                                    const fleetlock_failure& failure) {
  reply(ch, failure.status, application_json, fleetlock_failure_body(failure));
}

void http_protocol::handle_connect(channel& ch, const http_request& request) {
  // Refusals are ordinary HTTP answers, after which the client hangs up.
  keep_alive_ = false;
  auto path = parse_srpc_path(request.path);
  if (!path || (path->tls && !ctx_->tls_configured)) {
    reply_error(ch, 404, "404 page not found");
    return;
  }
  // A plain path is refused whenever TLS is required, even inside a
  // connection that began with TLS (as the original: it looks at the path).
  if (ctx_->tls_configured && !path->tls) {
    reply_error(ch, 405, "TLS required");
    return;
  }
  if (ch.encrypted() && (!ch.identity() || !ch.identity()->verified)) {
    reply_error(ch, 401, "client certificate not from a trusted CA");
    return;
  }
  // Read as Go's ParseForm and Form.Get: the first value, decoded.
  bool malformed = false;
  auto no_powers =
      first_query_value(request.query, "doNotUseMethodPowers", malformed);
  if (malformed) {
    reply_error(ch, 400, "malformed query");
    return;
  }
  bool powers = no_powers != "true";
  ch.set_keep_alive(ctx_->keep_alive_period);
  ch.send("HTTP/1.0 200 Connected to Go SRPC\n\n");
  if (path->tls && !ch.encrypted())
    ch.start_tls();
  ch.switch_protocol(std::make_unique<srpc_protocol>(
      path->coder, powers, ctx_->limits.max_body_bytes, ctx_->unix_listener));
}

void http_protocol::on_resolved(channel& ch, std::vector<std::string> addresses,
                                std::string error) {
  if (auto refused = admission_.resolved(ch, addresses, error))
    refuse(ch, *refused);
}

void http_protocol::on_call_result(channel& ch, call_result result) {
  if (waiting_ == waiting_for::forwarded_call) {
    // The follower relays the answer, error or not, as it is.
    waiting_ = waiting_for::nothing;
    reply(ch, 200, application_json, encode_forwarded_result(result));
    return;
  }
  waiting_ = waiting_for::nothing;
  service_metrics::instance().count_call(
      fleetlock_call_ ? front_end::fleetlock : front_end::rest, call_kind_,
      result.state, !result.error.empty(),
      std::chrono::steady_clock::now() - call_started_);
  if (fleetlock_call_) {
    auto client = std::move(*fleetlock_call_);
    fleetlock_call_.reset();
    if (!result.error.empty())
      reply_fleetlock(ch, {503,
                           result.not_leader ? fleetlock_kind::not_leader
                                             : fleetlock_kind::storage,
                           result.error});
    else if (result.state == disruption_state::requested)
      reply_fleetlock(ch, fleetlock_queued(client, result.queue_position,
                                           result.queue_length));
    else if (result.state == disruption_state::denied &&
             call_kind_ == request_kind::request)
      reply_fleetlock(ch, {409, fleetlock_kind::semaphore_full,
                           "group " + client.group + " has no slot to give"});
    else
      reply(ch, 200, application_json, "{}\n");
    return;
  }
  if (!result.error.empty()) {
    reply_error(ch, 503, result.error);
    return;
  }
  reply(ch, 200, application_json, response_body(result.state));
}

void http_protocol::on_state(channel& ch, gathered_state state) {
  auto what = waiting_;
  waiting_ = waiting_for::nothing;
  if (!state.view) {
    // No part of the state is ever shown as if it were all of it.
    if (what == waiting_for::admin)
      service_metrics::instance().count_admin("status",
                                              admin_outcome::rejected);
    reply_error(ch, 503, state.error);
    return;
  }
  auto now = wall_clock_now();
  switch (what) {
  case waiting_for::admin: // the admin API's status
    service_metrics::instance().count_admin("status", admin_outcome::done);
    reply(ch, 200, application_json, render_admin_status(*state.view, now));
    break;
  case waiting_for::status_page:
    reply(ch, 200, text_html, render_status_page(*state.view, *ctx_, now));
    break;
  case waiting_for::dashboard:
    reply_in_pieces(
        ch, text_html,
        dashboard_writer(std::move(state.view), now, std::move(dashboard_),
                         ctx_->role ? std::optional<replica_role>(ctx_->role())
                                    : std::nullopt));
    break;
  case waiting_for::metrics:
    reply(ch, 200, "text/plain; version=0.0.4; charset=utf-8",
          service_metrics::instance().render(
              figures_of(*state.view),
              ctx_->role ? std::optional<replica_role>(ctx_->role())
                         : std::nullopt));
    break;
  default:
    reply_in_pieces(
        ch, application_json,
        state_json_writer(std::move(state.view),
                          ctx_->role ? std::optional<replica_role>(ctx_->role())
                                     : std::nullopt));
    break;
  }
}

} // namespace dm

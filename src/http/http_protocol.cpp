// HTTP routing and the REST semantics of the original (status codes and
// texts), plus 413/431/411 limits of our own.
#include "http/http_protocol.hpp"

#include <algorithm>
#include <array>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "codec/machine_json.hpp"
#include "frontend/call_builder.hpp"
#include "metrics/service_metrics.hpp"
#include "srpc/srpc_protocol.hpp"
#include "web/pages.hpp"

namespace dm {

namespace {

// As the original's SRPC server on each accepted connection: TCP keep-alive
// probes after `period` of quiet, then every `period`.
void set_keep_alive(int fd, std::chrono::seconds period) {
  int one = 1;
  int seconds = static_cast<int>(
      std::clamp<std::chrono::seconds::rep>(period.count(), 1, 32767));
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof seconds);
}

constexpr std::string_view text_plain = "text/plain; charset=utf-8";
constexpr std::string_view text_html = "text/html; charset=utf-8";
constexpr std::string_view application_json = "application/json";

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

} // namespace

http_protocol::http_protocol(std::shared_ptr<const web_context> ctx)
    : ctx_(std::move(ctx)) {
  // nop
}

void http_protocol::reply(connection& conn, int status,
                          std::string_view content_type,
                          std::string_view body) {
  service_metrics::instance().count_http_status(status);
  append_response_head(conn.output, status, content_type, body.size(),
                       !keep_alive_);
  if (!head_only_)
    conn.send(body);
  if (!keep_alive_)
    conn.close_after_send();
}

void http_protocol::reply_error(connection& conn, int status,
                                std::string_view reason) {
  service_metrics::instance().count_http_status(status);
  append_response_head(conn.output, status, text_plain, reason.size() + 1,
                       !keep_alive_, "X-Content-Type-Options: nosniff\r\n");
  if (!head_only_) {
    conn.send(reason);
    conn.send("\n");
  }
  if (!keep_alive_)
    conn.close_after_send();
}

void http_protocol::reply_in_pieces(connection& conn,
                                    std::string_view content_type,
                                    std::unique_ptr<page_writer> page) {
  std::string first;
  if (!page->next(first, body_piece_bytes)) {
    reply(conn, 200, content_type, first);
    return;
  }
  // Too long to hold whole: the rest is written as the client reads. Without
  // chunks (HTTP/1.0) only closing the connection can end the body.
  bool chunked = !http_1_0_;
  if (!chunked)
    keep_alive_ = false;
  service_metrics::instance().count_http_status(200);
  conn.send(http_response_head(
      200, content_type, chunked ? open_body::chunked : open_body::until_close,
      !keep_alive_));
  if (!keep_alive_)
    conn.close_after_send();
  if (head_only_)
    return;
  if (chunked)
    append_chunk(conn.output, first);
  else
    conn.send(first);
  conn.body_producer = [page = std::shared_ptr<page_writer>(std::move(page)),
                        chunked,
                        piece = std::string()](std::string& out) mutable {
    if (!chunked)
      return page->next(out, body_piece_bytes);
    piece.clear();
    bool more = page->next(piece, body_piece_bytes);
    append_chunk(out, piece);
    if (!more)
      out += last_chunk;
    return more;
  };
}

void http_protocol::on_input(connection& conn) {
  // After CONNECT, what follows belongs to the protocol switched to.
  while (!conn.busy && !conn.close_when_flushed && !conn.body_producer &&
         !conn.next_proto && !conn.input.empty()) {
    auto parsed = parse_http_request(conn.input, ctx_->limits, request_);
    if (parsed.status == parse_status::need_more)
      return;
    if (parsed.status == parse_status::failed) {
      keep_alive_ = false;
      head_only_ = false;
      conn.input.clear();
      reply_error(conn, parsed.error_status, parsed.error_reason);
      return;
    }
    keep_alive_ = request_.keep_alive;
    head_only_ = request_.method == "HEAD";
    http_1_0_ = request_.minor_version == 0;
    handle(conn, request_);
    // The request's fields are views of the input: consumed only now.
    conn.input.erase(0, parsed.consumed);
  }
}

void http_protocol::handle(connection& conn, const http_request& request) {
  const auto& path = request.path;
  bool get = request.method == "GET" || request.method == "HEAD";
  if (request.method == "CONNECT") {
    // What follows a CONNECT is not meant as HTTP: the connection ends
    // after any answer but the switch. The REST path answers 405 to it,
    // as to any method but POST.
    if (path == "/api/v1/request") {
      keep_alive_ = false;
      handle_api_request(conn, request);
      return;
    }
    handle_connect(conn, request);
    return;
  }
  if (path == "/api/v1/request") {
    handle_api_request(conn, request);
    return;
  }
  if (path == "/" || path == "/showState" || path == "/api/v1/state" ||
      path == "/metrics") {
    if (!get) {
      reply_error(conn, 405, "unsupported method");
      return;
    }
    waiting_ = path == "/"            ? waiting_for::status_page
               : path == "/showState" ? waiting_for::dashboard
               : path == "/metrics"   ? waiting_for::metrics
                                      : waiting_for::state;
    conn.loop->submit_snapshot(conn);
    return;
  }
  if (path == "/healthz") {
    auto& metrics = service_metrics::instance();
    if (metrics.storage_failing)
      reply_error(conn, 503, "state cannot be saved");
    else if (metrics.compaction_failing)
      // Every change is still saved (in the journal): up, but degraded.
      reply(conn, 200, text_plain,
            "ok, degraded: state compaction failing (" +
                std::to_string(metrics.compaction_failures.load()) +
                " failures; next attempt within " +
                std::to_string((metrics.compaction_backoff_ms.load() + 999) /
                               1000) +
                " s); the journal grows until one succeeds\n");
    else
      reply(conn, 200, text_plain, "ok\n");
    return;
  }
  if (path == "/logs") {
    reply(conn, 200, text_plain, ctx_->logs_text ? ctx_->logs_text() : "");
    return;
  }
  reply_error(conn, 404, "404 page not found");
}

void http_protocol::handle_api_request(connection& conn,
                                       const http_request& request) {
  if (request.method != "POST") {
    reply_error(conn, 405, "unsupported method");
    return;
  }
  std::string error;
  auto decoded = parse_request_body(request.body, true, error);
  if (!decoded) {
    reply_error(conn, 400, error);
    return;
  }
  if (decoded->machine.hostname.empty()) {
    reply_error(conn, 400, "MDB.Hostname is required");
    return;
  }
  auto kind = *decoded->kind;
  call_kind_ = kind;
  call_started_ = std::chrono::steady_clock::now();
  bool power =
      conn.identity && conn.identity->has_method_power(method_name(kind));
  auto call = make_disruption_call(kind, decoded->machine);
  switch (check_access(kind, conn.peer_address, call.host, power)) {
  case access_verdict::allowed:
    break;
  case access_verdict::denied:
    ++service_metrics::instance().access_refused;
    reply_error(conn, 403, not_permitted_text(call.host));
    return;
  case access_verdict::needs_lookup:
    pending_call_ = std::move(call);
    conn.loop->resolve(conn, pending_call_->host);
    return;
  }
  waiting_ = waiting_for::call;
  conn.loop->submit_call(conn, std::move(call));
}

void http_protocol::handle_connect(connection& conn,
                                   const http_request& request) {
  // Refusals are ordinary HTTP answers, after which the client hangs up.
  keep_alive_ = false;
  auto path = parse_srpc_path(request.path);
  if (!path || (path->tls && !ctx_->tls_configured)) {
    reply_error(conn, 404, "404 page not found");
    return;
  }
  // A plain path is refused whenever TLS is required, even inside a
  // connection that began with TLS (as the original: it looks at the path).
  if (ctx_->tls_configured && !path->tls) {
    reply_error(conn, 405, "TLS required");
    return;
  }
  if (conn.encrypted && (!conn.identity || !conn.identity->verified)) {
    reply_error(conn, 401, "client certificate not from a trusted CA");
    return;
  }
  // Read as Go's ParseForm and Form.Get: the first value, decoded.
  bool malformed = false;
  auto no_powers =
      first_query_value(request.query, "doNotUseMethodPowers", malformed);
  if (malformed) {
    reply_error(conn, 400, "malformed query");
    return;
  }
  bool powers = no_powers != "true";
  set_keep_alive(conn.fd, ctx_->keep_alive_period);
  conn.send("HTTP/1.0 200 Connected to Go SRPC\n\n");
  if (path->tls && !conn.encrypted)
    conn.loop->start_tls(conn);
  conn.loop->switch_protocol(
      conn, std::make_unique<srpc_protocol>(path->coder, powers,
                                            ctx_->limits.max_body_bytes));
}

void http_protocol::on_resolved(connection& conn,
                                std::vector<std::string> addresses,
                                std::string error) {
  auto call = std::move(*pending_call_);
  pending_call_.reset();
  auto refusal =
      refusal_after_lookup(conn.peer_address, call.host, addresses, error);
  if (!refusal.empty()) {
    ++service_metrics::instance().access_refused;
    reply_error(conn, 403, refusal);
    return;
  }
  waiting_ = waiting_for::call;
  conn.loop->submit_call(conn, std::move(call));
}

void http_protocol::on_call_result(connection& conn, call_result result) {
  waiting_ = waiting_for::nothing;
  service_metrics::instance().count_call(
      front_end::rest, call_kind_, result.state, !result.error.empty(),
      std::chrono::steady_clock::now() - call_started_);
  if (!result.error.empty()) {
    reply_error(conn, 503, result.error);
    return;
  }
  reply(conn, 200, application_json, response_body(result.state));
}

void http_protocol::on_state(connection& conn, state_view view) {
  auto what = waiting_;
  waiting_ = waiting_for::nothing;
  auto now = wall_clock_now();
  switch (what) {
  case waiting_for::status_page:
    reply(conn, 200, text_html, render_status_page(view, *ctx_, now));
    break;
  case waiting_for::dashboard:
    reply_in_pieces(conn, text_html, dashboard_writer(std::move(view), now));
    break;
  case waiting_for::metrics:
    reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
          service_metrics::instance().render(view));
    break;
  default:
    reply_in_pieces(conn, application_json, state_json_writer(std::move(view)));
    break;
  }
}

} // namespace dm

// HTTP on a connection: the REST API (POST /api/v1/request), the state
// API, and the operator pages. One request is handled at a time per
// connection, so answers keep their order.
#pragma once

#include <memory>
#include <optional>

#include "frontend/admission.hpp"
#include "fleetlock/fleetlock.hpp"
#include "frontend/channel.hpp"
#include "codec/http_request.hpp"
#include "model/machine_record.hpp"
#include "web/pages.hpp"
#include "web/web_context.hpp"

namespace dm {

class http_protocol final : public protocol {
public:
  explicit http_protocol(std::shared_ptr<const web_context> ctx);

  void on_input(channel& ch) override;
  void on_call_result(channel& ch, call_result result) override;
  void on_state(channel& ch, gathered_state state) override;
  void on_admin_result(channel& ch, admin_result result) override;
  void on_resolved(channel& ch, std::vector<std::string> addresses,
                   std::string error) override;
  // The request read in part: its head, or its body (a new deadline).
  std::uint64_t unfinished_unit(const channel& ch) const override;

private:
  void handle(channel& ch, const http_request& request);
  void handle_api_request(channel& ch, const http_request& request);
  void handle_connect(channel& ch, const http_request& request);
  // A call another replica forwards: taken only with the replicas' secret.
  void handle_forwarded_call(channel& ch, const http_request& request);
  void handle_leader_revision(channel& ch, const http_request& request);
  void handle_forwarded_admin(channel& ch, const http_request& request);
  // Whether `request` is a POST signed by a replica; answers it if not.
  bool from_replica(channel& ch, const http_request& request);
  void handle_fleetlock(channel& ch, const http_request& request,
                        fleetlock_operation op);
  void reply_fleetlock(channel& ch, const fleetlock_failure& failure);
  void handle_admin(channel& ch, const http_request& request);
  void reply(channel& ch, int status, std::string_view content_type,
             std::string_view body, std::string_view extra_headers = {});
  void reply_error(channel& ch, int status, std::string_view reason);
  void refuse(channel& ch, const refusal& why);
  // A page that may be long: small ones go whole with a Content-Length,
  // longer ones chunked (HTTP/1.1) or until the connection closes.
  void reply_in_pieces(channel& ch, std::string_view content_type,
                       std::unique_ptr<page_writer> page);

  enum class waiting_for {
    nothing,
    call,
    forwarded_call,
    status_page,
    dashboard,
    state,
    metrics,
    admin
  };

  std::shared_ptr<const web_context> ctx_;
  http_request request_; // the one being handled; reused for the next
  bool keep_alive_ = true;
  bool head_only_ = false; // HEAD: the answer's head without its body
  bool http_1_0_ = false;
  waiting_for waiting_ = waiting_for::nothing;
  admission admission_;
  std::uint64_t requests_ = 0; // handled on this connection
  bool partial_body_ = false;  // the unfinished request's head is in
  // The call in flight, for its metrics; a FleetLock call's client.
  request_kind call_kind_ = request_kind::check;
  std::optional<fleetlock_client> fleetlock_call_;
  std::chrono::steady_clock::time_point call_started_;
  // The dashboard page asked for.
  dashboard_query dashboard_;
  // The admin operation in flight, for its metrics and answer.
  admin_operation admin_op_ = admin_operation::status;
};

} // namespace dm

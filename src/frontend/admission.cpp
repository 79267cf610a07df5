// The admission flow: cheap checks, access, look-up, then the costly part.
#include "frontend/admission.hpp"

#include "frontend/admin_request.hpp"
#include "frontend/call_builder.hpp"
#include "metrics/service_metrics.hpp"

namespace dm {

namespace {

refusal forbidden(std::string reason) {
  ++service_metrics::instance().access_refused;
  return refusal{refusal_kind::forbidden, std::move(reason)};
}

} // namespace

bool has_method_power(const peer_identity* identity, request_kind kind) {
  return identity && identity->has_method_power(method_name(kind));
}

bool is_loopback_address(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" ||
         address.rfind("::ffff:127.", 0) == 0;
}

std::optional<refusal> admit_admin(channel& ch, admin_command cmd,
                                   bool tls_configured) {
  const auto* identity = ch.identity();
  if (tls_configured) {
    if (!ch.encrypted())
      return forbidden("admin operations need HTTPS with a client "
                       "certificate");
    if (identity == nullptr || !identity->verified)
      return forbidden("admin operations need a client certificate from a "
                       "trusted CA");
    if (!identity->has_method_power(admin_method))
      return forbidden("the certificate of \"" + identity->username +
                       "\" has no power over " + std::string(admin_method));
    cmd.who = identity->username;
  } else {
    if (!is_loopback_address(ch.peer_address()))
      return forbidden("on a server without TLS, admin operations are open "
                       "only to callers on its own host (loopback); " +
                       ch.peer_address() + " is not");
    cmd.who = ch.peer_address();
  }
  ch.submit_admin(std::move(cmd));
  return std::nullopt;
}

std::optional<refusal> admission::admit(channel& ch, request_kind kind,
                                        const machine_record& machine,
                                        const std::string& peer_address,
                                        bool has_power) {
  caller who;
  who.peer_address = peer_address;
  who.has_power = has_power;
  return admit(ch, kind, machine, who);
}

std::optional<refusal> admission::admit(channel& ch, request_kind kind,
                                        const machine_record& machine,
                                        const caller& who,
                                        const entry_namespace& where) {
  if (auto reason = hostname_error(machine.hostname); !reason.empty())
    return refusal{refusal_kind::bad_request, std::move(reason)};
  // Names are kept, saved and shown: over-long ones go no further.
  auto size_error = record_size_error(machine);
  if (!size_error.empty())
    return refusal{refusal_kind::bad_request, std::move(size_error)};
  auto call = make_call_without_gate(kind, machine);
  auto text_error = call_text_error(call);
  if (!text_error.empty())
    return refusal{refusal_kind::bad_request, std::move(text_error)};
  // A window tag that cannot be read is refused, never ignored: the group
  // would grant outside the windows meant (docs/semantics.md).
  auto windows_error = attach_windows(call, machine);
  if (!windows_error.empty())
    return refusal{refusal_kind::bad_request, std::move(windows_error)};
  call.host.insert(0, where.host_prefix);
  call.group.insert(0, where.group_prefix);
  call.wants_queue_position = where.wants_queue_position;
  auto verdict = who.self_only ? check_access(kind, who.peer_address, call.host,
                                              who.has_power)
                 : who.allowed ? access_verdict::allowed
                               : access_verdict::denied;
  switch (verdict) {
  case access_verdict::allowed:
    return finish(ch, std::move(call), machine);
  case access_verdict::denied:
    return forbidden(who.self_only ? not_permitted_text(call.host)
                                   : who.refused_reason);
  case access_verdict::needs_lookup:
    break;
  }
  pending_ = std::move(call);
  pending_peer_ = who.peer_address;
  if (kind != request_kind::check)
    pending_record_ = machine;
  ch.resolve(pending_.host);
  return std::nullopt;
}

std::optional<refusal>
admission::resolved(channel& ch, const std::vector<std::string>& addresses,
                    const std::string& lookup_error) {
  auto call = std::move(pending_);
  auto record = std::move(pending_record_);
  pending_record_.reset();
  auto reason =
      refusal_after_lookup(pending_peer_, call.host, addresses, lookup_error);
  if (!reason.empty())
    return forbidden(std::move(reason));
  if (!record)
    return finish(ch, std::move(call), machine_record{});
  return finish(ch, std::move(call), *record);
}

std::optional<refusal> admission::admit_forwarded(channel& ch,
                                                  disruption_call call) {
  ch.submit_call(std::move(call));
  return std::nullopt;
}

std::optional<refusal> admission::finish(channel& ch, disruption_call call,
                                         const machine_record& machine) {
  if (call.kind == request_kind::cancel) {
    attach_ready_gate(call, machine);
    auto text_error = gate_text_error(call);
    if (!text_error.empty())
      return refusal{refusal_kind::bad_request, std::move(text_error)};
  } else if (call.kind == request_kind::request) {
    // Kept by the group for an operator's release (docs/semantics.md,
    // "Operator control"); a request is never refused for its gate.
    attach_ready_gate(call, machine);
    if (!gate_text_error(call).empty()) {
      call.has_gate = false;
      call.gate_url.clear();
    }
  }
  ch.submit_call(std::move(call));
  return std::nullopt;
}

} // namespace dm

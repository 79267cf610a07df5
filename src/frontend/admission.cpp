// The admission flow: cheap checks, access, look-up, then the costly part.
#include "frontend/admission.hpp"

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
  if (kind == request_kind::cancel)
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
  }
  ch.submit_call(std::move(call));
  return std::nullopt;
}

} // namespace dm

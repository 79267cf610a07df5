// Reducing calls and deciding access.
#include "frontend/call_builder.hpp"

#include "disruption/group_rules.hpp"
#include "net/host_resolver.hpp"
#include "text/utf8.hpp"

namespace dm {

std::string record_size_error(const machine_record& machine) {
  auto over = [](const std::string& what, std::size_t limit) {
    return what + " is longer than " + std::to_string(limit) + " bytes";
  };
  if (machine.hostname.size() > max_name_bytes)
    return over("MDB.Hostname", max_name_bytes);
  for (auto tag : {tag_group_identifier, tag_group_maximum, tag_ready_timeout,
                   tag_ready_url, tag_maintenance_window}) {
    auto it = machine.tags.find(std::string(tag));
    if (it != machine.tags.end() && it->second.size() > max_tag_value_bytes)
      return over("tag " + std::string(tag), max_tag_value_bytes);
  }
  if (group_identifier(machine).size() > max_name_bytes)
    return over("the group identifier", max_name_bytes);
  return {};
}

disruption_call make_call_without_gate(request_kind kind,
                                       const machine_record& machine) {
  disruption_call call;
  call.kind = kind;
  call.host = machine.hostname;
  call.group = group_identifier(machine);
  call.limit = group_limit(machine);
  return call;
}

void attach_ready_gate(disruption_call& call, const machine_record& machine) {
  if (call.kind == request_kind::check)
    return;
  // Expanding the template here keeps that work off the actor threads.
  std::string error;
  if (auto gate = ready_gate_for(machine, error)) {
    call.has_gate = true;
    call.gate_timeout_ns = gate->timeout.count();
    call.gate_url = std::move(gate->url);
  } else {
    call.gate_error = std::move(error);
  }
}

std::string attach_windows(disruption_call& call,
                           const machine_record& machine) {
  if (call.kind == request_kind::cancel)
    return {};
  std::string error;
  call.windows = group_windows(machine, error);
  return error;
}

disruption_call make_disruption_call(request_kind kind,
                                     const machine_record& machine) {
  auto call = make_call_without_gate(kind, machine);
  attach_windows(call, machine);
  attach_ready_gate(call, machine);
  return call;
}

std::string call_text_error(const disruption_call& call) {
  if (!utf8::valid_utf8(call.host))
    return "MDB.Hostname is not valid UTF-8";
  if (!utf8::valid_utf8(call.group))
    return "the group identifier is not valid UTF-8";
  return gate_text_error(call);
}

std::string gate_text_error(const disruption_call& call) {
  if (!utf8::valid_utf8(call.gate_url))
    return "the expanded DisruptionManagerReadyUrl is not valid UTF-8";
  if (call.gate_url.size() > max_tag_value_bytes)
    return "the expanded DisruptionManagerReadyUrl is longer than " +
           std::to_string(max_tag_value_bytes) + " bytes";
  return {};
}

access_verdict check_access(request_kind kind, const std::string& peer_address,
                            const std::string& hostname, bool has_power) {
  if (kind == request_kind::check || has_power)
    return access_verdict::allowed;
  if (!peer_address.empty() && normalize_address(hostname) == peer_address)
    return access_verdict::allowed;
  return access_verdict::needs_lookup;
}

bool peer_matches(const std::string& peer_address,
                  const std::vector<std::string>& addresses) {
  for (const auto& address : addresses)
    if (address == peer_address)
      return true;
  return false;
}

std::string refusal_after_lookup(const std::string& peer_address,
                                 const std::string& hostname,
                                 const std::vector<std::string>& addresses,
                                 const std::string& lookup_error) {
  if (!lookup_error.empty())
    return lookup_error;
  if (!peer_matches(peer_address, addresses))
    return not_permitted_text(hostname);
  return {};
}

std::string not_permitted_text(const std::string& hostname) {
  return hostname + " not permitted";
}

std::string_view method_name(request_kind kind) {
  switch (kind) {
  case request_kind::check:
    return "DisruptionManager.Check";
  case request_kind::request:
    return "DisruptionManager.Request";
  case request_kind::cancel:
    return "DisruptionManager.Cancel";
  }
  return "";
}

} // namespace dm

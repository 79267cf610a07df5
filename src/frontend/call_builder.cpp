// Reducing calls and deciding access.
#include "frontend/call_builder.hpp"

#include "disruption/group_rules.hpp"
#include "net/host_resolver.hpp"

namespace dm {

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
  if (call.kind != request_kind::cancel)
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

disruption_call make_disruption_call(request_kind kind,
                                     const machine_record& machine) {
  auto call = make_call_without_gate(kind, machine);
  attach_ready_gate(call, machine);
  return call;
}

namespace {

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = c < 0x80           ? 0
                        : (c >> 5) == 0x6  ? 1
                        : (c >> 4) == 0xE  ? 2
                        : (c >> 3) == 0x1E ? 3
                                           : 4;
    if (extra == 4 || i + extra >= text.size() + (extra == 0 ? 1 : 0))
      return false;
    std::uint32_t code = extra == 0 ? c : c & (0x3F >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80)
        return false;
      code = code << 6 | (next & 0x3F);
    }
    // No overlong forms, no surrogates, nothing past U+10FFFF.
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
        (extra == 3 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

} // namespace

std::string call_text_error(const disruption_call& call) {
  if (!valid_utf8(call.host))
    return "MDB.Hostname is not valid UTF-8";
  if (!valid_utf8(call.group))
    return "the group identifier is not valid UTF-8";
  return gate_text_error(call);
}

std::string gate_text_error(const disruption_call& call) {
  if (!valid_utf8(call.gate_url))
    return "the expanded DisruptionManagerReadyUrl is not valid UTF-8";
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

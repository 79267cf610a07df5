// What every front end (REST, SRPC) does with a decoded call before the
// actors see it: reduce the record to a disruption_call and apply the
// self-only access rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "actors/messages.hpp"
#include "model/machine_record.hpp"

namespace dm {

// What a call may carry (docs/testing.md, "Limits and where they are
// enforced"): names are kept, saved and shown as long as their machine is
// known, so a record over a limit is refused before anything is computed.
inline constexpr std::size_t max_name_bytes = 1024; // host, group identifier
inline constexpr std::size_t max_tag_value_bytes =
    4096; // each DisruptionManager* tag, the expanded ready URL

// The reason to refuse a record whose Hostname, group identifier or a
// DisruptionManager* tag is over its limit; empty when all fit.
std::string record_size_error(const machine_record& machine);

// Group, limit and (for cancel and request) the ready gate, computed from
// the record.
disruption_call make_disruption_call(request_kind kind,
                                     const machine_record& machine);
// The same in two steps: the cheap part (host, group, limit), and for a
// cancel the ready gate, whose template may be costly to expand: only
// once the caller is known to be allowed (frontend/admission.hpp).
disruption_call make_call_without_gate(request_kind kind,
                                       const machine_record& machine);
// (Nothing for a check.)
void attach_ready_gate(disruption_call& call, const machine_record& machine);
// For a request or check, the record's maintenance window spec; the reason
// to refuse the call when the tag cannot be read (docs/semantics.md,
// "Maintenance windows"), else empty. A cancel does not read the tag.
std::string attach_windows(disruption_call& call,
                           const machine_record& machine);

// Names and URLs are kept and shown as text: a call whose host, group or
// ready URL is not valid UTF-8 (gob strings may hold any bytes), or whose
// expanded ready URL is over max_tag_value_bytes, is refused with this
// reason; empty when all is well.
std::string call_text_error(const disruption_call& call);
// Only the ready URL's part of that.
std::string gate_text_error(const disruption_call& call);

enum class access_verdict { allowed, denied, needs_lookup };

// The self-only rule of the original: check is open; request and cancel
// need method power, or a peer address equal to the record's Hostname or
// (after a lookup) one of its addresses.
access_verdict check_access(request_kind kind, const std::string& peer_address,
                            const std::string& hostname, bool has_power);

// After the lookup: is the peer one of the Hostname's addresses?
bool peer_matches(const std::string& peer_address,
                  const std::vector<std::string>& addresses);

// After the look-up of `hostname`: empty when the peer may act, else the
// reason to refuse with (the look-up's error, or "<hostname> not permitted").
std::string refusal_after_lookup(const std::string& peer_address,
                                 const std::string& hostname,
                                 const std::vector<std::string>& addresses,
                                 const std::string& lookup_error);

// The error text the original uses when access is refused.
std::string not_permitted_text(const std::string& hostname);

// The SRPC method name of a request kind ("DisruptionManager.Request").
std::string_view method_name(request_kind kind);

} // namespace dm

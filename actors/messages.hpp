// The plain structs carried by actor messages, with their inspect overloads.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/reply.hpp"
#include "disruption/group_rules.hpp"
#include "model/alert_blocking.hpp"
#include "model/machine_record.hpp"
#include "model/state_view.hpp"
#include "storage/state_store.hpp"

namespace dm {

// One client call, already reduced to what the group decides on: the front
// end computed the group, limit and (for a cancel) the ready gate. The
// answer goes to `reply`, which is local to the process (not inspected).
struct disruption_call {
  request_kind kind = request_kind::check;
  std::string host;
  std::string group;
  std::uint64_t limit = 1;
  bool has_gate = false;
  std::int64_t gate_timeout_ns = 0;
  std::string gate_url;
  std::string gate_error;      // why the record's gate tags were unusable
  std::string windows;         // maintenance window tag (request, check)
  std::uint64_t route_seq = 0; // set by the router: order of requests
  bool forwarded = false;      // by another replica: never sent on again
  // The answer says where a queued machine stands (FleetLock tells it);
  // it costs the machine's place in line, so only entries that show it ask.
  bool wants_queue_position = false;
  reply_to reply;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, disruption_call& x) {
  return f(caf::meta::type_name("disruption_call"), x.kind, x.host, x.group,
           x.limit, x.has_gate, x.gate_timeout_ns, x.gate_url, x.gate_error,
           x.windows, x.route_seq, x.forwarded, x.wants_queue_position);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_result& x) {
  return f(caf::meta::type_name("call_result"), x.state, x.error,
           x.queue_position, x.queue_length);
}

// An answer to give once the changes it reports are durable.
struct held_reply {
  reply_to reply;
  call_result result;
};

// Changes for the storage actor, with the answers that wait for exactly
// these changes: the storage actor gives them once the changes are synced
// (or an error when they cannot be saved). Local to the process.
struct persist_batch {
  std::vector<state_change> changes;
  std::vector<held_reply> replies;
};

// The views' inspect overloads (the structs live in model/state_view.hpp;
// the group and state views are local, below).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, machine_view& x) {
  return f(caf::meta::type_name("machine_view"), x.host, x.group, x.state,
           x.last_request_ns, x.expires_ns, x.ready_deadline_ns, x.ready_url,
           x.queue_position);
}

// What an operator asks (docs/protocol.md, "Admin API"), checked for form
// by the front end; the router decides and answers with an admin_result.
enum class admin_operation {
  status,
  release,
  pause,
  resume,
  freeze,
  thaw,
  limit,
  window
};

struct admin_command {
  admin_operation operation = admin_operation::status;
  std::string group;       // pause, resume, limit, window
  std::string host;        // release
  std::uint64_t limit = 0; // limit: the override; 0 clears it
  // window: the group's maintenance windows; none clears them.
  std::optional<window_schedule> windows;
  bool skip_ready_gate = false; // release: free the slot at once
  std::string who;              // for the audit trail
  std::string reason;
  // Taken from another replica, which decided access: never sent on again.
  bool forwarded = false;
};

struct admin_result {
  int status = 200; // an HTTP status: 200, or why nothing changed
  std::string error;
  std::string detail; // what a release did with the ready gate
  state_view view;    // for status: every group and the settings
  // A follower's: the leader's answer (a 200's JSON body), relayed as it is.
  std::string relayed;
};

} // namespace dm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::persist_batch)
// Shared, read-only: every page that waited for one gathering reads it.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::gathered_state)
// The views carry the operators' settings (maps and optionals CAF 0.17
// cannot inspect); they never leave the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::group_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::state_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::gather_scope)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::admin_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::admin_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::group_controls)
// Optionals again; from the alert poller to the router, in the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::alert_blocking)

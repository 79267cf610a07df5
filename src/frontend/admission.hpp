// The one way a decoded call enters the service, whatever brought it (REST,
// SRPC, and any later entry: an operator API, FleetLock, a call forwarded
// by another replica). Decoding is the entry's job; then, in this order:
//
//  1. build the call's cheap part (host, group, limit) and refuse a missing
//     or non-UTF-8 name;
//  2. check access by the self-only rule of the original: check is open;
//     request and cancel need method power, or a peer address equal to
//     the Hostname or, after a look-up, one of its addresses;
//  3. look the Hostname up when the rule needs it (asynchronously: the
//     entry hands the answer to resolved());
//  4. only now the costly part: expand the ready-URL template of a cancel
//     (and of a request, kept for an operator's release);
//  5. submit, or refuse in the entry's own error form.
//
// Nothing costly happens before access is granted, so a caller without
// rights cannot make the service expand its templates.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontend/channel.hpp"
#include "model/machine_record.hpp"
#include "tls/peer_identity.hpp"

namespace dm {

enum class refusal_kind {
  bad_request, // the call itself is unusable (REST: 400)
  forbidden,   // the caller may not make it (REST: 403)
};

struct refusal {
  refusal_kind kind = refusal_kind::bad_request;
  std::string reason;
};

// Whether `identity` (a TLS client, or nobody) has power over the method of
// `kind`.
bool has_method_power(const peer_identity* identity, request_kind kind);

// Who makes a call, and the rule that decides whether they may.
struct caller {
  std::string peer_address; // numeric
  // Step 2's rule: the self-only rule of the original (REST, SRPC), which
  // uses the method power below and may need a look-up; or a verdict the
  // entry reached by its own rule (FleetLock's allowed networks):
  // `allowed`, or refused with `refused_reason`.
  bool self_only = true;
  bool has_power = false;
  bool allowed = false;
  std::string refused_reason;
};

// Where an entry keeps its machines and groups: FleetLock's ids and groups
// live under a prefix of their own (docs/protocol.md, "FleetLock"), so
// they cannot meet a Dominator machine or group by accident.
struct entry_namespace {
  std::string host_prefix;
  std::string group_prefix;
  bool wants_queue_position = false; // see disruption_call
};
// The operators' entry (docs/protocol.md, "Admin API"), a sibling of the
// flow below with the same steps in the same order: the command's form is
// checked by its decoder (frontend/admin_request.hpp); then access, by its
// own rule instead of the self-only one: on a server with TLS, an HTTPS
// caller whose verified certificate has power over DisruptionManager.Admin;
// on a server without, a caller on loopback only. Refusals are counted as
// the calls' are. The caller's name (certificate user, or address) is put
// in the command for the audit trail, and the command submitted.
std::optional<refusal> admit_admin(channel& ch, admin_command cmd,
                                   bool tls_configured);

// Whether a numeric address is a loopback one (127.0.0.0/8, ::1, or
// IPv4-mapped 127.x).
bool is_loopback_address(const std::string& address);

// One entry's admission flow; a connection has one, since it admits one
// call at a time.
class admission {
public:
  // Admits a decoded call. Nothing returned: the call went to
  // `ch.submit_call` (its answer comes as on_call_result, perhaps already
  // given) or a look-up went to `ch.resolve` (pass its answer to
  // resolved()). Otherwise the refusal to answer with; access refusals are
  // counted.
  std::optional<refusal> admit(channel& ch, request_kind kind,
                               const machine_record& machine, const caller& who,
                               const entry_namespace& where = {});
  // REST and SRPC: the self-only rule, from `peer_address` (numeric), who
  // has or lacks method power.
  std::optional<refusal> admit(channel& ch, request_kind kind,
                               const machine_record& machine,
                               const std::string& peer_address, bool has_power);

  // The look-up's answer: refuses, or goes on as admit() does.
  std::optional<refusal> resolved(channel& ch,
                                  const std::vector<std::string>& addresses,
                                  const std::string& lookup_error);

  // A call another replica forwards (the entry checked that a replica sent
  // it): steps 1 to 4 were taken there, where the caller connected, so
  // it goes to step 5 as it came.
  std::optional<refusal> admit_forwarded(channel& ch, disruption_call call);

private:
  std::optional<refusal> finish(channel& ch, disruption_call call,
                                const machine_record& machine);

  // While the look-up runs.
  disruption_call pending_;
  std::string pending_peer_;
  std::optional<machine_record> pending_record_; // for its gate
};

} // namespace dm

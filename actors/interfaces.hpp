// Every conversation in the service: the typed interface of each actor, who
// talks to it, and what each message means. Start reading here.
#pragma once

#include <caf/all.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"

namespace dm {

// The storage actor owns the state store. Group actors talk to it.
using storage_actor = caf::typed_actor<
    // Appends changes; answers true once they are on stable storage (many
    // batches share one sync), false when they could not be saved. The
    // batch's held replies are answered at the same moment.
    caf::replies_to<persist_atom, persist_batch>::with<bool>,
    // Internal: writes and syncs everything appended so far.
    caf::reacts_to<flush_atom>>;

// A group actor owns one group's slots, FIFO queue and ready gate. The router
// talks to it; its probers report back to it.
using group_actor = caf::typed_actor<
    // Router: a client call for a machine of this group. The answer goes to
    // the call's reply_to: from here when nothing needs saving, else from the
    // storage actor once the change is synced.
    caf::reacts_to<operate_atom, disruption_call>,
    // Router: the machine moved to another group; drop its holding here.
    caf::reacts_to<evict_atom, std::string>,
    // Internal: the group's timer (of this generation) for its earliest
    // deadline (an expiry or the end of a ready wait) fired.
    caf::reacts_to<due_atom, std::uint64_t>,
    // Prober: the ready URL of this host answered 200 (for this wait id).
    caf::reacts_to<ready_atom, std::string, std::uint64_t>,
    // Pages: this group's state.
    caf::replies_to<snapshot_atom>::with<group_view>,
    // Pages: this group's counts and settings, without its machines.
    caf::replies_to<summary_atom>::with<group_view>,
    // Router: what operators now set for this group (saved already).
    caf::reacts_to<control_atom, group_controls>,
    // Router: an operator releases this host (skip the ready gate or not);
    // answers what was done ("" when the group knows nothing to release)
    // once the changes are sent to storage.
    caf::replies_to<release_atom, std::string, bool>::with<admin_result>,
    // Internal: a batch could not be saved; try its changes again.
    caf::reacts_to<flush_atom>,
    // Router: nothing was sent here since the group said it was idle; the
    // group stops.
    caf::reacts_to<retire_atom>>;

// The router's live group actors, in identifier order, for a gathering.
struct group_roster {
  std::vector<group_actor> groups;
  admin_settings admin;  // what operators set, for the pages
  alert_blocking alerts; // what firing alerts block, for the pages
};

} // namespace dm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dm::group_roster)

namespace dm {

// The router owns the map from groups to group actors and from machines to
// their current group. I/O threads and the gatherer talk to it; group actors
// report to it.
using router_actor = caf::typed_actor<
    // I/O thread: a client call; sent on to the machine's group actor.
    caf::reacts_to<operate_atom, disruption_call>,
    // Group: this host (group, host, last request order seen) is denied there.
    caf::reacts_to<released_atom, std::string, std::string, std::uint64_t>,
    // Group: it knows no machine and has nothing left to save, after
    // handling this many calls and evictions; the router retires it unless
    // it has sent it more since.
    caf::reacts_to<idle_atom, std::string, std::uint64_t>,
    // Gatherer: the live group actors, to ask each for its state, and the
    // operators' settings.
    caf::replies_to<roster_atom>::with<group_roster>,
    // Gatherer: the same with only this group's actor (none when it has
    // none).
    caf::replies_to<roster_atom, std::string>::with<group_roster>,
    // Front end: an operator's command; answered once its change is
    // durable and the groups obey it (docs/semantics.md, "Operator control").
    caf::replies_to<admin_atom, admin_command>::with<admin_result>,
    // Alert poller: what firing alerts now block (sent when it changes);
    // live groups whose controls change hear of it at once
    // (docs/semantics.md, "Blocking alerts").
    caf::reacts_to<alerts_atom, alert_blocking>>;

// The timer wakes each group at its earliest deadline. Groups come and go
// (a retired group's deadline must not keep anything of it alive, and CAF
// 0.17 cannot cancel a delayed message), so they keep no delayed message of
// their own: the timer keeps one deadline per live group and one delayed
// message for the earliest of them.
using timer_actor = caf::typed_actor<
    // Group: send it due_atom with this generation at this moment (wall
    // time, ns); replaces what the group asked for before.
    caf::reacts_to<arm_atom, group_actor, std::int64_t, std::uint64_t>,
    // Group: it retires; forget its deadline.
    caf::reacts_to<disarm_atom, group_actor>,
    // Internal: the delayed message of this generation is due.
    caf::reacts_to<due_atom, std::uint64_t>>;

// A prober GETs one ready URL until it answers 200 or its wait ends. Its
// group spawns it; it reports with ready_atom and then quits.
using prober_actor = caf::typed_actor<
    // Internal: try the URL now.
    caf::reacts_to<probe_atom>>;

// The alert poller GETs Prometheus's alerts API every
// -blockingAlertsInterval on a thread of its own (a detached actor: the GET
// blocks) and tells the I/O threads' replicas and then the router what the
// firing alerts block, whenever that changes.
using alert_poller_actor = caf::typed_actor<
    // Internal: poll now.
    caf::reacts_to<poll_atom>>;

} // namespace dm

namespace dm {

// The gatherer gathers the whole state for every page: one gathering at a
// time, a bounded number of groups asked at once, and the whole state or an
// error, never a part (actors/gatherer.hpp).
using gatherer_actor = caf::typed_actor<
    // Front desk: the whole state, or why not.
    caf::replies_to<snapshot_atom>::with<gathered_state>,
    // Front desk: the state in this scope, or why not.
    caf::replies_to<snapshot_atom, gather_scope>::with<gathered_state>,
    // Internal: look whether the gathering under way is past its deadline.
    caf::reacts_to<due_atom, std::uint64_t>>;

// A front desk asks the gatherer for the whole state for one I/O thread
// (pages and the state API) and hands its answer to that thread's reply
// sink, tagged with a ticket. (Calls skip it: they carry their own
// reply_to.)
using front_desk_actor = caf::typed_actor<
    // I/O thread: the state in this scope; it goes to the sink under
    // `ticket`.
    caf::reacts_to<snapshot_atom, std::uint64_t, gather_scope>>;

} // namespace dm

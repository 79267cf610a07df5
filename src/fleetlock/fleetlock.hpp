// FleetLock, the protocol Zincati (Fedora CoreOS, Flatcar) speaks before a
// reboot (docs/protocol.md, "FleetLock"): reading its requests, deciding
// who may make them, and the record a request becomes, so that it enters
// the service through the one admission flow (frontend/admission.hpp) and
// is decided by the same groups, queue and ready gates as every call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codec/http_request.hpp"
#include "frontend/admission.hpp"
#include "model/machine_record.hpp"
#include "net/ip_address.hpp"
#include "tls/peer_identity.hpp"

namespace dm {

// How the service serves FleetLock (the -fleetLock* flags).
struct fleetlock_settings {
  std::string base_path;           // "" or "/path" without a trailing "/"
  std::uint64_t default_limit = 1; // slots of a FleetLock group
  std::vector<ip_network> allowed_networks; // none: only certificates
  std::string ready_timeout;                // as DisruptionManagerReadyTimeout
  std::string ready_url;                    // as DisruptionManagerReadyUrl
};

// Where FleetLock's machines and groups live (docs/protocol.md).
inline constexpr std::string_view fleetlock_prefix = "fleetlock/";

// The two operations and their method names for certificate powers.
enum class fleetlock_operation { recursive_lock, unlock_if_held };
std::string_view fleetlock_method(fleetlock_operation op);

// The operation a request path names under the base path, if any.
std::optional<fleetlock_operation>
fleetlock_route(const fleetlock_settings& settings, std::string_view path);

// What a client sends: its id (the machine) and its reboot group.
struct fleetlock_client {
  std::string id;
  std::string group;
};

// A failure as FleetLock returns it: an HTTP status and a JSON body
// {"kind": ..., "value": ...}; kinds are a small fixed set.
struct fleetlock_failure {
  int status = 400;
  std::string kind;
  std::string value;
};

namespace fleetlock_kind {
inline constexpr const char* bad_request = "bad_request";
inline constexpr const char* bad_group = "bad_group";
inline constexpr const char* method_not_allowed = "method_not_allowed";
inline constexpr const char* forbidden = "forbidden";
inline constexpr const char* semaphore_full = "failed_lock_semaphore_full";
inline constexpr const char* storage = "storage_unavailable";
inline constexpr const char* not_leader = "not_leader";
} // namespace fleetlock_kind

// Reads a request (method, the fleet-lock-protocol header, the body).
std::variant<fleetlock_client, fleetlock_failure>
read_fleetlock_request(const http_request& request);

// The body of a failure.
std::string fleetlock_failure_body(const fleetlock_failure& failure);

// Who may: a peer in an allowed network, or a verified client certificate
// with method power over the operation ("FleetLock.RecursiveLock",
// "FleetLock.UnlockIfHeld"; a power "FleetLock.*" covers both).
caller fleetlock_caller(const fleetlock_settings& settings,
                        fleetlock_operation op, const std::string& peer,
                        const peer_identity* identity);

// The record a client's request stands for: Hostname the id, the group,
// limit and ready gate from the settings, and the tags FleetLockId and
// FleetLockGroup for the ready URL's template.
machine_record fleetlock_record(const fleetlock_client& client,
                                const fleetlock_settings& settings);

// The namespace FleetLock's calls go to.
entry_namespace fleetlock_namespace();

// The request kind of an operation: RecursiveLock is a request,
// UnlockIfHeld a cancel.
request_kind fleetlock_kind_of(fleetlock_operation op);

// The failure for a RecursiveLock left queued.
fleetlock_failure fleetlock_queued(const fleetlock_client& client,
                                   std::uint64_t position,
                                   std::uint64_t length);

} // namespace dm

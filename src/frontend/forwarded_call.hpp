// A call one replica forwards to the leader, as it travels between them:
// the admitted call (its access already decided where the caller
// connected) as JSON, signed with the replicas' shared secret; and the
// leader's answer. Only a replica holds the secret, so only a replica can
// use the channel (docs/architecture.md, "Forwarding").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/messages.hpp"

namespace dm {

// The path and headers of the channel.
inline constexpr std::string_view forwarded_call_path = "/api/v1/replica/call";
// Where a follower sends an operator's command it admitted.
inline constexpr std::string_view forwarded_admin_path =
    "/api/v1/replica/admin";
// Where a follower asks the leader for the etcd revision its answers so far
// depend on (docs/architecture.md, "Checks on a follower").
inline constexpr std::string_view leader_revision_path =
    "/api/v1/replica/revision";
inline constexpr std::string_view replica_time_header = "X-Replica-Time";
inline constexpr std::string_view replica_signature_header =
    "X-Replica-Signature";

// How far a forwarded call's time may be from the leader's clock.
inline constexpr std::chrono::seconds forwarded_call_window{30};

std::string encode_forwarded_call(const disruption_call& call);
// The call (without its reply); false with `error` when the body is not
// one.
bool decode_forwarded_call(std::string_view body, disruption_call& call,
                           std::string& error);

std::string encode_forwarded_result(const call_result& result);
bool decode_forwarded_result(std::string_view body, call_result& result,
                             std::string& error);

// An operator's command (access decided, `who` set) as it travels; the
// leader answers it as the admin API does, and the follower relays that.
std::string encode_forwarded_admin(const admin_command& cmd);
bool decode_forwarded_admin(std::string_view body, admin_command& cmd,
                            std::string& error);

// The leader's answer to a revision request: {"Revision": N}.
std::string encode_leader_revision(std::int64_t revision);
bool decode_leader_revision(std::string_view body, std::int64_t& revision);

// HMAC-SHA256 of the time and the body under the secret, in hex.
std::string replica_signature(const std::string& secret, std::string_view time,
                              std::string_view body);
// Whether `signature` and `time` (Unix seconds) sign `body` under `secret`
// within the window around `now_unix`. Compares in constant time.
bool replica_signature_valid(const std::string& secret, std::string_view time,
                             std::string_view body, std::string_view signature,
                             std::int64_t now_unix);

} // namespace dm

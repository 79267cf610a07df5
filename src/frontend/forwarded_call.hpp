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
#include <atomic>
#include <bitset>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

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
inline constexpr std::string_view replica_nonce_header = "X-Replica-Nonce";
inline constexpr std::string_view replica_to_header = "X-Replica-To";

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

// What a signature covers besides the body: when it was sent (Unix
// seconds), which message of which sender it is ("<sender>:<sequence>", the
// sender 16 hex digits a replica draws at start, the sequence counting
// from 1), and the replica it is meant for (its advertised address).
struct replica_stamp {
  std::string time;
  std::string nonce;
  std::string to;
};

// HMAC-SHA256 of the stamp and the body under the secret, in hex.
std::string replica_signature(const std::string& secret,
                              const replica_stamp& stamp,
                              std::string_view body);
// Whether `signature` signs `stamp` and `body` under `secret`, with the
// stamp's time within the window around `now_unix`. Compares in constant
// time.
bool replica_signature_valid(const std::string& secret,
                             const replica_stamp& stamp, std::string_view body,
                             std::string_view signature, std::int64_t now_unix);

// A replica's signing side: stamps and signs each message it sends, each
// with the next sequence number. Safe from any thread.
class replica_signer {
public:
  explicit replica_signer(std::string secret);
  // The headers of a message to `to` carrying `body`.
  std::vector<std::pair<std::string, std::string>> sign(const std::string& to,
                                                        std::string_view body);

private:
  std::string secret_;
  std::string sender_;
  std::atomic<std::uint64_t> sequence_{0};
};

// A replica's receiving side against replays: each signed message is
// taken once. Per sender it keeps the newest sequence and which of the
// 4096 before it came; a sender is forgotten once its newest message's
// time is out of the window (a replay of any of its messages is then
// refused for its time). Messages signed before this replica started are
// refused: they were meant for an earlier process at its address.
class replay_guard {
public:
  static constexpr std::uint64_t window = 4096;
  explicit replay_guard(std::int64_t started_unix)
      : started_unix_(started_unix) {}
  // True if the message (its signature already checked) is new; else
  // false with `why`.
  bool admit(std::string_view nonce, std::int64_t signed_unix,
             std::int64_t now_unix, std::string& why);

private:
  struct sender {
    std::uint64_t newest = 0;
    std::bitset<window> seen; // bit s % window: sequence s came
    std::int64_t newest_time = 0;
  };
  std::mutex mutex_;
  std::int64_t started_unix_;
  std::int64_t next_sweep_ = 0;
  std::unordered_map<std::string, sender> senders_;
};

} // namespace dm

// The role board.
#include "metrics/replica_role_board.hpp"

namespace dm {

namespace {

std::int64_t steady_ns(std::chrono::steady_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             when.time_since_epoch())
      .count();
}

std::int64_t unix_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

replica_role replica_role_board::get() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return role_;
}

void replica_role_board::set_self(const std::string& self) {
  std::lock_guard<std::mutex> lock(mutex_);
  role_.replicated = true;
  role_.self = self;
  role_.since_unix_ns = unix_ns_now();
  replicated_ = true;
}

void replica_role_board::become_leader(
    std::chrono::steady_clock::time_point deciding_until) {
  std::lock_guard<std::mutex> lock(mutex_);
  role_.leader = true;
  role_.since_unix_ns = unix_ns_now();
  if (role_.leader_address != role_.self) {
    ++role_.leader_changes;
    role_.leader_since_unix_ns = role_.since_unix_ns;
  }
  role_.leader_address = role_.self;
  deciding_until_ns_ = steady_ns(deciding_until);
}

void replica_role_board::extend(
    std::chrono::steady_clock::time_point deciding_until) {
  deciding_until_ns_ = steady_ns(deciding_until);
}

void replica_role_board::become_follower(const std::string& leader_address) {
  deciding_until_ns_ = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  role_.leader = false;
  role_.since_unix_ns = unix_ns_now();
  learn_leader(leader_address, role_.since_unix_ns);
}

void replica_role_board::learn_leader(const std::string& leader_address,
                                      std::int64_t now_ns) {
  if (leader_address == role_.leader_address)
    return;
  if (!leader_address.empty())
    ++role_.leader_changes;
  role_.leader_address = leader_address;
  role_.leader_since_unix_ns = leader_address.empty() ? 0 : now_ns;
}

void replica_role_board::set_leader(const std::string& leader_address) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (role_.leader)
    return;
  learn_leader(leader_address, unix_ns_now());
}

bool replica_role_board::may_decide() const {
  if (!replicated_.load(std::memory_order_relaxed))
    return true;
  return steady_ns(std::chrono::steady_clock::now()) <
         deciding_until_ns_.load(std::memory_order_acquire);
}

bool replica_role_board::forwards() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !role_.leader && !role_.leader_address.empty();
}

std::string replica_role_board::refusal() const {
  auto role = get();
  if (role.leader)
    return "this replica cannot reach etcd to renew its leadership; try "
           "again";
  if (role.leader_address.empty())
    return "no leader elected yet (replicas are electing one); try again";
  return "this replica is not the leader; the leader is " + role.leader_address;
}

void replica_role_board::note_committed(std::int64_t revision) {
  auto seen = committed_revision_.load(std::memory_order_relaxed);
  while (seen < revision && !committed_revision_.compare_exchange_weak(
                                seen, revision, std::memory_order_release,
                                std::memory_order_relaxed)) {
  }
}

} // namespace dm

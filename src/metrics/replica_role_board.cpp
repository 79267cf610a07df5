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
  if (role_.leader_address != role_.self)
    ++role_.leader_changes;
  role_.leader_address = role_.self;
  role_.since_unix_ns = unix_ns_now();
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
  if (!leader_address.empty() && leader_address != role_.leader_address)
    ++role_.leader_changes;
  role_.leader_address = leader_address;
  role_.since_unix_ns = unix_ns_now();
}

void replica_role_board::set_leader(const std::string& leader_address) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (role_.leader)
    return;
  if (!leader_address.empty() && leader_address != role_.leader_address)
    ++role_.leader_changes;
  role_.leader_address = leader_address;
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

} // namespace dm

// The election's two threads. The campaign thread holds the role: it
// campaigns, starts and stops the deciding; the heartbeat thread renews the
// lease, says how long it holds, and learns who leads while following.
#include "etcd/leader_election.hpp"

#include <spdlog/spdlog.h>

#include "etcd/etcd_store.hpp"

namespace dm::etcd {

namespace {

using clock = std::chrono::steady_clock;

std::int64_t steady_ns(clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             when.time_since_epoch())
      .count();
}

clock::time_point from_ns(std::int64_t ns) {
  return clock::time_point(std::chrono::nanoseconds(ns));
}

} // namespace

std::chrono::milliseconds deciding_margin(std::chrono::seconds ttl) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 4;
}

std::chrono::milliseconds renew_interval(std::chrono::seconds ttl) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 6;
}

leader_election::leader_election(
    std::shared_ptr<client> etcd, election_options options,
    replica_role_board& board,
    std::function<bool(const leadership&)> on_elected,
    std::function<void()> on_deposed)
    : etcd_(std::move(etcd)), options_(std::move(options)), board_(board),
      on_elected_(std::move(on_elected)), on_deposed_(std::move(on_deposed)) {
  board_.set_self(options_.advertise);
}

leader_election::~leader_election() {
  stop();
}

void leader_election::start() {
  campaign_thread_ = std::thread([this] { campaign_loop(); });
  heartbeat_thread_ = std::thread([this] { heartbeat_loop(); });
}

void leader_election::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_)
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (campaign_thread_.joinable())
    campaign_thread_.join();
  if (heartbeat_thread_.joinable())
    heartbeat_thread_.join();
}

bool leader_election::pause(std::chrono::milliseconds period) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, period,
                 [this] { return stopping_.load() || lease_lost_.load(); });
  return !stopping_;
}

void leader_election::step_down(const std::string& why) {
  leading_ = false;
  board_.become_follower("");
  spdlog::warn("role: follower (stepped down as leader: {})", why);
  on_deposed_();
}

void leader_election::campaign_loop() {
  const auto name = election_name(options_.prefix);
  std::string error;
  std::string last_error;
  while (!stopping_) {
    lease_lost_ = false;
    std::int64_t lease = 0;
    auto sent = clock::now();
    if (!etcd_->grant_lease(options_.lease_ttl.count(), lease, error)) {
      if (error != last_error)
        spdlog::error("election: no lease from etcd: {}", error);
      last_error = error;
      pause(std::chrono::milliseconds(500));
      continue;
    }
    last_error.clear();
    valid_until_ns_ = steady_ns(sent + options_.lease_ttl -
                                deciding_margin(options_.lease_ttl));
    lease_ = lease;
    wake_.notify_all();
    leader_key key;
    // Blocks while another leads; given up when the lease is lost.
    std::atomic<bool> give_up{false};
    std::thread watcher([&] {
      while (!stopping_ && !lease_lost_ && !give_up)
        pause(std::chrono::milliseconds(100));
      give_up = true;
    });
    bool elected =
        etcd_->campaign(name, lease, options_.advertise, give_up, key, error);
    give_up = true;
    wake_.notify_all();
    watcher.join();
    if (elected && !stopping_ && !lease_lost_ &&
        clock::now() < from_ns(valid_until_ns_)) {
      leadership held;
      held.fence = txn_guard{key.key, key.revision};
      held.lease = lease;
      spdlog::info("election: won (leader key {}, revision {}); loading the "
                   "state",
                   key.key, key.revision);
      if (on_elected_(held)) {
        leading_ = true;
        board_.become_leader(from_ns(valid_until_ns_.load()));
        spdlog::warn("role: leader (advertised as {})", options_.advertise);
        while (pause(std::chrono::milliseconds(200)) && !lease_lost_) {
        }
        step_down(stopping_ ? "shutting down"
                            : "its lease could not be renewed in time");
      } else {
        spdlog::error("election: won, but cannot lead: giving it up");
        on_deposed_();
        // Another replica may load what this one could not; if none can,
        // retry at a pace the log can bear.
        lease_ = 0;
        std::string revoke_error;
        etcd_->revoke_lease(lease, revoke_error);
        pause(std::chrono::seconds(2));
        continue;
      }
    } else if (!elected && !stopping_ && !lease_lost_) {
      spdlog::error("election: {}", error);
    }
    lease_ = 0;
    std::string revoke_error;
    if (!etcd_->revoke_lease(lease, revoke_error))
      spdlog::debug("election: lease not revoked ({}); it expires",
                    revoke_error);
    if (!stopping_)
      pause(std::chrono::milliseconds(100));
  }
}

void leader_election::heartbeat_loop() {
  const auto name = election_name(options_.prefix);
  const auto interval = renew_interval(options_.lease_ttl);
  const auto margin = deciding_margin(options_.lease_ttl);
  std::string error;
  while (!stopping_) {
    auto lease = lease_.load();
    if (lease != 0 && !lease_lost_) {
      auto sent = clock::now();
      std::int64_t ttl = 0;
      if (etcd_->keep_alive(lease, ttl, error)) {
        if (ttl > 0 && lease == lease_.load()) {
          auto until = sent + std::chrono::seconds(ttl) - margin;
          valid_until_ns_ = steady_ns(until);
          if (leading_)
            board_.extend(until);
        } else if (ttl <= 0 && lease == lease_.load()) {
          spdlog::warn("election: lease {} is gone", lease);
          lease_lost_ = true;
        }
      } else if (lease == lease_.load()) {
        spdlog::warn("election: lease not renewed: {}", error);
      }
      if (lease == lease_.load() &&
          clock::now() >= from_ns(valid_until_ns_.load()))
        lease_lost_ = true;
      if (lease_lost_)
        wake_.notify_all();
    }
    if (!leading_) {
      key_value leader;
      bool none = false;
      if (etcd_->leader(name, leader, none, error)) {
        std::string address = none ? "" : leader.value;
        auto role = board_.get();
        if (!role.leader && address != role.leader_address) {
          board_.set_leader(address);
          spdlog::info("role: follower; leader {}",
                       address.empty() ? "none" : address);
        }
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, interval, [this] { return stopping_.load(); });
  }
}

} // namespace dm::etcd

// Three replicas of the real server on a real three-member etcd cluster,
// all on loopback: start, find the leader, kill, pause and resume replicas
// and etcd members, stop.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/etcd_cluster.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dm::test {

// What /api/v1/state of one replica says of its role.
struct replica_view {
  bool answered = false;
  std::string role; // "leader" or "follower"
  std::string leader;
};

class replica_set {
public:
  // `binary`: the server; `lease_ttl` as the -etcdLeaseTTL flag ("2s").
  explicit replica_set(const std::string& binary, std::size_t replicas = 3,
                       std::string lease_ttl = "2s");
  ~replica_set();

  bool start(std::string& error);
  // The index of the replica that says it leads, once exactly one running
  // replica does and every other running one names it; nullopt if that
  // does not happen within `wait`.
  std::optional<std::size_t>
  wait_for_leader(std::chrono::seconds wait = std::chrono::seconds(30));

  server_process& replica(std::size_t index) { return *replicas_[index]; }
  std::size_t size() const { return replicas_.size(); }
  etcd_cluster& etcd() { return etcd_; }
  std::string address(std::size_t index) const;
  replica_view view(std::size_t index);

  void pause(std::size_t index);  // SIGSTOP
  void resume(std::size_t index); // SIGCONT
  std::string logs() const;

private:
  temp_dir dir_;
  etcd_cluster etcd_;
  std::vector<std::unique_ptr<server_process>> replicas_;
  std::string lease_ttl_;
};

} // namespace dm::test

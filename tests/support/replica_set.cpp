// Replicas for end-to-end tests.
#include "tests/support/replica_set.hpp"

#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/http_client.hpp"

namespace dm::test {

replica_set::replica_set(const std::string& binary, std::size_t replicas,
                         std::string lease_ttl)
    : etcd_(3), lease_ttl_(std::move(lease_ttl)) {
  for (std::size_t i = 0; i < replicas; ++i) {
    auto replica = std::make_unique<server_process>(
        binary, dir_.file("replica" + std::to_string(i)));
    replicas_.push_back(std::move(replica));
  }
}

replica_set::~replica_set() {
  for (auto& replica : replicas_) {
    if (replica->pid() > 0)
      ::kill(replica->pid(), SIGCONT);
    replica->kill_hard();
  }
  etcd_.stop();
}

std::string replica_set::address(std::size_t index) const {
  return "127.0.0.1:" + std::to_string(replicas_[index]->port());
}

bool replica_set::start(std::string& error) {
  if (!etcd_.start(error))
    return false;
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    replicas_[i]->add_args({"-etcdEndpoints=" + etcd_.endpoints(),
                            "-etcdLeaseTTL=" + lease_ttl_,
                            "-advertiseAddress=" + address(i)});
    if (!replicas_[i]->start()) {
      error = "replica " + std::to_string(i) + " did not start:\n" +
              replicas_[i]->log_text();
      return false;
    }
  }
  return true;
}

replica_view replica_set::view(std::size_t index) {
  replica_view out;
  if (!replicas_[index]->running())
    return out;
  auto answer = http_get(replicas_[index]->port(), "/api/v1/state");
  if (answer.status != 200)
    return out;
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("Replica"))
    return out;
  out.answered = true;
  out.role = parsed["Replica"].value("Role", "");
  out.leader = parsed["Replica"].value("Leader", "");
  return out;
}

std::optional<std::size_t>
replica_set::wait_for_leader(std::chrono::seconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<std::size_t> leader;
    bool agreed = true;
    std::vector<replica_view> views;
    for (std::size_t i = 0; i < replicas_.size(); ++i)
      views.push_back(view(i));
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
      if (views[i].role == "leader") {
        if (leader)
          agreed = false;
        leader = i;
      }
    }
    if (leader && agreed) {
      for (std::size_t i = 0; i < replicas_.size(); ++i)
        if (replicas_[i]->running() && i != *leader &&
            views[i].leader != address(*leader))
          agreed = false;
      if (agreed)
        return leader;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

void replica_set::pause(std::size_t index) {
  ::kill(replicas_[index]->pid(), SIGSTOP);
}

void replica_set::resume(std::size_t index) {
  ::kill(replicas_[index]->pid(), SIGCONT);
}

std::string replica_set::logs() const {
  std::string out;
  for (std::size_t i = 0; i < replicas_.size(); ++i)
    out += "--- replica " + std::to_string(i) + "\n" + replicas_[i]->log_text();
  return out;
}

} // namespace dm::test

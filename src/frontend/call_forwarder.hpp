// A follower's way to the leader: calls it admitted go, signed, over a few
// persistent connections to the leader's advertised address, and the
// leader's answers come back through each call's reply_to. Its threads
// block on the network; the I/O threads only queue.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/messages.hpp"
#include "metrics/replica_role_board.hpp"

namespace dm {

class call_forwarder {
public:
  // `secret`: the replicas' shared secret; `connections` threads, each
  // with its own connection to the leader.
  call_forwarder(std::shared_ptr<const replica_role_board> role,
                 std::string secret, std::size_t connections = 4,
                 std::chrono::seconds timeout = std::chrono::seconds(15));
  ~call_forwarder();
  call_forwarder(const call_forwarder&) = delete;
  call_forwarder& operator=(const call_forwarder&) = delete;

  // Sends `call` (its reply set) to the leader; it is always answered: the
  // leader's answer, or an error saying why the leader could not be asked.
  void forward(disruption_call call);
  void stop();

private:
  void work();

  std::shared_ptr<const replica_role_board> role_;
  std::string secret_;
  std::chrono::seconds timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<disruption_call> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace dm

// Forwarding threads: one keep-alive HTTP connection each, to whichever
// replica leads, made again when the leader changes.
#include "frontend/call_forwarder.hpp"

#include <httplib.h>

#include "frontend/forwarded_call.hpp"

namespace dm {

namespace {

// host:port (or [v6]:port) into its parts; false when it is not one.
bool split_address(const std::string& address, std::string& host, int& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 >= address.size())
    return false;
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  return !host.empty() && port > 0 && port < 65536;
}

call_result failed(std::string why) {
  call_result result;
  result.error = std::move(why);
  return result;
}

} // namespace

call_forwarder::call_forwarder(std::shared_ptr<const replica_role_board> role,
                               std::string secret, std::size_t connections,
                               std::chrono::seconds timeout)
    : role_(std::move(role)), secret_(std::move(secret)), timeout_(timeout) {
  for (std::size_t i = 0; i < connections; ++i)
    threads_.emplace_back([this] { work(); });
}

call_forwarder::~call_forwarder() {
  stop();
}

void call_forwarder::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_)
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_)
    thread.join();
  // What was not sent is answered (as dropped) when its reply goes.
  queue_.clear();
}

void call_forwarder::forward(disruption_call call) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(call));
  }
  wake_.notify_one();
}

void call_forwarder::work() {
  std::unique_ptr<httplib::Client> client;
  std::string connected_to;
  for (;;) {
    disruption_call call;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    auto leader = role_->get().leader_address;
    std::string host;
    int port = 0;
    if (leader.empty()) {
      call.reply.answer(failed("no leader elected yet (replicas are electing "
                               "one); try again"));
      continue;
    }
    if (!split_address(leader, host, port)) {
      call.reply.answer(
          failed("the leader's address " + leader + " is not host:port"));
      continue;
    }
    if (!client || connected_to != leader) {
      client = std::make_unique<httplib::Client>(host, port);
      client->set_keep_alive(true);
      // A call is one small request and one small answer on a kept
      // connection: without TCP_NODELAY each waits out the peer's delayed
      // ACK (about 40 ms a call).
      client->set_tcp_nodelay(true);
      client->set_connection_timeout(std::chrono::seconds(2));
      client->set_read_timeout(timeout_);
      client->set_write_timeout(timeout_);
      connected_to = leader;
    }
    auto body = encode_forwarded_call(call);
    auto time =
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
    httplib::Headers headers = {{std::string(replica_time_header), time},
                                {std::string(replica_signature_header),
                                 replica_signature(secret_, time, body)}};
    auto answer = client->Post(std::string(forwarded_call_path), headers, body,
                               "application/json");
    if (!answer) {
      client.reset(); // a new connection next time
      call.reply.answer(failed("the leader " + leader + " cannot be reached: " +
                               httplib::to_string(answer.error()) +
                               "; try again"));
      continue;
    }
    call_result result;
    std::string error;
    if (answer->status != 200 ||
        !decode_forwarded_result(answer->body, result, error)) {
      call.reply.answer(failed("the leader " + leader + " answered HTTP " +
                               std::to_string(answer->status) +
                               " to a forwarded call; try again"));
      continue;
    }
    call.reply.answer(std::move(result));
  }
}

} // namespace dm

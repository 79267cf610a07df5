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

// A kept connection to the leader at host:port.
std::unique_ptr<httplib::Client>
leader_client(const std::string& host, int port, std::chrono::seconds timeout) {
  auto client = std::make_unique<httplib::Client>(host, port);
  client->set_keep_alive(true);
  // A call is one small request and one small answer on a kept
  // connection: without TCP_NODELAY each waits out the peer's delayed
  // ACK (about 40 ms a call).
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(std::chrono::seconds(2));
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  return client;
}

// The headers that sign `body`, the next message of `signer`, for `to`.
httplib::Headers signed_headers(replica_signer& signer, const std::string& to,
                                const std::string& body) {
  httplib::Headers headers;
  for (auto& [name, value] : signer.sign(to, body))
    headers.emplace(std::move(name), std::move(value));
  return headers;
}

call_result failed(std::string why) {
  call_result result;
  result.error = std::move(why);
  result.not_leader = true;
  return result;
}

} // namespace

call_forwarder::call_forwarder(std::shared_ptr<const replica_role_board> role,
                               std::string secret, std::size_t connections,
                               std::chrono::seconds timeout)
    : role_(std::move(role)), signer_(std::move(secret)), timeout_(timeout) {
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
    queue_.emplace_back(std::move(call));
  }
  wake_.notify_one();
}

void call_forwarder::forward_admin(admin_command cmd,
                                   std::function<void(admin_result)> reply) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back(admin_job{std::move(cmd), std::move(reply)});
  }
  wake_.notify_one();
}

void call_forwarder::work() {
  std::unique_ptr<httplib::Client> client;
  std::string connected_to;
  for (;;) {
    job next;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    auto* call = std::get_if<disruption_call>(&next);
    auto* admin = std::get_if<admin_job>(&next);
    auto fail = [&](std::string why) {
      if (call) {
        call->reply.answer(failed(std::move(why)));
      } else {
        admin_result refused;
        refused.status = 503;
        refused.error = std::move(why);
        admin->reply(std::move(refused));
      }
    };
    auto leader = role_->get().leader_address;
    std::string host;
    int port = 0;
    if (leader.empty()) {
      fail("no leader elected yet (replicas are electing one); try again");
      continue;
    }
    if (!split_address(leader, host, port)) {
      fail("the leader's address " + leader + " is not host:port");
      continue;
    }
    if (!client || connected_to != leader) {
      client = leader_client(host, port, timeout_);
      connected_to = leader;
    }
    auto body = call ? encode_forwarded_call(*call)
                     : encode_forwarded_admin(admin->cmd);
    auto answer = client->Post(
        std::string(call ? forwarded_call_path : forwarded_admin_path),
        signed_headers(signer_, leader, body), body, "application/json");
    if (!answer) {
      client.reset(); // a new connection next time
      fail("the leader " + leader + " cannot be reached: " +
           httplib::to_string(answer.error()) + "; try again");
      continue;
    }
    if (admin) {
      // The leader's answer as the admin API gave it; only the channel's
      // own refusal is not the caller's to see as such.
      if (answer->status == 403) {
        fail("the leader " + leader + " refused a forwarded command (HTTP " +
             "403); try again");
        continue;
      }
      admin_result relayed;
      relayed.status = answer->status;
      if (answer->status == 200) {
        relayed.relayed = answer->body;
      } else {
        relayed.error = answer->body;
        while (!relayed.error.empty() && relayed.error.back() == '\n')
          relayed.error.pop_back();
      }
      admin->reply(std::move(relayed));
      continue;
    }
    call_result result;
    std::string error;
    if (answer->status != 200 ||
        !decode_forwarded_result(answer->body, result, error)) {
      fail("the leader " + leader + " answered HTTP " +
           std::to_string(answer->status) + " to a forwarded call; try again");
      continue;
    }
    call->reply.answer(std::move(result));
  }
}

struct revision_barrier::connection {
  std::unique_ptr<httplib::Client> client;
  std::string leader;
};

revision_barrier::revision_barrier(
    std::shared_ptr<const replica_role_board> role, std::string secret,
    std::chrono::seconds timeout)
    : role_(std::move(role)), signer_(std::move(secret)), timeout_(timeout),
      connection_(std::make_unique<connection>()) {
  thread_ = std::thread([this] { work(); });
}

revision_barrier::~revision_barrier() {
  stop();
}

void revision_barrier::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_)
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

std::uint64_t revision_barrier::ask() {
  // Read before the flag is raised: the round of this number is numbered
  // (and so sent) only after this check arrived.
  auto wanted_round = next_.load(std::memory_order_seq_cst);
  if (!wanted_.exchange(true, std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_one();
  }
  return wanted_round;
}

revision_barrier::round revision_barrier::completed() const {
  round r;
  r.number = completed_.load(std::memory_order_acquire);
  r.revision = completed_revision_.load(std::memory_order_acquire);
  return r;
}

void revision_barrier::work() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || wanted_.load(); });
      if (stopping_)
        return;
    }
    wanted_.store(false, std::memory_order_seq_cst);
    auto number = next_.fetch_add(1, std::memory_order_seq_cst);
    auto revision = ask_leader();
    completed_revision_.store(revision, std::memory_order_release);
    completed_.store(number, std::memory_order_release);
    if (done_)
      done_();
  }
}

std::int64_t revision_barrier::ask_leader() {
  auto leader = role_->get().leader_address;
  std::string host;
  int port = 0;
  if (leader.empty() || !split_address(leader, host, port))
    return -1;
  auto& c = *connection_;
  if (!c.client || c.leader != leader) {
    c.client = leader_client(host, port, timeout_);
    c.leader = leader;
  }
  const std::string body = "{}";
  auto answer = c.client->Post(std::string(leader_revision_path),
                               signed_headers(signer_, leader, body), body,
                               "application/json");
  if (!answer) {
    c.client.reset();
    return -1;
  }
  std::int64_t revision = -1;
  if (answer->status != 200 || !decode_leader_revision(answer->body, revision))
    return -1;
  return revision;
}

} // namespace dm

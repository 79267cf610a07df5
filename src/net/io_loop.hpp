// One I/O thread: an epoll loop that accepts from the shared listening
// socket, reads and writes its connections, and runs each connection's
// protocol. Answers from the actors come back through its reply sink.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <functional>
#include <variant>
#include <vector>

#include "actors/front_desk.hpp"
#include "frontend/answer_replica.hpp"
#include "actors/interfaces.hpp"
#include "net/host_resolver.hpp"
#include "tls/peer_identity.hpp"
#include "tls/tls_context.hpp"
#include "tls/tls_session.hpp"

namespace dm {

class connection;
class io_loop;

// What speaks on a connection: HTTP, SRPC, or the first-bytes detector.
class protocol {
public:
  virtual ~protocol() = default;
  // New bytes are in the connection's input.
  virtual void on_input(connection& conn) = 0;
  // Answers to what this protocol asked the loop for.
  virtual void on_call_result(connection&, call_result) {}
  virtual void on_state(connection&, state_view) {}
  virtual void on_resolved(connection&, std::vector<std::string>, std::string) {
  }
};

// Limits that keep one client from holding more than its share.
struct connection_limits {
  std::size_t max_connections = 10000;
  // Checked once a second.
  std::chrono::milliseconds idle_timeout{
      120'000}; // nothing in flight, no bytes
  std::chrono::milliseconds request_timeout{10'000}; // a started request ends
  std::chrono::milliseconds tls_handshake_timeout{60'000}; // from its start
  std::size_t max_output_bytes = 8u << 20; // unread answers before closing
  // Reading pauses while this much input waits (pipelined requests behind
  // a pending answer) or a quarter of max_output_bytes is unsent.
  std::size_t max_buffered_input = 2u << 20;
};

// A producer's pieces should be about this size: the loop asks for the next
// one when less than this is waiting to be sent.
constexpr std::size_t body_piece_bytes = 64 * 1024;

class connection {
public:
  std::uint64_t id = 0;
  int fd = -1;
  std::string peer_address; // numeric, IPv4-mapped addresses unmapped
  io_loop* loop = nullptr;
  std::string input;    // plaintext from the client
  std::string output;   // plaintext to the client
  std::string wire_out; // bytes for the socket (ciphertext under TLS)
  std::unique_ptr<tls_session> tls;
  bool encrypted = false;
  bool tls_pending = false; // start TLS once the current output is out
  std::uint32_t registered_events = 0; // what epoll watches for now
  bool busy = false;                   // waiting for an answer from the actors
  bool close_when_flushed = false;
  bool read_closed = false; // the client has sent all it will send
  // The rest of a long answer, made as the client reads it so that it never
  // sits in memory whole: appends the next piece to `out` and says whether
  // more remains. The loop calls it whenever less than a piece waits to be
  // sent; no further request is handled until it has returned false.
  std::function<bool(std::string& out)> body_producer;
  std::chrono::steady_clock::time_point last_activity;
  std::chrono::steady_clock::time_point request_started;
  bool request_open = false; // bytes of an unfinished request are buffered
  std::shared_ptr<const peer_identity> identity; // TLS client, if any
  std::unique_ptr<protocol> proto;
  std::unique_ptr<protocol> next_proto; // swapped in by the detector

  void send(std::string_view bytes) { output.append(bytes); }
  void close_after_send() { close_when_flushed = true; }
};

// Makes the first protocol of each new connection.
using protocol_factory = std::function<std::unique_ptr<protocol>()>;

class io_loop {
public:
  io_loop(int listen_fd, connection_limits limits, host_resolver& resolver,
          protocol_factory first_protocol,
          std::shared_ptr<std::atomic<std::size_t>> open_connections,
          std::shared_ptr<const tls_context> tls = nullptr);
  ~io_loop();
  io_loop(const io_loop&) = delete;
  io_loop& operator=(const io_loop&) = delete;

  // The sink the loop's front desk delivers snapshots to.
  std::shared_ptr<reply_sink> sink() const;
  // Where calls go (the router, each with its reply_to) and snapshots go
  // (this loop's front desk); set both before run().
  void set_actors(router_actor router, front_desk_actor desk) {
    router_ = std::move(router);
    desk_ = std::move(desk);
  }

  // Answers `check` from a replica of the durable state when it can be
  // sure (see answer_replica); call before run(). `wall_offset` turns the
  // steady clock into the actors' wall time.
  void enable_local_checks(const stored_state& initial,
                           std::chrono::nanoseconds max_duration,
                           std::chrono::nanoseconds wall_offset);
  // Feeds the replica: called on the storage thread with synced changes.
  void replicate(std::shared_ptr<const std::vector<state_change>> changes);

  // Runs until stop(); call on the loop's own thread.
  void run();
  void stop();

  // Asynchronous work for a connection's protocol; the answer arrives via
  // the protocol's on_* callbacks on this loop's thread.
  void submit_call(connection& conn, disruption_call call);
  void submit_snapshot(connection& conn);
  void resolve(connection& conn, std::string hostname);

  // TLS is configured: a ClientHello may start a connection.
  bool tls_available() const { return tls_ != nullptr; }
  // Starts TLS on the connection once the output queued so far is sent in
  // the clear; what the client sent beyond is the start of its handshake.
  void start_tls(connection& conn);

  // Replaces the connection's protocol and lets it read what is buffered.
  void switch_protocol(connection& conn, std::unique_ptr<protocol> next);

private:
  class loop_sink;
  struct resolution {
    std::vector<std::string> addresses;
    std::string error;
  };
  using answer = std::variant<call_result, state_view, resolution>;

  void accept_all();
  // Out of descriptors (or memory) for a new connection: stop watching the
  // listening socket for a while instead of spinning on it, and log once
  // per interval. resume_accepting() watches it again once the pause ends.
  void pause_accepting(int error);
  void resume_accepting();
  // The epoll_wait timeout: a second, or less while accepting is paused.
  int wait_timeout_ms() const;
  void on_readable(connection& conn);
  void flush(connection& conn);
  // Encrypts and sends what it can; false if that closed the connection.
  bool send_output(connection& conn);
  void close(connection& conn);
  void update_interest(connection& conn);
  void drain_answers();
  void apply_replica_updates();
  void sweep_timeouts();
  void process_input(connection& conn);
  void ingest(connection& conn, const char* data, std::size_t size);
  void begin_tls(connection& conn);

  int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  connection_limits limits_;
  host_resolver& resolver_;
  protocol_factory first_protocol_;
  std::shared_ptr<std::atomic<std::size_t>> open_connections_;
  std::shared_ptr<loop_sink> sink_;
  std::shared_ptr<const tls_context> tls_;
  router_actor router_;
  front_desk_actor desk_;
  std::unordered_map<std::uint64_t, std::unique_ptr<connection>> connections_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> stopping_{false};
  std::vector<std::uint64_t> closing_;
  // Accept back-off (see pause_accepting).
  bool accept_paused_ = false;
  std::chrono::milliseconds accept_pause_{0};
  std::chrono::steady_clock::time_point accept_resume_at_{};
  std::chrono::steady_clock::time_point accept_logged_at_{};
  std::uint64_t accept_failures_unlogged_ = 0;
  // Connections whose produced body has ended with requests behind it.
  std::vector<std::uint64_t> resuming_;
  std::optional<answer_replica> replica_;
  std::chrono::nanoseconds wall_offset_{0};
  std::mutex replica_mutex_;
  std::atomic<bool> replica_updates_{false};
  std::vector<std::shared_ptr<const std::vector<state_change>>> replica_queue_;
};

} // namespace dm

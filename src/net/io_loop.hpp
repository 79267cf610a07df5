// One I/O thread: an epoll loop that accepts from the shared listening
// socket, reads and writes its connections, runs TLS, applies back-pressure
// and timeouts. What the bytes mean is the business of the layer above
// (the front end): the loop hands each connection's input to its handler
// and wakes that layer when another thread asks it to.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls/peer_identity.hpp"
#include "tls/tls_context.hpp"
#include "tls/tls_session.hpp"

namespace dm {

class connection;

// Limits that keep one client from holding more than its share.
struct connection_limits {
  std::size_t max_connections = 10000;
  // Checked once a second.
  std::chrono::milliseconds idle_timeout{
      120'000}; // nothing in flight, no bytes
  // Each phase of reading (a TLS handshake, a request head, a body, an
  // SRPC value) ends within this from its first byte.
  std::chrono::milliseconds request_timeout{10'000};
  // A TLS handshake ends within this too (-srpcDefaultTlsHandshakeTimeout):
  // whichever is shorter.
  std::chrono::milliseconds tls_handshake_timeout{60'000};
  std::size_t max_output_bytes = 8u << 20; // unread answers before closing
  // Reading pauses while this much input waits (pipelined requests behind
  // a pending answer) or a quarter of max_output_bytes is unsent.
  std::size_t max_buffered_input = 2u << 20;
  // A lingering close (see `lingering`): how long the client's further
  // bytes are read and dropped, at most in all and without any arriving,
  // and how many at most.
  std::chrono::milliseconds linger_time{30'000};
  std::chrono::milliseconds linger_quiet{5'000};
  std::size_t linger_bytes = 64u << 20;
};

// A producer's pieces should be about this size: the loop asks for the next
// one when less than this is waiting to be sent.
constexpr std::size_t body_piece_bytes = 64 * 1024;

// The rest of a long answer, made as the client reads it so that it never
// sits in memory whole: appends the next piece to `out` and says whether
// more remains.
using body_producer = std::function<bool(std::string& out)>;

// What a connection is doing. Exactly one at a time; the moves allowed are
// those of `may_move` (any other is a bug and asserts in debug builds):
//
//   idle       nothing unfinished is buffered and nothing is awaited. Only
//              the idle timeout applies. -> any state
//   handshake  a TLS handshake has begun (its first byte came) and is not
//              done; deadline: request_timeout (or tls_handshake_timeout,
//              if shorter) from that byte.
//              -> idle, reading, closing, closed
//   reading    the handler stopped in the middle of a unit of input (a
//              request head, a body, an SRPC value); deadline:
//              request_timeout from the unit's first byte. A new unit
//              restarts the clock. -> idle, reading, awaiting, producing,
//              closing, closed
//   awaiting   the handler waits for an answer (a call, a snapshot, a name
//              look-up); input is buffered but not handed over, no deadline.
//              -> idle (answered), closing, closed
//   producing  a long answer is written as the client reads it; input waits
//              until it ends. -> idle (ended), closing, closed
//   closing    the output queued (and a produced body, if any) is the last;
//              the connection closes once it is sent. Input is ignored.
//              -> lingering (when asked, see close_after_send_lingering),
//              closed
//   lingering  the last answer is out and our sending side shut; what the
//              client still sends is read and dropped until it closes, or
//              linger_time (linger_quiet without a byte, linger_bytes) has
//              passed. -> closed
//   closed     the socket is closed; the object goes at the round's end.
//
// Facts orthogonal to the state stay apart: whether the client has shut
// its sending side (read_closed), whether TLS is on (encrypted), what epoll
// watches.
enum class connection_state : std::uint8_t {
  idle,
  handshake,
  reading,
  awaiting,
  producing,
  closing,
  lingering,
  closed
};

bool may_move(connection_state from, connection_state to);
std::string_view to_string(connection_state state);

// The layer above one connection.
class connection_handler {
public:
  virtual ~connection_handler() = default;
  // Buffered input may be handled (the state is idle or reading). Returns a
  // mark of the unit of input left unfinished, 0 when none: a mark other
  // than the last one starts a new reading phase with its own deadline.
  virtual std::uint64_t on_input(connection& conn) = 0;
};

class connection {
public:
  std::uint64_t id() const { return id_; }
  connection_state state() const { return state_; }
  bool open() const { return state_ != connection_state::closed; }
  // Whether the handler may take the next unit of input now.
  bool takes_input() const {
    return state_ == connection_state::idle ||
           state_ == connection_state::reading;
  }
  const std::string& peer_address() const { return peer_address_; }
  bool encrypted() const { return tls_ != nullptr; }
  // The TLS client's certificate, once the handshake is done.
  const peer_identity* identity() const { return identity_.get(); }

  // Plaintext from the client; the handler consumes from the front.
  std::string& input() { return input_; }
  // Plaintext to the client.
  std::string& output() { return output_; }

  connection_handler& handler() { return *handler_; }

  // The handler's moves.
  // Waits for an answer: input is held back until answered().
  void await_answer() { move_to(connection_state::awaiting); }
  // The output queued so far is the last; then the connection closes.
  void close_after_send() {
    if (open() && state_ != connection_state::closing &&
        state_ != connection_state::lingering)
      move_to(connection_state::closing);
  }
  // The same after an error answer to a request whose rest will not be
  // read: the connection then closes lingering, so that the client, still
  // sending, gets the answer rather than a reset.
  void close_after_send_lingering() {
    linger_on_close_ = true;
    close_after_send();
  }
  // The rest of the answer comes from `producer`, as the client reads; no
  // further input is handed over until it has returned false.
  void produce(body_producer producer);

private:
  friend class io_loop;
  void move_to(connection_state next);

  std::uint64_t id_ = 0;
  int fd_ = -1;
  connection_state state_ = connection_state::idle;
  bool read_closed_ = false;            // the client has sent all it will send
  std::uint32_t registered_events_ = 0; // what epoll watches for now
  std::uint64_t unit_mark_ = 0;         // the unit being read, when reading
  bool linger_on_close_ = false;        // close_after_send_lingering
  std::size_t lingered_bytes_ = 0;      // dropped while lingering
  int moving_to_fd_ = -1;               // see io_loop::move_to_socket
  std::string peer_address_; // numeric, IPv4-mapped addresses unmapped
  std::string input_;
  std::string output_;
  std::string wire_out_; // bytes for the socket (ciphertext under TLS)
  std::unique_ptr<tls_session> tls_;
  std::shared_ptr<const peer_identity> identity_;
  body_producer producer_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point phase_started_; // handshake, reading
  std::unique_ptr<connection_handler> handler_;
};

// What the loop asks of the layer above it.
class loop_client {
public:
  virtual ~loop_client() = default;
  // The handler of a new connection.
  virtual std::unique_ptr<connection_handler> open(connection& conn) = 0;
  // At the start of each round, before any event of it.
  virtual void on_round() = 0;
  // After wake(), on the loop's thread.
  virtual void on_wake() = 0;
};

class io_loop {
public:
  io_loop(int listen_fd, connection_limits limits, loop_client& client,
          std::shared_ptr<std::atomic<std::size_t>> open_connections,
          std::shared_ptr<const tls_context> tls = nullptr);
  ~io_loop();
  io_loop(const io_loop&) = delete;
  io_loop& operator=(const io_loop&) = delete;

  // Runs until stop(); call on the loop's own thread.
  void run();
  // Both are safe from any thread.
  void stop();
  void wake();

  // An open connection by id, or nullptr (closed, or never was).
  connection* find(std::uint64_t id);
  // The answer the connection awaited has come: it is idle again. Call
  // before handing the answer to its handler, then resume().
  void answered(connection& conn);
  // After something other than input changed the connection (an answer
  // was handled): hands over buffered input if it may, and sends.
  void resume(connection& conn);

  // TLS is configured: a ClientHello may start a connection.
  bool tls_available() const { return tls_ != nullptr; }
  // Starts TLS now: the output queued so far goes in the clear; the input
  // buffered is the start of the client's handshake.
  void start_tls(connection& conn);
  // TCP keep-alive probes after `period` of quiet, then every `period`.
  void set_keep_alive(connection& conn, std::chrono::seconds period);
  // Continues the connection on `fd` (a connected socket, now the loop's)
  // once the output queued so far is sent on the current one, which then
  // closes; TLS ends with it (.LocalUpgradeToUnix moves an SRPC connection
  // to a Unix socket so).
  void move_to_socket(connection& conn, int fd);

private:
  // How long a handshake or a unit of input may take.
  std::chrono::milliseconds phase_limit(connection_state state) const;
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
  void sweep_timeouts();
  void process_input(connection& conn);
  void ingest(connection& conn, const char* data, std::size_t size);
  void erase_closed();
  void switch_socket(connection& conn);
  // Ends a connection whose last answer is out: closes, or lingers.
  void finish(connection& conn);
  void drop_lingering_input(connection& conn);

  int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  connection_limits limits_;
  loop_client& client_;
  std::shared_ptr<std::atomic<std::size_t>> open_connections_;
  std::shared_ptr<const tls_context> tls_;
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
};

} // namespace dm

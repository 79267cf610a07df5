// The seam between a connection and the protocol that speaks on it. A
// protocol (HTTP, SRPC, the first-bytes detector) is given a channel and
// sees nothing else of the connection, its I/O loop or the actors: it reads
// input, sends, asks for work (a call, a name look-up, a state snapshot)
// whose answer comes back through its on_* callbacks, and may hand the
// connection to another protocol or start TLS on it. The service implements
// the channel on top of the I/O loop (frontend/session.hpp); tests use a
// fake (tests/support/fake_channel.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/messages.hpp"
#include "net/io_loop.hpp"
#include "tls/peer_identity.hpp"

namespace dm {

class protocol;

class channel {
public:
  virtual ~channel() = default;

  // Plaintext from the client; the protocol consumes from the front.
  std::string& input() { return *input_; }
  const std::string& input() const { return *input_; }
  // Appends to what goes to the client.
  void send(std::string_view bytes) { output_->append(bytes); }
  // The same output, for encoders that write in place.
  std::string& output() { return *output_; }

  // Whether the protocol may take the next unit of input now: nothing is
  // awaited, no long answer is being produced, the connection is not
  // closing and no other protocol takes over.
  virtual bool ready() const = 0;
  // The output queued so far is the last; the connection then closes.
  virtual void close_after_send() = 0;
  // The same after an error answer to a request whose rest will not be
  // read: the connection then closes lingering (see connection_state).
  virtual void close_after_send_lingering() = 0;
  // The rest of the answer comes from `producer` as the client reads it.
  virtual void send_produced(body_producer producer) = 0;

  // The client: numeric address, and its TLS certificate once TLS is up.
  virtual const std::string& peer_address() const = 0;
  virtual const peer_identity* identity() const = 0;
  virtual bool encrypted() const = 0;
  // TCP keep-alive probes after `period` of quiet, then every `period`
  // (SRPC connections, as the original's server).
  virtual void set_keep_alive(std::chrono::seconds period) = 0;

  // Work whose answer comes later (on_call_result, on_resolved, on_state),
  // or at once from within the call. At most one at a time.
  virtual void submit_call(disruption_call call) = 0;
  virtual void resolve(std::string hostname) = 0;
  virtual void request_snapshot(gather_scope scope) = 0;
  // An operator's command, already admitted (frontend/admission.hpp); its
  // answer comes as on_admin_result.
  virtual void submit_admin(admin_command cmd) = 0;

  // TLS is configured here: a ClientHello may start a connection.
  virtual bool tls_available() const = 0;
  // Once the protocol returns from on_input: the output queued so far goes
  // in the clear, and the rest of the input is the client's TLS handshake.
  virtual void start_tls() = 0;
  // Once the protocol returns from on_input, `next` speaks on the
  // connection and reads what is left of the input.
  virtual void switch_protocol(std::unique_ptr<protocol> next) = 0;
  // Once the output queued so far is sent, the connection continues on
  // `fd` (a connected socket the channel now owns) and its socket closes,
  // TLS with it (.LocalUpgradeToUnix).
  virtual void move_to_socket(int fd) = 0;

protected:
  channel(std::string& input, std::string& output)
      : input_(&input), output_(&output) {}

private:
  std::string* input_;
  std::string* output_;
};

// What speaks on a channel.
class protocol {
public:
  virtual ~protocol() = default;
  // New input is in the channel (and the channel is ready).
  virtual void on_input(channel& ch) = 0;
  // A mark of the unit of input the protocol holds unfinished (0: none);
  // a new mark starts a new deadline (see connection_state).
  virtual std::uint64_t unfinished_unit(const channel&) const { return 0; }
  // Answers to what the protocol asked for.
  virtual void on_call_result(channel&, call_result) {}
  virtual void on_state(channel&, gathered_state) {}
  virtual void on_admin_result(channel&, admin_result) {}
  virtual void on_resolved(channel&, std::vector<std::string>, std::string) {}
};

} // namespace dm

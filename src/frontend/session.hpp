// The service's channel: one per connection, between the I/O loop's
// connection (below) and the protocol speaking on it (above). It hands the
// protocol its input, switches protocols and starts TLS when the protocol
// asks, and passes calls, look-ups and snapshot requests to the
// dispatcher, whose answers it hands back to the protocol.
#pragma once

#include <memory>

#include "frontend/channel.hpp"
#include "net/io_loop.hpp"

namespace dm {

class dispatcher;

class session final : public connection_handler, public channel {
public:
  session(connection& conn, dispatcher& owner, std::unique_ptr<protocol> first);

  // connection_handler
  std::uint64_t on_input(connection& conn) override;

  // Answers, on the loop's thread.
  void deliver(call_result result);
  void deliver(gathered_state state);
  void deliver(admin_result result);
  void deliver(std::vector<std::string> addresses, std::string error);

  // channel
  bool ready() const override { return conn_.takes_input() && !next_; }
  void close_after_send() override { conn_.close_after_send(); }
  void close_after_send_lingering() override {
    conn_.close_after_send_lingering();
  }
  void send_produced(body_producer producer) override {
    conn_.produce(std::move(producer));
  }
  const std::string& peer_address() const override {
    return conn_.peer_address();
  }
  const peer_identity* identity() const override { return conn_.identity(); }
  bool encrypted() const override { return conn_.encrypted(); }
  void set_keep_alive(std::chrono::seconds period) override;
  void submit_call(disruption_call call) override;
  void resolve(std::string hostname) override;
  void request_snapshot(gather_scope scope) override;
  void submit_admin(admin_command cmd) override;
  bool tls_available() const override;
  void start_tls() override { tls_requested_ = true; }
  void switch_protocol(std::unique_ptr<protocol> next) override {
    next_ = std::move(next);
  }
  void move_to_socket(int fd) override;

  connection& conn() { return conn_; }

private:
  connection& conn_;
  dispatcher& owner_;
  std::unique_ptr<protocol> proto_;
  std::unique_ptr<protocol> next_; // takes over when on_input returns
  bool tls_requested_ = false;     // starts when on_input returns
};

} // namespace dm

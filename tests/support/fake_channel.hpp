// A channel with no connection behind it, for protocol and admission
// tests: input is what the test feeds, output is kept, and calls, look-ups
// and snapshot requests are recorded for the test to answer. Like the
// service's channel, it is not ready while something is awaited, a body is
// produced, the connection is closing, or another protocol takes over.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "frontend/channel.hpp"
#include "tls/peer_identity.hpp"

namespace dm::test {

class fake_channel final : public channel {
public:
  fake_channel() : channel(in, out) {}

  std::string in;  // the client's bytes not yet consumed
  std::string out; // what was sent
  std::string peer = "127.0.0.1";
  std::shared_ptr<const peer_identity> peer_id; // null: no TLS client
  bool is_encrypted = false;
  bool tls_configured = false;

  // What the protocol did.
  bool closing = false;
  bool lingering = false; // closing, lingering
  bool tls_started = false;
  int moved_to_fd = -1;               // move_to_socket; the fake closes it
  std::chrono::seconds keep_alive{0}; // 0: not asked for
  body_producer producer;
  std::unique_ptr<protocol> next;
  std::vector<disruption_call> calls;
  std::vector<std::string> lookups;
  std::size_t snapshots = 0;
  std::vector<gather_scope> scopes; // of each snapshot asked for
  std::vector<admin_command> admin_commands;
  bool awaiting = false;

  bool ready() const override {
    return !awaiting && !closing && !producer && !next;
  }
  void close_after_send() override { closing = true; }
  void close_after_send_lingering() override {
    closing = true;
    lingering = true;
  }
  void send_produced(body_producer p) override { producer = std::move(p); }
  const std::string& peer_address() const override { return peer; }
  const peer_identity* identity() const override { return peer_id.get(); }
  bool encrypted() const override { return is_encrypted; }
  void set_keep_alive(std::chrono::seconds period) override {
    keep_alive = period;
  }
  void submit_call(disruption_call call) override {
    calls.push_back(std::move(call));
    awaiting = true;
  }
  void resolve(std::string hostname) override {
    lookups.push_back(std::move(hostname));
    awaiting = true;
  }
  void request_snapshot(gather_scope scope) override {
    ++snapshots;
    scopes.push_back(std::move(scope));
    awaiting = true;
  }
  void submit_admin(admin_command cmd) override {
    admin_commands.push_back(std::move(cmd));
    awaiting = true;
  }
  bool tls_available() const override { return tls_configured; }
  void start_tls() override { tls_started = true; }
  void switch_protocol(std::unique_ptr<protocol> p) override {
    next = std::move(p);
  }
  void move_to_socket(int fd) override {
    if (moved_to_fd >= 0)
      ::close(moved_to_fd);
    moved_to_fd = fd;
  }
  ~fake_channel() override {
    if (moved_to_fd >= 0)
      ::close(moved_to_fd);
  }

  // The client sends `bytes`; the protocol reads them if it may.
  void feed(protocol& p, std::string_view bytes) {
    in.append(bytes);
    if (ready())
      p.on_input(*this);
  }
  // Answers to what was awaited, then the protocol reads what waits, as
  // the I/O loop does.
  void answer_call(protocol& p, call_result result) {
    awaiting = false;
    p.on_call_result(*this, std::move(result));
    resume(p);
  }
  void answer_lookup(protocol& p, std::vector<std::string> addresses,
                     std::string error = {}) {
    awaiting = false;
    p.on_resolved(*this, std::move(addresses), std::move(error));
    resume(p);
  }
  void answer_admin(protocol& p, admin_result result) {
    awaiting = false;
    p.on_admin_result(*this, std::move(result));
    resume(p);
  }
  void answer_state(protocol& p, state_view view) {
    gathered_state whole;
    whole.view = std::make_shared<state_view>(std::move(view));
    answer_state(p, std::move(whole));
  }
  void answer_state(protocol& p, gathered_state state) {
    awaiting = false;
    p.on_state(*this, std::move(state));
    resume(p);
  }
  // Runs a produced body to its end, into the output.
  void finish_body(protocol& p) {
    while (producer && producer(out)) {
    }
    producer = nullptr;
    resume(p);
  }
  // What was sent since the last call.
  std::string take_output() {
    std::string taken;
    taken.swap(out);
    return taken;
  }

private:
  void resume(protocol& p) {
    if (ready() && !in.empty())
      p.on_input(*this);
  }
};

// A TLS client with power over the methods matching `glob`.
inline std::shared_ptr<const peer_identity>
powerful_identity(std::string glob = "DisruptionManager.*") {
  auto identity = std::make_shared<peer_identity>();
  identity->has_certificate = true;
  identity->verified = true;
  identity->username = "operator";
  identity->method_globs = {std::move(glob)};
  return identity;
}

} // namespace dm::test

// A connection's channel to its protocol.
#include "frontend/session.hpp"

#include "frontend/dispatcher.hpp"

namespace dm {

session::session(connection& conn, dispatcher& owner,
                 std::unique_ptr<protocol> first)
    : channel(conn.input(), conn.output()), conn_(conn), owner_(owner),
      proto_(std::move(first)) {
  // nop
}

std::uint64_t session::on_input(connection&) {
  proto_->on_input(*this);
  for (;;) {
    if (tls_requested_ && conn_.open()) {
      tls_requested_ = false;
      owner_.loop().start_tls(conn_);
    }
    if (!next_ || !conn_.open())
      break;
    proto_ = std::move(next_);
    if (conn_.takes_input())
      proto_->on_input(*this);
  }
  return proto_->unfinished_unit(*this);
}

void session::deliver(call_result result) {
  proto_->on_call_result(*this, std::move(result));
}

void session::deliver(gathered_state state) {
  proto_->on_state(*this, std::move(state));
}

void session::deliver(admin_result result) {
  proto_->on_admin_result(*this, std::move(result));
}

void session::deliver(std::vector<std::string> addresses, std::string error) {
  proto_->on_resolved(*this, std::move(addresses), std::move(error));
}

void session::submit_call(disruption_call call) {
  owner_.submit_call(*this, std::move(call));
}

void session::resolve(std::string hostname) {
  owner_.resolve(*this, std::move(hostname));
}

void session::request_snapshot(gather_scope scope) {
  owner_.request_snapshot(*this, std::move(scope));
}

void session::submit_admin(admin_command cmd) {
  owner_.submit_admin(*this, std::move(cmd));
}

void session::set_keep_alive(std::chrono::seconds period) {
  owner_.loop().set_keep_alive(conn_, period);
}

void session::move_to_socket(int fd) {
  owner_.loop().move_to_socket(conn_, fd);
}

bool session::tls_available() const {
  return owner_.loop().tls_available();
}

} // namespace dm

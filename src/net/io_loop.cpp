// The epoll loop. Other threads reach it only through wake(), an eventfd
// the layer above writes after queueing work for it.
#include "net/io_loop.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "metrics/service_metrics.hpp"
#include "net/host_resolver.hpp"

namespace dm {

namespace {

constexpr std::uint64_t listen_tag = 0;
constexpr std::uint64_t wake_tag = ~std::uint64_t{0};

std::string peer_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "";
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text,
              sizeof(text));
  else if (addr.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr,
              text, sizeof(text));
  return normalize_address(text);
}

} // namespace

bool may_move(connection_state from, connection_state to) {
  using s = connection_state;
  switch (from) {
  case s::idle:
    return to != s::idle && to != s::lingering;
  case s::handshake:
    return to == s::idle || to == s::reading || to == s::closing ||
           to == s::closed;
  case s::reading:
    return to != s::lingering; // reading -> reading: the next unit
  case s::awaiting:
  case s::producing:
    return to == s::idle || to == s::closing || to == s::closed;
  case s::closing:
    return to == s::lingering || to == s::closed;
  case s::lingering:
    return to == s::closed;
  case s::closed:
    return false;
  }
  return false;
}

std::string_view to_string(connection_state state) {
  switch (state) {
  case connection_state::idle:
    return "idle";
  case connection_state::handshake:
    return "handshake";
  case connection_state::reading:
    return "reading";
  case connection_state::awaiting:
    return "awaiting";
  case connection_state::producing:
    return "producing";
  case connection_state::closing:
    return "closing";
  case connection_state::lingering:
    return "lingering";
  case connection_state::closed:
    return "closed";
  }
  return "?";
}

void connection::move_to(connection_state next) {
  assert(may_move(state_, next));
  state_ = next;
}

void connection::produce(body_producer producer) {
  if (!open())
    return;
  producer_ = std::move(producer);
  if (state_ != connection_state::closing)
    move_to(connection_state::producing);
}

io_loop::io_loop(int listen_fd, connection_limits limits, loop_client& client,
                 std::shared_ptr<std::atomic<std::size_t>> open_connections,
                 std::shared_ptr<const tls_context> tls)
    : listen_fd_(listen_fd), limits_(limits), client_(client),
      open_connections_(std::move(open_connections)), tls_(std::move(tls)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = listen_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.events = EPOLLIN;
  ev.data.u64 = wake_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

io_loop::~io_loop() {
  for (auto& [id, conn] : connections_) {
    if (conn->fd_ < 0)
      continue;
    ::close(conn->fd_);
    --*open_connections_;
    --service_metrics::instance().connections_open;
  }
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

void io_loop::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

void io_loop::stop() {
  stopping_ = true;
  wake();
}

connection* io_loop::find(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->open())
    return nullptr;
  return it->second.get();
}

void io_loop::erase_closed() {
  for (auto id : closing_)
    connections_.erase(id);
  closing_.clear();
}

void io_loop::run() {
  constexpr int max_events = 256;
  epoll_event events[max_events];
  auto last_sweep = std::chrono::steady_clock::now();
  while (!stopping_) {
    int n = ::epoll_wait(epoll_fd_, events, max_events, wait_timeout_ms());
    if (n < 0 && errno != EINTR) {
      spdlog::error("epoll_wait: {}", std::strerror(errno));
      break;
    }
    client_.on_round();
    for (int i = 0; i < n; ++i) {
      auto tag = events[i].data.u64;
      if (tag == listen_tag) {
        accept_all();
        continue;
      }
      if (tag == wake_tag) {
        std::uint64_t count;
        [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof(count));
        client_.on_wake();
        continue;
      }
      auto* conn = find(tag);
      if (!conn)
        continue;
      if (events[i].events & (EPOLLHUP | EPOLLERR)) {
        // Both directions are gone: nobody will read an answer. (Checked
        // apart from EPOLLIN, which may be switched off for back-pressure.)
        close(*conn);
        continue;
      }
      if (events[i].events & EPOLLIN)
        on_readable(*conn);
      if (conn->open() && (events[i].events & EPOLLOUT))
        flush(*conn);
    }
    // Requests that waited behind a produced body, now that it is out.
    while (!resuming_.empty()) {
      auto ids = std::move(resuming_);
      resuming_.clear();
      for (auto id : ids)
        if (auto* conn = find(id))
          process_input(*conn);
    }
    erase_closed();
    if (accept_paused_)
      resume_accepting();
    auto now = std::chrono::steady_clock::now();
    if (now - last_sweep >= std::chrono::seconds(1)) {
      last_sweep = now;
      sweep_timeouts();
      erase_closed();
    }
  }
}

void io_loop::accept_all() {
  for (int i = 0; i < 64; ++i) {
    int fd =
        ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM)
        pause_accepting(errno);
      else if (errno != EAGAIN && errno != EWOULDBLOCK)
        spdlog::warn("accept: {}", std::strerror(errno));
      return;
    }
    accept_pause_ = std::chrono::milliseconds(0);
    auto& metrics = service_metrics::instance();
    if (open_connections_->fetch_add(1) >= limits_.max_connections) {
      --*open_connections_;
      ++metrics.connections_refused;
      static const char busy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 24\r\n"
          "Connection: close\r\n\r\ntoo many connections\r\n\r\n";
      [[maybe_unused]] auto w =
          ::send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_unique<connection>();
    conn->id_ = next_id_++;
    conn->fd_ = fd;
    conn->peer_address_ = peer_of(fd);
    conn->last_activity_ = std::chrono::steady_clock::now();
    conn->handler_ = client_.open(*conn);
    ++metrics.connections_accepted;
    ++metrics.connections_open;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = conn->id_;
    conn->registered_events_ = EPOLLIN;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    connections_.emplace(conn->id_, std::move(conn));
  }
}

// The connection waiting in the backlog stays there and the listening socket
// stays readable: watching it would wake this loop at once, for ever. It is
// left alone for 50 ms, doubled while accepting keeps failing, up to a
// second; the first failure is logged, then one line a minute at most with
// the count.
void io_loop::pause_accepting(int error) {
  constexpr std::chrono::milliseconds first_pause{50};
  constexpr std::chrono::milliseconds longest_pause{1000};
  constexpr std::chrono::seconds log_interval{60};
  auto now = std::chrono::steady_clock::now();
  accept_pause_ = accept_pause_.count() == 0
                      ? first_pause
                      : std::min(accept_pause_ * 2, longest_pause);
  accept_resume_at_ = now + accept_pause_;
  accept_paused_ = true;
  epoll_event ev{};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, &ev);
  ++service_metrics::instance().accept_pauses;
  ++accept_failures_unlogged_;
  if (accept_logged_at_ == std::chrono::steady_clock::time_point{} ||
      now - accept_logged_at_ >= log_interval) {
    spdlog::warn("accept: {}; not accepting for {} ms ({} such failures "
                 "since the last report; at most one report a minute)",
                 std::strerror(error), accept_pause_.count(),
                 accept_failures_unlogged_);
    accept_logged_at_ = now;
    accept_failures_unlogged_ = 0;
  }
}

void io_loop::resume_accepting() {
  if (std::chrono::steady_clock::now() < accept_resume_at_)
    return;
  accept_paused_ = false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = listen_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
}

int io_loop::wait_timeout_ms() const {
  if (!accept_paused_)
    return 1000;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      accept_resume_at_ - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count() + 1, 0, 1000));
}

void io_loop::on_readable(connection& conn) {
  if (conn.state_ == connection_state::lingering) {
    drop_lingering_input(conn);
    return;
  }
  char buffer[65536];
  bool got = false;
  while (conn.input_.size() < limits_.max_buffered_input) {
    ssize_t n = ::recv(conn.fd_, buffer, sizeof(buffer), 0);
    if (n > 0) {
      ingest(conn, buffer, static_cast<std::size_t>(n));
      if (!conn.open())
        return;
      got = true;
      if (static_cast<std::size_t>(n) < sizeof(buffer))
        break;
      continue;
    }
    if (n == 0) {
      // The peer closed its side; nothing more will come, but an answer
      // under way is still delivered (flush closes after it).
      if (conn.tls_)
        conn.tls_->feed_eof();
      conn.read_closed_ = true;
      if (conn.state_ != connection_state::awaiting && !conn.producer_)
        close(conn);
      else
        update_interest(conn);
      return;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      break;
    close(conn);
    return;
  }
  if (!got)
    return;
  conn.last_activity_ = std::chrono::steady_clock::now();
  process_input(conn);
}

void io_loop::ingest(connection& conn, const char* data, std::size_t size) {
  if (!conn.tls_) {
    conn.input_.append(data, size);
    return;
  }
  if (!conn.tls_->handshake_done() && conn.takes_input()) {
    // The handshake's first byte: its deadline starts.
    conn.move_to(connection_state::handshake);
    conn.phase_started_ = std::chrono::steady_clock::now();
  }
  conn.tls_->feed_ciphertext(data, size);
  conn.tls_->read_plaintext(conn.input_);
  if (conn.tls_->handshake_done() && !conn.identity_) {
    conn.identity_ =
        std::make_shared<const peer_identity>(conn.tls_->peer_identity());
    if (conn.state_ == connection_state::handshake)
      conn.move_to(connection_state::idle);
  }
  if (conn.tls_->failed()) {
    if (!conn.tls_->handshake_done())
      ++service_metrics::instance().tls_handshake_failures;
    spdlog::debug("TLS from {}: {}", conn.peer_address_, conn.tls_->error());
    conn.input_.clear();
    conn.producer_ = nullptr; // the session takes no more plaintext
    conn.close_after_send();
    flush(conn); // sends the alert, then closes
  }
}

void io_loop::start_tls(connection& conn) {
  conn.wire_out_ += conn.output_; // the last words in the clear
  conn.output_.clear();
  conn.tls_ = std::make_unique<tls_session>(*tls_);
  std::string early;
  early.swap(conn.input_);
  if (!early.empty())
    ingest(conn, early.data(), early.size());
}

void io_loop::process_input(connection& conn) {
  if (!conn.open())
    return;
  if (!conn.takes_input()) {
    flush(conn); // starts a body just produced; input may have to pause
    return;
  }
  auto mark = conn.handler_->on_input(conn);
  if (!conn.open())
    return;
  if (conn.takes_input()) {
    if (mark == 0) {
      if (conn.state_ == connection_state::reading)
        conn.move_to(connection_state::idle);
    } else if (conn.state_ != connection_state::reading ||
               mark != conn.unit_mark_) {
      // A unit begun: its deadline runs from now, when its first bytes
      // were handed over.
      conn.move_to(connection_state::reading);
      conn.unit_mark_ = mark;
      conn.phase_started_ = std::chrono::steady_clock::now();
    }
  }
  flush(conn);
}

void io_loop::answered(connection& conn) {
  if (conn.state_ == connection_state::awaiting)
    conn.move_to(connection_state::idle);
  conn.last_activity_ = std::chrono::steady_clock::now();
}

void io_loop::resume(connection& conn) {
  if (!conn.open())
    return;
  if (conn.takes_input() && !conn.input_.empty())
    process_input(conn);
  else
    flush(conn);
}

void io_loop::flush(connection& conn) {
  if (!conn.open() || conn.state_ == connection_state::lingering)
    return;
  bool body_ended = false;
  do {
    // A produced body grows only as fast as the client reads it.
    if (conn.producer_ &&
        conn.output_.size() + conn.wire_out_.size() < body_piece_bytes) {
      conn.last_activity_ = std::chrono::steady_clock::now();
      if (!conn.producer_(conn.output_)) {
        conn.producer_ = nullptr;
        body_ended = true;
        if (conn.state_ == connection_state::producing)
          conn.move_to(connection_state::idle);
      }
    }
    if (!send_output(conn))
      return;
    // Until the socket is full (EPOLLOUT brings us back), the next piece
    // can go at once.
  } while (conn.producer_ && conn.wire_out_.empty());
  if (conn.wire_out_.empty() && !conn.producer_ &&
      (conn.state_ == connection_state::closing ||
       (conn.read_closed_ && conn.state_ != connection_state::awaiting &&
        conn.input_.empty()))) {
    finish(conn);
    return;
  }
  if (conn.moving_to_fd_ >= 0 && conn.wire_out_.empty())
    switch_socket(conn);
  if (body_ended && !conn.input_.empty())
    resuming_.push_back(conn.id_);
  if (conn.wire_out_.size() > limits_.max_output_bytes) {
    close(conn); // The client does not read its answers.
    return;
  }
  update_interest(conn);
}

bool io_loop::send_output(connection& conn) {
  if (conn.tls_) {
    if (!conn.output_.empty() && !conn.tls_->failed())
      conn.tls_->write_plaintext(conn.output_);
    conn.output_.clear();
    if (conn.state_ == connection_state::closing && !conn.producer_ &&
        conn.tls_->handshake_done())
      conn.tls_->close();
    conn.tls_->take_ciphertext(conn.wire_out_);
    if (conn.tls_->want_close()) {
      conn.producer_ = nullptr; // the session takes no more plaintext
      conn.close_after_send();
    }
  } else {
    conn.wire_out_ += conn.output_;
    conn.output_.clear();
  }
  while (!conn.wire_out_.empty()) {
    ssize_t n = ::send(conn.fd_, conn.wire_out_.data(), conn.wire_out_.size(),
                       MSG_NOSIGNAL);
    if (n > 0) {
      conn.wire_out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    close(conn);
    return false;
  }
  return true;
}

void io_loop::update_interest(connection& conn) {
  std::uint32_t events = 0;
  // Back-pressure: no more reading while the client's requests pile up or
  // it does not read its answers.
  if (!conn.read_closed_ && conn.input_.size() < limits_.max_buffered_input &&
      conn.wire_out_.size() < limits_.max_output_bytes / 4)
    events |= EPOLLIN;
  if (!conn.wire_out_.empty())
    events |= EPOLLOUT;
  if (events == conn.registered_events_)
    return; // Saves a system call per answer on the common path.
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = conn.id_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd_, &ev);
  conn.registered_events_ = events;
}

void io_loop::move_to_socket(connection& conn, int fd) {
  if (conn.moving_to_fd_ >= 0)
    ::close(conn.moving_to_fd_);
  conn.moving_to_fd_ = fd;
}

void io_loop::switch_socket(connection& conn) {
  int fd = conn.moving_to_fd_;
  conn.moving_to_fd_ = -1;
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, (flags < 0 ? 0 : flags) | O_NONBLOCK);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd_, nullptr);
  ::close(conn.fd_);
  conn.fd_ = fd;
  conn.tls_.reset(); // the new socket is plain; the caller stays who it was
  conn.read_closed_ = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = conn.id_;
  conn.registered_events_ = EPOLLIN;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

// A lingering close, as Go's server and nginx do it: when the client may
// still be sending a request that will not be read, closing at once would
// make the kernel answer its next bytes with a reset, which fails its
// writes and can destroy the answer before the client reads it. So our
// sending side is shut (the client sees the answer end), and what still
// comes is read and dropped until the client closes, or for at most
// linger_time (linger_quiet without a byte), or linger_bytes. The
// connection counts as open meanwhile.
void io_loop::finish(connection& conn) {
  if (!conn.linger_on_close_ || conn.read_closed_ ||
      conn.state_ != connection_state::closing ||
      ::shutdown(conn.fd_, SHUT_WR) != 0) {
    close(conn);
    return;
  }
  conn.move_to(connection_state::lingering);
  conn.phase_started_ = std::chrono::steady_clock::now();
  conn.last_activity_ = conn.phase_started_;
  conn.input_.clear();
  if (conn.registered_events_ != EPOLLIN) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = conn.id_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd_, &ev);
    conn.registered_events_ = EPOLLIN;
  }
}

void io_loop::drop_lingering_input(connection& conn) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(conn.fd_, buffer, sizeof(buffer), 0);
    if (n > 0) {
      conn.lingered_bytes_ += static_cast<std::size_t>(n);
      conn.last_activity_ = std::chrono::steady_clock::now();
      if (conn.lingered_bytes_ > limits_.linger_bytes) {
        close(conn);
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    close(conn); // the client has closed too (or the socket failed)
    return;
  }
}

void io_loop::close(connection& conn) {
  if (!conn.open())
    return;
  if (conn.moving_to_fd_ >= 0) {
    ::close(conn.moving_to_fd_);
    conn.moving_to_fd_ = -1;
  }
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd_, nullptr);
  ::close(conn.fd_);
  conn.fd_ = -1;
  conn.move_to(connection_state::closed);
  --*open_connections_;
  --service_metrics::instance().connections_open;
  closing_.push_back(conn.id_);
}

std::chrono::milliseconds io_loop::phase_limit(connection_state state) const {
  if (state == connection_state::handshake)
    return std::min(limits_.request_timeout, limits_.tls_handshake_timeout);
  return limits_.request_timeout;
}

void io_loop::set_keep_alive(connection& conn, std::chrono::seconds period) {
  // TCP keep-alive probes after `period` of quiet, then every `period`.
  int one = 1;
  int seconds = static_cast<int>(
      std::clamp<std::chrono::seconds::rep>(period.count(), 1, 32767));
  ::setsockopt(conn.fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  ::setsockopt(conn.fd_, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds);
  ::setsockopt(conn.fd_, IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof seconds);
}

void io_loop::sweep_timeouts() {
  auto now = std::chrono::steady_clock::now();
  for (auto& [id, conn] : connections_) {
    switch (conn->state_) {
    case connection_state::closed:
    case connection_state::awaiting:
      continue; // An answer we owe is no client's delay.
    case connection_state::lingering:
      if (now - conn->phase_started_ > limits_.linger_time ||
          now - conn->last_activity_ > limits_.linger_quiet)
        close(*conn);
      continue;
    case connection_state::handshake:
    case connection_state::reading:
      // A handshake or a unit of input trickling in too slowly.
      if (now - conn->phase_started_ > phase_limit(conn->state_)) {
        ++service_metrics::instance().connections_timed_out;
        close(*conn);
        continue;
      }
      break;
    default:
      break;
    }
    if (now - conn->last_activity_ > limits_.idle_timeout) {
      ++service_metrics::instance().connections_timed_out;
      close(*conn);
    }
  }
}

} // namespace dm

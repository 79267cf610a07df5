// The epoll loop. Answers from actor threads are queued under a short lock
// and announced through an eventfd, written only when the queue was empty.
#include "net/io_loop.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "metrics/service_metrics.hpp"

namespace dm {

namespace {

// Wakes the loop's epoll_wait.
void wake(int wake_fd) {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof(one));
}

} // namespace

class io_loop::loop_sink final : public reply_sink {
public:
  explicit loop_sink(int wake_fd) : wake_fd_(wake_fd) {}

  void deliver(std::uint64_t ticket, call_result result) override {
    push(ticket, std::move(result));
  }
  void deliver_state(std::uint64_t ticket, state_view view) override {
    push(ticket, std::move(view));
  }
  void deliver_resolution(std::uint64_t ticket, resolution r) {
    push(ticket, std::move(r));
  }

  std::vector<std::pair<std::uint64_t, answer>> take() {
    std::vector<std::pair<std::uint64_t, answer>> taken;
    std::lock_guard<std::mutex> guard(mutex_);
    taken.swap(queue_);
    return taken;
  }

private:
  void push(std::uint64_t ticket, answer a) {
    bool was_empty;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      was_empty = queue_.empty();
      queue_.emplace_back(ticket, std::move(a));
    }
    if (was_empty)
      wake(wake_fd_);
  }

  int wake_fd_;
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, answer>> queue_;
};

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

io_loop::io_loop(int listen_fd, connection_limits limits,
                 host_resolver& resolver, protocol_factory first_protocol,
                 std::shared_ptr<std::atomic<std::size_t>> open_connections,
                 std::shared_ptr<const tls_context> tls)
    : listen_fd_(listen_fd), limits_(limits), resolver_(resolver),
      first_protocol_(std::move(first_protocol)),
      open_connections_(std::move(open_connections)), tls_(std::move(tls)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  sink_ = std::make_shared<loop_sink>(wake_fd_);
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
    if (conn->fd < 0)
      continue;
    ::close(conn->fd);
    --*open_connections_;
    --service_metrics::instance().connections_open;
  }
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

std::shared_ptr<reply_sink> io_loop::sink() const {
  return sink_;
}

void io_loop::stop() {
  stopping_ = true;
  wake(wake_fd_);
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
    // Before any input of this round: a client that heard of a change may
    // be asking about it now.
    if (replica_updates_.load(std::memory_order_acquire))
      apply_replica_updates();
    for (int i = 0; i < n; ++i) {
      auto tag = events[i].data.u64;
      if (tag == listen_tag) {
        accept_all();
        continue;
      }
      if (tag == wake_tag) {
        std::uint64_t count;
        [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof(count));
        drain_answers();
        continue;
      }
      auto it = connections_.find(tag);
      if (it == connections_.end())
        continue;
      auto& conn = *it->second;
      if (events[i].events & (EPOLLHUP | EPOLLERR)) {
        // Both directions are gone: nobody will read an answer. (Checked
        // apart from EPOLLIN, which may be switched off for back-pressure.)
        close(conn);
        continue;
      }
      if (events[i].events & EPOLLIN)
        on_readable(conn);
      if (conn.fd >= 0 && (events[i].events & EPOLLOUT))
        flush(conn);
    }
    // Requests that waited behind a produced body, now that it is out.
    while (!resuming_.empty()) {
      auto ids = std::move(resuming_);
      resuming_.clear();
      for (auto id : ids) {
        auto it = connections_.find(id);
        if (it == connections_.end() || it->second->fd < 0)
          continue;
        it->second->request_started = std::chrono::steady_clock::now();
        process_input(*it->second);
      }
    }
    for (auto id : closing_)
      connections_.erase(id);
    closing_.clear();
    if (accept_paused_)
      resume_accepting();
    auto now = std::chrono::steady_clock::now();
    if (now - last_sweep >= std::chrono::seconds(1)) {
      last_sweep = now;
      sweep_timeouts();
      for (auto id : closing_)
        connections_.erase(id);
      closing_.clear();
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
    conn->id = next_id_++;
    conn->fd = fd;
    conn->loop = this;
    conn->peer_address = peer_of(fd);
    conn->last_activity = std::chrono::steady_clock::now();
    conn->proto = first_protocol_();
    ++metrics.connections_accepted;
    ++metrics.connections_open;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = conn->id;
    conn->registered_events = EPOLLIN;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    connections_.emplace(conn->id, std::move(conn));
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
  char buffer[65536];
  bool got = false;
  while (conn.input.size() < limits_.max_buffered_input) {
    ssize_t n = ::recv(conn.fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      ingest(conn, buffer, static_cast<std::size_t>(n));
      if (conn.fd < 0)
        return;
      got = true;
      if (static_cast<std::size_t>(n) < sizeof(buffer))
        break;
      continue;
    }
    if (n == 0) {
      // The peer closed its side; nothing more will come, but an answer
      // under way is still delivered (flush closes after it).
      if (conn.tls)
        conn.tls->feed_eof();
      conn.read_closed = true;
      if (!conn.busy && !conn.body_producer)
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
  conn.last_activity = std::chrono::steady_clock::now();
  if (!conn.request_open) {
    conn.request_open = true;
    conn.request_started = conn.last_activity;
  }
  process_input(conn);
}

void io_loop::ingest(connection& conn, const char* data, std::size_t size) {
  if (!conn.tls) {
    conn.input.append(data, size);
    return;
  }
  conn.tls->feed_ciphertext(data, size);
  conn.tls->read_plaintext(conn.input);
  if (conn.tls->handshake_done() && !conn.identity)
    conn.identity =
        std::make_shared<const peer_identity>(conn.tls->peer_identity());
  if (conn.tls->failed()) {
    if (!conn.tls->handshake_done())
      ++service_metrics::instance().tls_handshake_failures;
    spdlog::debug("TLS from {}: {}", conn.peer_address, conn.tls->error());
    conn.input.clear();
    conn.close_when_flushed = true;
    flush(conn); // sends the alert, then closes
  }
}

void io_loop::start_tls(connection& conn) {
  conn.tls_pending = true;
}

void io_loop::begin_tls(connection& conn) {
  conn.tls_pending = false;
  conn.wire_out += conn.output; // the last words in the clear
  conn.output.clear();
  conn.tls = std::make_unique<tls_session>(*tls_);
  conn.encrypted = true;
  std::string early;
  early.swap(conn.input);
  if (!early.empty())
    ingest(conn, early.data(), early.size());
}

void io_loop::process_input(connection& conn) {
  if (conn.fd < 0)
    return;
  if (conn.busy || conn.close_when_flushed || conn.body_producer) {
    flush(conn); // starts a body just produced; input may have to pause
    return;
  }
  conn.proto->on_input(conn);
  if (conn.tls_pending && conn.fd >= 0)
    begin_tls(conn);
  while (conn.next_proto && conn.fd >= 0) {
    conn.proto = std::move(conn.next_proto);
    conn.proto->on_input(conn);
    if (conn.tls_pending && conn.fd >= 0)
      begin_tls(conn);
  }
  if (conn.input.empty() && !conn.busy)
    conn.request_open = false;
  flush(conn);
}

void io_loop::switch_protocol(connection& conn,
                              std::unique_ptr<protocol> next) {
  conn.next_proto = std::move(next);
}

void io_loop::flush(connection& conn) {
  if (conn.fd < 0)
    return;
  bool body_ended = false;
  do {
    // A produced body grows only as fast as the client reads it.
    if (conn.body_producer &&
        conn.output.size() + conn.wire_out.size() < body_piece_bytes) {
      conn.last_activity = std::chrono::steady_clock::now();
      if (!conn.body_producer(conn.output)) {
        conn.body_producer = nullptr;
        body_ended = true;
      }
    }
    if (!send_output(conn))
      return;
    // Until the socket is full (EPOLLOUT brings us back), the next piece
    // can go at once.
  } while (conn.body_producer && conn.wire_out.empty());
  if (conn.wire_out.empty() && !conn.body_producer &&
      (conn.close_when_flushed ||
       (conn.read_closed && !conn.busy && conn.input.empty()))) {
    close(conn);
    return;
  }
  if (body_ended && !conn.input.empty())
    resuming_.push_back(conn.id);
  if (conn.wire_out.size() > limits_.max_output_bytes) {
    close(conn); // The client does not read its answers.
    return;
  }
  update_interest(conn);
}

bool io_loop::send_output(connection& conn) {
  if (conn.tls) {
    if (!conn.output.empty() && !conn.tls->failed())
      conn.tls->write_plaintext(conn.output);
    conn.output.clear();
    if (conn.close_when_flushed && !conn.body_producer &&
        conn.tls->handshake_done())
      conn.tls->close();
    conn.tls->take_ciphertext(conn.wire_out);
    if (conn.tls->want_close()) {
      conn.close_when_flushed = true;
      conn.body_producer = nullptr; // the session takes no more plaintext
    }
  } else {
    conn.wire_out += conn.output;
    conn.output.clear();
  }
  while (!conn.wire_out.empty()) {
    ssize_t n = ::send(conn.fd, conn.wire_out.data(), conn.wire_out.size(),
                       MSG_NOSIGNAL);
    if (n > 0) {
      conn.wire_out.erase(0, static_cast<std::size_t>(n));
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
  if (!conn.read_closed && conn.input.size() < limits_.max_buffered_input &&
      conn.wire_out.size() < limits_.max_output_bytes / 4)
    events |= EPOLLIN;
  if (!conn.wire_out.empty())
    events |= EPOLLOUT;
  if (events == conn.registered_events)
    return; // Saves a system call per answer on the common path.
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = conn.id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd, &ev);
  conn.registered_events = events;
}

void io_loop::close(connection& conn) {
  if (conn.fd < 0)
    return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
  ::close(conn.fd);
  conn.fd = -1;
  --*open_connections_;
  --service_metrics::instance().connections_open;
  closing_.push_back(conn.id);
}

void io_loop::enable_local_checks(const stored_state& initial,
                                  std::chrono::nanoseconds max_duration,
                                  std::chrono::nanoseconds wall_offset) {
  replica_.emplace(max_duration);
  replica_->load(initial);
  wall_offset_ = wall_offset;
}

void io_loop::replicate(
    std::shared_ptr<const std::vector<state_change>> changes) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> guard(replica_mutex_);
    was_empty = replica_queue_.empty();
    replica_queue_.push_back(std::move(changes));
    replica_updates_.store(true, std::memory_order_release);
  }
  if (was_empty)
    wake(wake_fd_);
}

void io_loop::apply_replica_updates() {
  std::vector<std::shared_ptr<const std::vector<state_change>>> taken;
  {
    std::lock_guard<std::mutex> guard(replica_mutex_);
    taken.swap(replica_queue_);
    replica_updates_.store(false, std::memory_order_relaxed);
  }
  if (!replica_)
    return;
  for (const auto& changes : taken)
    replica_->apply(*changes);
}

void io_loop::submit_call(connection& conn, disruption_call call) {
  if (replica_ && call.kind == request_kind::check) {
    auto now =
        timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch()) +
                  wall_offset_};
    if (auto state = replica_->check(call.host, call.group, call.limit, now)) {
      ++service_metrics::instance().checks_answered_locally;
      call_result result;
      result.state = *state;
      conn.proto->on_call_result(conn, std::move(result));
      return;
    }
  }
  conn.busy = true;
  call.reply = reply_to(sink_, conn.id);
  caf::anon_send(router_, operate_atom::value, std::move(call));
}

void io_loop::submit_snapshot(connection& conn) {
  conn.busy = true;
  caf::anon_send(desk_, snapshot_atom::value, conn.id);
}

void io_loop::resolve(connection& conn, std::string hostname) {
  conn.busy = true;
  auto sink = sink_;
  auto ticket = conn.id;
  resolver_.resolve(
      std::move(hostname),
      [sink, ticket](std::vector<std::string> addresses, std::string error) {
        sink->deliver_resolution(
            ticket, resolution{std::move(addresses), std::move(error)});
      });
}

void io_loop::drain_answers() {
  for (auto& [ticket, a] : sink_->take()) {
    auto it = connections_.find(ticket);
    if (it == connections_.end() || it->second->fd < 0)
      continue; // The client went away meanwhile.
    auto& conn = *it->second;
    conn.busy = false;
    conn.last_activity = std::chrono::steady_clock::now();
    if (auto* result = std::get_if<call_result>(&a))
      conn.proto->on_call_result(conn, std::move(*result));
    else if (auto* view = std::get_if<state_view>(&a))
      conn.proto->on_state(conn, std::move(*view));
    else if (auto* r = std::get_if<resolution>(&a))
      conn.proto->on_resolved(conn, std::move(r->addresses),
                              std::move(r->error));
    if (conn.fd < 0)
      continue;
    if (!conn.busy && !conn.input.empty())
      process_input(conn);
    else {
      if (!conn.busy && conn.input.empty())
        conn.request_open = false;
      flush(conn);
    }
  }
}

void io_loop::sweep_timeouts() {
  auto now = std::chrono::steady_clock::now();
  for (auto& [id, conn] : connections_) {
    if (conn->fd < 0 || conn->busy)
      continue;
    // A request behind a body still being produced is not trickling in:
    // it waits for us.
    if (conn->request_open && !conn->input.empty() && !conn->body_producer &&
        now - conn->request_started > limits_.request_timeout) {
      ++service_metrics::instance().connections_timed_out;
      close(*conn); // A request trickling in too slowly.
      continue;
    }
    // -srpcDefaultTlsHandshakeTimeout: counted from the first byte.
    if (conn->tls && !conn->tls->handshake_done() && conn->request_open &&
        now - conn->request_started > limits_.tls_handshake_timeout) {
      ++service_metrics::instance().connections_timed_out;
      close(*conn);
      continue;
    }
    if (now - conn->last_activity > limits_.idle_timeout) {
      ++service_metrics::instance().connections_timed_out;
      close(*conn);
    }
  }
}

} // namespace dm

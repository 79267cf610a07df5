// Load generator for the disruption manager: SRPC (gob or JSON, plain or
// TLS) or REST calls over persistent or per-call connections driven by
// epoll, closed-loop or at a fixed rate; reports calls/s, latency
// percentiles and its own CPU use, so a run shows whether it kept up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "codec/gob.hpp"
#include "codec/srpc_json.hpp"
#include "config/flag_set.hpp"
#include "model/machine_record.hpp"
#include "srpc/srpc_protocol.hpp"
#include "tls/tls_context.hpp"
#include "tls/tls_session.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using std::chrono::nanoseconds;

// ping: two SRPC pings (an empty line, answered "\n") per call, the
// transport's share of a call that makes two round trips as Go's does.
enum class mix_kind { check, cycle, request, ping };
enum class wire_protocol { srpc, http, fleetlock };

bool over_http(wire_protocol p) {
  return p != wire_protocol::srpc;
}

struct load_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6979;
  wire_protocol protocol = wire_protocol::srpc;
  dm::srpc_coder coder = dm::srpc_coder::gob;
  std::shared_ptr<const dm::tls_context> tls; // null: plain
  std::size_t connections = 32;
  std::size_t threads = 1;
  mix_kind mix = mix_kind::check;
  std::size_t machines = 1000;
  bool bind_self = false;
  bool new_connection = false;
  bool pipeline = false;
  bool busy_poll = false; // never sleep in epoll: a whole core, no wake-ups
  nanoseconds duration = std::chrono::seconds(10);
  nanoseconds warmup = std::chrono::seconds(1);
  double rate = 0;         // calls/s in all; 0: closed loop
  std::uint64_t calls = 0; // stop after this many; 0: run for duration
};

// One machine of the synthetic fleet and the bytes each kind of call sends.
struct machine_entry {
  std::string address;    // Hostname, and the source address with -bindSelf
  std::string payload[3]; // by request_kind: SRPC value or whole HTTP request
};

dm::machine_record make_machine(const std::string& address,
                                const std::string& group) {
  dm::machine_record m;
  m.hostname = address;
  m.ip_address = address;
  m.required_image = "bench/2026-01-01.0";
  m.tags["DisruptionManagerGroupIdentifier"] = group;
  return m;
}

std::string address_at(std::uint32_t base, std::size_t index) {
  in_addr a{};
  a.s_addr = htonl(base + static_cast<std::uint32_t>(index));
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, text, sizeof(text));
  return text;
}

std::string_view gob_request_type(dm::request_kind kind) {
  switch (kind) {
  case dm::request_kind::check:
    return "DisruptionCheckRequest";
  case dm::request_kind::request:
    return "DisruptionRequestRequest";
  case dm::request_kind::cancel:
    return "DisruptionCancelRequest";
  }
  return "";
}

std::string method_line(dm::request_kind kind) {
  switch (kind) {
  case dm::request_kind::check:
    return "DisruptionManager.Check\n";
  case dm::request_kind::request:
    return "DisruptionManager.Request\n";
  case dm::request_kind::cancel:
    return "DisruptionManager.Cancel\n";
  }
  return "\n";
}

std::string http_request(const load_options& o, const std::string& body) {
  std::string r = "POST /api/v1/request HTTP/1.1\r\nHost: " + o.host + ":" +
                  std::to_string(o.port) +
                  "\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n";
  if (o.new_connection)
    r += "Connection: close\r\n";
  return r + "\r\n" + body;
}

// Zincati's request for machine `id` of FleetLock group PREFIX<n> (the
// group prefix's characters must fit FleetLock's group names).
std::string fleetlock_request(const load_options& o, const std::string& id,
                              const std::string& prefix, std::size_t n,
                              dm::request_kind kind) {
  std::string body = "{\n  \"client_params\": {\n    \"id\": \"" + id +
                     "\",\n    \"group\": \"" + prefix + std::to_string(n) +
                     "\"\n  }\n}";
  std::string r =
      std::string("POST ") +
      (kind == dm::request_kind::cancel ? "/v1/steady-state"
                                        : "/v1/pre-reboot") +
      " HTTP/1.1\r\nhost: " + o.host + ":" + std::to_string(o.port) +
      "\r\nfleet-lock-protocol: true\r\naccept: */*\r\ncontent-length: " +
      std::to_string(body.size()) + "\r\n";
  if (o.new_connection)
    r += "connection: close\r\n";
  return r + "\r\n" + body;
}

std::vector<dm::request_kind> kinds_of(mix_kind mix) {
  switch (mix) {
  case mix_kind::check:
    return {dm::request_kind::check};
  case mix_kind::cycle:
    return {dm::request_kind::request, dm::request_kind::cancel};
  case mix_kind::request:
    return {dm::request_kind::request};
  case mix_kind::ping:
    return {dm::request_kind::check}; // bodies are made but not sent
  }
  return {};
}

// Per-thread results, merged at the end.
struct load_stats {
  std::vector<std::uint64_t> latencies_ns; // calls completed in the window
  std::uint64_t completed = 0;             // all calls, window or not
  std::uint64_t errors = 0;                // transport, protocol or Error
  std::uint64_t states[4] = {0, 0, 0, 0};  // by disruption_state
  std::string first_error;
};

enum class phase {
  closed,         // no socket
  connecting,     // TCP connect in progress
  connect_reply,  // SRPC: CONNECT sent, waiting for the reply
  handshake,      // TLS handshake under way, no call queued
  idle,           // ready for a call
  await_ack,      // SRPC: method line sent, waiting for "\n"
  await_response, // waiting for the whole response
};

struct slot {
  int fd = -1;
  phase state = phase::closed;
  std::unique_ptr<dm::tls_session> tls;
  std::string in;  // plaintext received, not yet used
  std::string out; // bytes for the socket
  std::size_t out_offset = 0;
  bool want_out = false;       // EPOLLOUT armed
  std::size_t own_machine = 0; // cycle mode and -bindSelf on a persistent slot
  bool has_call = false;
  std::size_t machine = 0;
  dm::request_kind kind = dm::request_kind::check;
  time_point started;
  bool next_cancel = false;   // cycle: the next call cancels
  bool response_line = false; // SRPC: the "\n" before the value arrived
  bool skip_newline = false;  // JSON: the value's newline is still to come
  int pings_left = 0;         // ping: answers still awaited for this call
  dm::gob_response_decoder gob;
  dm::json_response_decoder json;
};

// One epoll loop over its share of the connections.
class load_worker {
public:
  load_worker(const load_options& options,
              const std::vector<machine_entry>& machines, std::size_t index,
              std::size_t first_slot, std::size_t slot_count, double rate,
              std::uint64_t calls)
      : o_(options), machines_(machines), index_(index), rate_(rate),
        call_limit_(calls), slots_(slot_count) {
    for (std::size_t i = 0; i < slot_count; ++i)
      slots_[i].own_machine = (first_slot + i) % machines.size();
    next_machine_ = index;
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  }

  ~load_worker() {
    for (auto& s : slots_)
      if (s.fd >= 0)
        ::close(s.fd);
    ::close(epoll_fd_);
  }

  // Opens persistent connections and waits until each is ready for a call.
  bool set_up(time_point deadline) {
    if (o_.new_connection)
      return true;
    for (auto& s : slots_)
      open_connection(s, s.own_machine);
    while (clock_type::now() < deadline) {
      std::size_t ready = 0;
      for (auto& s : slots_)
        ready += s.state == phase::idle;
      if (ready == slots_.size())
        return true;
      poll_once(std::chrono::milliseconds(10));
    }
    return false;
  }

  void run(time_point start, time_point measure_from, time_point end) {
    start_ = start;
    measure_from_ = measure_from;
    end_ = end;
    interval_ = rate_ > 0 ? nanoseconds(static_cast<std::int64_t>(1e9 / rate_))
                          : nanoseconds(0);
    idle_.clear();
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (o_.new_connection || slots_[i].state == phase::idle)
        idle_.push_back(i);
    stats_.latencies_ns.reserve(1 << 20);
    for (;;) {
      auto now = clock_type::now();
      if (now >= end_)
        break;
      if (call_limit_ > 0 && issued_ >= call_limit_ && in_flight_ == 0)
        break;
      issue_due(now);
      nanoseconds wait = end_ - now;
      if (interval_.count() > 0 && !idle_.empty() &&
          (call_limit_ == 0 || issued_ < call_limit_)) {
        auto next = start_ + interval_ * static_cast<std::int64_t>(issued_);
        wait = std::min(wait, std::max(nanoseconds(0), next - now));
      }
      if (o_.busy_poll)
        wait = nanoseconds(0);
      poll_once(wait);
    }
  }

  load_stats& stats() { return stats_; }

private:
  // Starts every call that is due on idle slots.
  void issue_due(time_point now) {
    while (!idle_.empty()) {
      if (call_limit_ > 0 && issued_ >= call_limit_)
        return;
      time_point started = now;
      if (interval_.count() > 0) {
        // Open loop: latency counts from when the call was due, so a
        // server that falls behind is charged for the queue too.
        started = start_ + interval_ * static_cast<std::int64_t>(issued_);
        if (started > now)
          return;
      }
      std::size_t i = idle_.back();
      idle_.pop_back();
      ++issued_;
      start_call(i, started);
    }
  }

  void start_call(std::size_t i, time_point started) {
    slot& s = slots_[i];
    s.has_call = true;
    s.started = started;
    ++in_flight_;
    switch (o_.mix) {
    case mix_kind::cycle:
      s.machine = s.own_machine;
      s.kind =
          s.next_cancel ? dm::request_kind::cancel : dm::request_kind::request;
      s.next_cancel = !s.next_cancel;
      break;
    case mix_kind::check:
    case mix_kind::request:
    case mix_kind::ping:
      s.machine = next_machine_ % machines_.size();
      next_machine_ += o_.threads;
      s.kind = o_.mix == mix_kind::check ? dm::request_kind::check
                                         : dm::request_kind::request;
      break;
    }
    if (s.fd < 0) {
      open_connection(s, o_.new_connection ? s.machine : s.own_machine);
      return; // the call goes out once the connection is ready
    }
    send_call(s);
  }

  void send_call(slot& s) {
    const std::string& payload =
        machines_[s.machine].payload[static_cast<int>(s.kind)];
    if (over_http(o_.protocol)) {
      s.state = phase::await_response;
      write(s, payload);
      return;
    }
    s.state = phase::await_ack;
    s.response_line = false;
    if (o_.mix == mix_kind::ping) {
      s.pings_left = 2;
      write(s, "\n");
      return;
    }
    if (o_.pipeline)
      write(s, method_line(s.kind) + payload);
    else
      write(s, method_line(s.kind));
  }

  void open_connection(slot& s, std::size_t machine) {
    s.in.clear();
    s.out.clear();
    s.out_offset = 0;
    s.want_out = false;
    s.tls.reset();
    s.skip_newline = false;
    s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      fail(s, std::string("socket: ") + std::strerror(errno));
      return;
    }
    int one = 1;
    ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (o_.bind_self) {
      // The service lets a powerless caller act only for the machine whose
      // Hostname is its own address.
      ::setsockopt(s.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                   sizeof(one));
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, machines_[machine].address.c_str(), &local.sin_addr);
      if (::bind(s.fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) !=
          0) {
        fail(s, "bind " + machines_[machine].address + ": " +
                    std::strerror(errno));
        return;
      }
    }
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(o_.port);
    inet_pton(AF_INET, o_.host.c_str(), &peer.sin_addr);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = static_cast<std::uint64_t>(&s - slots_.data());
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev);
    s.want_out = true;
    s.state = phase::connecting;
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&peer), sizeof(peer)) !=
            0 &&
        errno != EINPROGRESS)
      fail(s, std::string("connect: ") + std::strerror(errno));
  }

  void tcp_connected(slot& s) {
    if (o_.protocol == wire_protocol::srpc) {
      const char* path =
          o_.coder == dm::srpc_coder::gob
              ? (o_.tls ? "/_go_TLS_SRPC_/" : "/_goSRPC_/")
              : (o_.tls ? "/_SRPC_/TLS/JSON" : "/_SRPC_/unsecured/JSON");
      s.state = phase::connect_reply;
      s.out += std::string("CONNECT ") + path + " HTTP/1.0\n\n";
      flush(s);
      return;
    }
    start_tls_or_ready(s);
  }

  void start_tls_or_ready(slot& s) {
    if (!o_.tls) {
      ready(s);
      return;
    }
    s.tls = std::make_unique<dm::tls_session>(*o_.tls, o_.host);
    s.tls->take_ciphertext(s.out);
    flush(s);
    // A queued call may go at once: the session holds it until the
    // handshake is done, saving a round trip on per-call connections.
    if (s.has_call)
      ready(s);
    else
      s.state = phase::handshake;
  }

  void ready(slot& s) {
    if (s.has_call) {
      send_call(s);
    } else {
      s.state = phase::idle;
    }
  }

  void write(slot& s, const std::string& data) {
    if (s.tls) {
      if (!s.tls->write_plaintext(data)) {
        fail(s, "TLS: " + s.tls->error());
        return;
      }
      s.tls->take_ciphertext(s.out);
    } else {
      s.out += data;
    }
    flush(s);
  }

  void flush(slot& s) {
    if (s.fd < 0 || s.state == phase::connecting)
      return;
    while (s.out_offset < s.out.size()) {
      auto n = ::send(s.fd, s.out.data() + s.out_offset,
                      s.out.size() - s.out_offset, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set_want_out(s, true);
        return;
      }
      if (n < 0) {
        fail(s, std::string("send: ") + std::strerror(errno));
        return;
      }
      s.out_offset += static_cast<std::size_t>(n);
    }
    s.out.clear();
    s.out_offset = 0;
    set_want_out(s, false);
  }

  void set_want_out(slot& s, bool on) {
    if (s.want_out == on)
      return;
    s.want_out = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<std::uint64_t>(&s - slots_.data());
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev);
  }

  void poll_once(nanoseconds wait) {
    epoll_event events[256];
    timespec ts{};
    ts.tv_sec = wait.count() / 1'000'000'000;
    ts.tv_nsec = wait.count() % 1'000'000'000;
    int n = ::epoll_pwait2(epoll_fd_, events, 256, &ts, nullptr);
    for (int k = 0; k < n; ++k) {
      slot& s = slots_[events[k].data.u64];
      if (s.fd < 0)
        continue;
      if (s.state == phase::connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          fail(s, std::string("connect: ") + std::strerror(err));
          continue;
        }
        s.state = phase::closed; // neither connecting nor ready yet
        set_want_out(s, false);
        tcp_connected(s);
        continue;
      }
      if (events[k].events & EPOLLOUT)
        flush(s);
      if (s.fd >= 0 && (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        readable(s);
    }
  }

  void readable(slot& s) {
    char buffer[65536];
    bool eof = false;
    for (;;) {
      auto n = ::recv(s.fd, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n <= 0) {
        eof = true;
        break;
      }
      if (s.tls) {
        s.tls->feed_ciphertext(buffer, static_cast<std::size_t>(n));
      } else {
        s.in.append(buffer, static_cast<std::size_t>(n));
      }
      if (static_cast<std::size_t>(n) < sizeof(buffer))
        break;
    }
    if (s.tls) {
      if (eof)
        s.tls->feed_eof();
      s.tls->read_plaintext(s.in);
      s.tls->take_ciphertext(s.out);
      flush(s);
      if (s.fd < 0)
        return;
      if (s.tls->failed()) {
        fail(s, "TLS: " + s.tls->error());
        return;
      }
    }
    process(s);
    if (eof && s.fd >= 0) {
      if (s.state == phase::connect_reply && !s.in.empty())
        fail(s,
             "CONNECT refused: " + s.in.substr(0, s.in.find_first_of("\r\n")));
      else if (s.has_call || (!o_.new_connection && s.state != phase::closed))
        fail(s, "connection closed by the server");
      else
        close_slot(s);
    }
  }

  void process(slot& s) {
    for (;;) {
      if (s.fd < 0)
        return;
      switch (s.state) {
      case phase::connect_reply: {
        auto end = s.in.find("\n\n");
        if (end == std::string::npos)
          return;
        if (s.in.compare(0, 33, "HTTP/1.0 200 Connected to Go SRPC") != 0) {
          fail(s, "CONNECT refused: " + s.in.substr(0, s.in.find('\n')));
          return;
        }
        s.in.erase(0, end + 2);
        start_tls_or_ready(s);
        continue;
      }
      case phase::handshake:
        if (s.tls && s.tls->handshake_done())
          ready(s);
        return;
      case phase::await_ack: {
        if (s.skip_newline && !s.in.empty()) {
          s.skip_newline = false;
          if (s.in[0] == '\n')
            s.in.erase(0, 1);
        }
        auto nl = s.in.find('\n');
        if (nl == std::string::npos)
          return;
        if (nl != 0) {
          finish(s, false, dm::disruption_state::anytime,
                 "method refused: " + s.in.substr(0, nl));
          s.in.erase(0, nl + 1);
          if (o_.pipeline)
            fail(s, "pipelined call refused");
          continue;
        }
        s.in.erase(0, 1);
        if (o_.mix == mix_kind::ping) {
          if (--s.pings_left > 0)
            write(s, "\n");
          else
            finish(s, true, dm::disruption_state::anytime, {});
          continue;
        }
        s.state = phase::await_response;
        if (!o_.pipeline)
          write(s, machines_[s.machine].payload[static_cast<int>(s.kind)]);
        continue;
      }
      case phase::await_response:
        if (over_http(o_.protocol)) {
          if (!http_response(s))
            return;
          continue;
        }
        if (!srpc_response(s))
          return;
        continue;
      default:
        return;
      }
    }
  }

  // True when a response was consumed.
  bool srpc_response(slot& s) {
    if (!s.response_line) {
      auto nl = s.in.find('\n');
      if (nl == std::string::npos)
        return false;
      if (nl != 0) {
        std::string text = s.in.substr(0, nl);
        s.in.erase(0, nl + 1);
        finish(s, false, dm::disruption_state::anytime, "call error: " + text);
        return true;
      }
      s.in.erase(0, 1);
      s.response_line = true;
      s.gob.reset();
      s.json.reset();
    }
    std::size_t used = 0;
    if (o_.coder == dm::srpc_coder::gob) {
      auto st = s.gob.feed(s.in, used);
      s.in.erase(0, used);
      if (st == dm::gob_status::need_more)
        return false;
      if (st == dm::gob_status::error) {
        fail(s, "gob: " + s.gob.error());
        return false;
      }
      finish(s, s.gob.response_error().empty(), s.gob.state(),
             s.gob.response_error());
      return true;
    }
    auto st = s.json.feed(s.in, used);
    bool newline = used > 0 && s.in[used - 1] == '\n';
    s.in.erase(0, used);
    if (st == dm::json_status::need_more)
      return false;
    if (st == dm::json_status::error) {
      fail(s, "json: " + s.json.error());
      return false;
    }
    s.skip_newline = !newline;
    finish(s, s.json.response_error().empty(), s.json.state(),
           s.json.response_error());
    return true;
  }

  // True when a response was consumed.
  bool http_response(slot& s) {
    auto head_end = s.in.find("\r\n\r\n");
    if (head_end == std::string::npos)
      return false;
    std::string_view head(s.in.data(), head_end);
    std::size_t length = 0;
    bool server_closes = false;
    for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
      auto next = head.find("\r\n", pos + 2);
      auto line = head.substr(pos + 2, next == std::string_view::npos
                                           ? std::string_view::npos
                                           : next - pos - 2);
      auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (auto& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.remove_prefix(1);
        if (name == "content-length")
          length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        else if (name == "connection" && (value == "close" || value == "Close"))
          server_closes = true;
      }
      pos = next;
    }
    if (s.in.size() < head_end + 4 + length)
      return false;
    bool ok = head.size() >= 12 && head.substr(9, 3) == "200";
    std::string_view body(s.in.data() + head_end + 4, length);
    auto state = dm::disruption_state::anytime;
    if (o_.protocol == wire_protocol::fleetlock) {
      // 200: locked (or unlocked); 409 to a lock: queued.
      if (ok)
        state = s.kind == dm::request_kind::cancel
                    ? dm::disruption_state::denied
                    : dm::disruption_state::permitted;
      else if (head.size() >= 12 && head.substr(9, 3) == "409" &&
               s.kind != dm::request_kind::cancel) {
        ok = true;
        state = dm::disruption_state::requested;
      }
    } else if (body.find("permitted") != std::string_view::npos)
      state = dm::disruption_state::permitted;
    else if (body.find("requested") != std::string_view::npos)
      state = dm::disruption_state::requested;
    else if (body.find("denied") != std::string_view::npos)
      state = dm::disruption_state::denied;
    std::string error;
    if (!ok)
      error = "HTTP " + std::string(head.substr(0, head.find('\r'))) + ": " +
              std::string(body);
    s.in.erase(0, head_end + 4 + length);
    finish(s, ok, state, error);
    if ((server_closes || o_.new_connection) && s.fd >= 0)
      close_slot(s);
    return true;
  }

  void finish(slot& s, bool ok, dm::disruption_state state,
              const std::string& error) {
    auto now = clock_type::now();
    s.has_call = false;
    --in_flight_;
    ++stats_.completed;
    bool in_window = now >= measure_from_ && now < end_;
    if (!ok) {
      ++stats_.errors;
      if (stats_.first_error.empty())
        stats_.first_error = error;
    } else if (in_window) {
      ++stats_.states[static_cast<int>(state) & 3];
    }
    if (in_window)
      stats_.latencies_ns.push_back(static_cast<std::uint64_t>(
          std::chrono::duration_cast<nanoseconds>(now - s.started).count()));
    if (s.fd >= 0 && s.state != phase::closed)
      s.state = phase::idle;
    idle_.push_back(static_cast<std::size_t>(&s - slots_.data()));
  }

  void fail(slot& s, const std::string& error) {
    bool had_call = s.has_call;
    close_slot(s);
    if (had_call) {
      finish(s, false, dm::disruption_state::anytime, error);
    } else {
      ++stats_.errors;
      if (stats_.first_error.empty())
        stats_.first_error = error;
    }
    // Persistent slots without a call reconnect when next used.
  }

  void close_slot(slot& s) {
    if (s.fd >= 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
      ::close(s.fd);
    }
    s.fd = -1;
    s.state = phase::closed;
    s.tls.reset();
    s.in.clear();
    s.out.clear();
    s.out_offset = 0;
    s.want_out = false;
  }

  const load_options& o_;
  const std::vector<machine_entry>& machines_;
  std::size_t index_;
  double rate_;
  std::uint64_t call_limit_;
  std::vector<slot> slots_;
  std::vector<std::size_t> idle_;
  int epoll_fd_ = -1;
  std::size_t next_machine_ = 0;
  std::uint64_t issued_ = 0;
  std::int64_t in_flight_ = 0;
  time_point start_, measure_from_, end_;
  nanoseconds interval_{0};
  load_stats stats_;
};

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile_us(const std::vector<std::uint64_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<std::size_t>(
      p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(rank, sorted.size() - 1)]) / 1e3;
}

// -waitUntilUp: polls with REST checks until one answers 200; prints the
// milliseconds since -since (wall-clock nanoseconds, as `date +%s%N`).
int wait_until_up(const load_options& o, const machine_entry& machine,
                  nanoseconds limit, std::int64_t since_ns) {
  auto deadline = clock_type::now() + limit;
  std::string request = http_request(o, machine.payload[0]);
  while (clock_type::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(o.port);
    inet_pton(AF_INET, o.host.c_str(), &peer.sin_addr);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    bool up = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof(peer)) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
      char buffer[512];
      auto n = ::recv(fd, buffer, sizeof(buffer), 0);
      up = n >= 12 && std::string_view(buffer + 9, 3) == "200";
    }
    ::close(fd);
    if (up) {
      auto now = std::chrono::duration_cast<nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      std::printf("up_ms=%.1f\n", static_cast<double>(now - since_ns) / 1e6);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::fprintf(stderr, "srpc_load: server not up within the limit\n");
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", protocol = "srpc", coder = "gob";
  std::string mix = "check";
  std::string cert_file, key_file, ca_file, host_base = "127.2.0.1";
  std::string group_prefix = "bench-";
  std::uint64_t port = 6979, connections = 32, threads = 1, machines = 1000;
  std::uint64_t groups = 100, rate = 0, calls = 0, since_ns = 0;
  bool use_tls = false, bind_self = false, new_connection = false;
  bool pipeline = false, print_bodies = false, busy_poll = false;
  nanoseconds duration = std::chrono::seconds(10);
  nanoseconds warmup = std::chrono::seconds(1);
  nanoseconds wait_up{0};

  dm::flag_set flags("srpc_load");
  flags.add_string("host", &host, "Server IPv4 address");
  flags.add_uint("portNum", &port, "Server port");
  flags.add_string("protocol", &protocol,
                   "srpc, http (REST) or fleetlock (Zincati's requests; "
                   "request and check are RecursiveLock, cancel UnlockIfHeld)");
  flags.add_string("coder", &coder, "SRPC coder: gob or json");
  flags.add_bool("tls", &use_tls, "Use TLS (SRPC TLS paths, or HTTPS)");
  flags.add_string("certFile", &cert_file, "Client certificate (PEM)");
  flags.add_string("keyFile", &key_file, "Client key (PEM)");
  flags.add_string("CAfile", &ca_file,
                   "CA of the server certificate (empty: not verified)");
  flags.add_uint("connections", &connections, "Connections (call slots)");
  flags.add_uint("threads", &threads, "Threads, each an epoll loop");
  flags.add_string("mix", &mix,
                   "check (rotating over machines), cycle (request then "
                   "cancel, one machine per connection), request, or ping "
                   "(SRPC: two pings per call, no value: the transport "
                   "alone)");
  flags.add_uint("machines", &machines, "Machines in the synthetic fleet");
  flags.add_uint("groups", &groups, "Groups; machine i is in group i % groups");
  flags.add_string("hostBase", &host_base,
                   "Hostname (an IPv4 address) of machine 0; machine i "
                   "counts up from it");
  flags.add_string("groupPrefix", &group_prefix, "Group identifier prefix");
  flags.add_bool("bindSelf", &bind_self,
                 "Connect from the machine's own address (127.x) so a "
                 "powerless caller may request and cancel");
  flags.add_bool("newConnection", &new_connection,
                 "A new connection per call (HTTP: Connection: close)");
  flags.add_bool("pipeline", &pipeline,
                 "SRPC: send the value with the method line instead of "
                 "waiting for its acknowledgement as Go clients do");
  flags.add_bool("busyPoll", &busy_poll,
                 "Poll without ever sleeping: each thread takes a whole core, "
                 "and no latency waits for the generator to be woken");
  flags.add_duration("duration", &duration, "Measured time after warm-up");
  flags.add_duration("warmup", &warmup, "Time before measuring starts");
  flags.add_uint("rate", &rate, "Calls/s in all, open loop (0: closed loop)");
  flags.add_uint("calls", &calls, "Stop after this many calls (0: no limit)");
  flags.add_bool("printBodies", &print_bodies,
                 "Print the REST bodies of the mix's first kind, one per "
                 "line, and exit (for wrk scripts)");
  flags.add_duration("waitUntilUp", &wait_up,
                     "Poll with REST checks until one answers, at most this "
                     "long; print the time since -since and exit");
  flags.add_uint("since", &since_ns,
                 "Wall-clock start in ns since the epoch, for -waitUntilUp");
  std::string error;
  if (!flags.parse(argc, argv, error)) {
    std::cerr << error << "\n" << flags.usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cerr << flags.usage();
    return 0;
  }

  load_options o;
  o.host = host;
  o.port = static_cast<std::uint16_t>(port);
  o.protocol = protocol == "http"        ? wire_protocol::http
               : protocol == "fleetlock" ? wire_protocol::fleetlock
                                         : wire_protocol::srpc;
  o.coder = coder == "json" ? dm::srpc_coder::json : dm::srpc_coder::gob;
  o.connections = std::max<std::uint64_t>(1, connections);
  o.threads = std::clamp<std::uint64_t>(threads, 1, o.connections);
  o.mix = mix == "cycle"     ? mix_kind::cycle
          : mix == "request" ? mix_kind::request
          : mix == "ping"    ? mix_kind::ping
                             : mix_kind::check;
  o.machines = std::max<std::uint64_t>(1, machines);
  o.bind_self = bind_self;
  o.new_connection = new_connection;
  o.pipeline = pipeline;
  o.busy_poll = busy_poll;
  o.duration = duration;
  o.warmup = calls > 0 ? nanoseconds(0) : warmup;
  o.rate = static_cast<double>(rate);
  o.calls = calls;
  if ((protocol != "srpc" && protocol != "http" && protocol != "fleetlock") ||
      (coder != "gob" && coder != "json") ||
      (mix != "check" && mix != "cycle" && mix != "request" && mix != "ping") ||
      (mix == "ping" && protocol != "srpc")) {
    std::cerr << "bad -protocol, -coder or -mix (ping is SRPC only)\n";
    return 2;
  }
  if (o.mix == mix_kind::cycle && o.machines < o.connections) {
    std::cerr << "-mix cycle needs -machines >= -connections\n";
    return 2;
  }
  if (use_tls) {
    dm::client_tls_options t;
    t.cert_file = cert_file;
    t.key_file = key_file;
    t.ca_file = ca_file;
    t.check = ca_file.empty() ? dm::server_check::insecure_skip_verify
                              : dm::server_check::verify_with_ca;
    auto context = dm::tls_context::make_client(t, error);
    if (!context) {
      std::cerr << "TLS: " << error << "\n";
      return 1;
    }
    o.tls = std::make_shared<const dm::tls_context>(std::move(*context));
  }
  in_addr base{};
  if (inet_pton(AF_INET, host_base.c_str(), &base) != 1) {
    std::cerr << "bad -hostBase\n";
    return 2;
  }

  std::vector<machine_entry> fleet(o.machines);
  auto kinds = kinds_of(o.mix);
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    auto& m = fleet[i];
    m.address = address_at(ntohl(base.s_addr), i);
    auto record =
        make_machine(m.address, group_prefix + std::to_string(i % groups));
    for (auto kind : kinds) {
      auto& p = m.payload[static_cast<int>(kind)];
      if (o.protocol == wire_protocol::fleetlock)
        p = fleetlock_request(o, m.address, group_prefix, i % groups, kind);
      else if (o.protocol == wire_protocol::http || print_bodies ||
               wait_up.count())
        p = http_request(o, dm::encode_json_request(record, kind));
      else if (o.coder == dm::srpc_coder::gob)
        p = dm::encode_gob_request(gob_request_type(kind), record);
      else
        p = dm::encode_json_request(record);
    }
    if (print_bodies) {
      std::string body = dm::encode_json_request(record, kinds.front());
      std::fwrite(body.data(), 1, body.size(), stdout);
    }
  }
  if (print_bodies)
    return 0;
  if (wait_up.count() > 0) {
    // Checks are open to anyone, so the first machine's check will do.
    fleet[0].payload[0] = dm::encode_json_request(
        make_machine(fleet[0].address, group_prefix + "0"),
        dm::request_kind::check);
    return wait_until_up(o, fleet[0], wait_up,
                         static_cast<std::int64_t>(since_ns));
  }
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<load_worker>> workers;
  std::size_t first = 0;
  for (std::size_t t = 0; t < o.threads; ++t) {
    std::size_t count =
        o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    std::uint64_t share =
        o.calls / o.threads + (t < o.calls % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<load_worker>(
        o, fleet, t, first, count, o.rate / static_cast<double>(o.threads),
        share));
    first += count;
  }
  // Each worker connects in its own thread, then all start together.
  std::atomic<std::size_t> set_up{0};
  std::atomic<bool> set_up_failed{false};
  std::atomic<std::int64_t> start_ns{0};
  std::vector<std::thread> pool;
  for (auto& w : workers) {
    pool.emplace_back([&, w = w.get()] {
      if (!w->set_up(clock_type::now() + std::chrono::seconds(20)))
        set_up_failed = true;
      ++set_up;
      while (start_ns.load() == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      time_point start{nanoseconds(start_ns.load())};
      w->run(start, start + o.warmup, start + o.warmup + o.duration);
    });
  }
  while (set_up.load() < workers.size())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto start = clock_type::now();
  double cpu_start = cpu_seconds();
  start_ns =
      std::chrono::duration_cast<nanoseconds>(start.time_since_epoch()).count();
  double cpu_measure = cpu_start;
  if (o.warmup.count() > 0) {
    std::this_thread::sleep_until(start + o.warmup);
    cpu_measure = cpu_seconds();
  }
  for (auto& t : pool)
    t.join();
  auto finished = clock_type::now();
  double cpu_end = cpu_seconds();

  load_stats all;
  for (auto& w : workers) {
    auto& s = w->stats();
    all.latencies_ns.insert(all.latencies_ns.end(), s.latencies_ns.begin(),
                            s.latencies_ns.end());
    all.completed += s.completed;
    all.errors += s.errors;
    for (int k = 0; k < 4; ++k)
      all.states[k] += s.states[k];
    if (all.first_error.empty())
      all.first_error = s.first_error;
  }
  std::sort(all.latencies_ns.begin(), all.latencies_ns.end());
  double window = std::chrono::duration<double>(
                      std::min(finished, start + o.warmup + o.duration) -
                      (start + o.warmup))
                      .count();
  if (o.calls > 0)
    window = std::chrono::duration<double>(finished - start).count();
  std::size_t measured = o.calls > 0 ? all.completed : all.latencies_ns.size();
  double per_second = window > 0 ? static_cast<double>(measured) / window : 0;
  double mean = 0;
  for (auto v : all.latencies_ns)
    mean += static_cast<double>(v);
  if (!all.latencies_ns.empty())
    mean /= static_cast<double>(all.latencies_ns.size()) * 1e3;
  double cpu_share = window > 0 ? (cpu_end - cpu_measure) / window * 100 : 0;
  if (set_up_failed)
    std::fprintf(stderr, "srpc_load: not every connection was set up\n");
  if (!all.first_error.empty())
    std::fprintf(stderr, "srpc_load: first error: %s\n",
                 all.first_error.c_str());
  std::printf("calls_per_s=%.0f calls=%zu window_s=%.2f errors=%" PRIu64
              " p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f "
              "mean_us=%.0f permitted=%" PRIu64 " requested=%" PRIu64
              " denied=%" PRIu64 " client_cpu_pct=%.0f\n",
              per_second, measured, window, all.errors,
              percentile_us(all.latencies_ns, 50),
              percentile_us(all.latencies_ns, 90),
              percentile_us(all.latencies_ns, 99),
              percentile_us(all.latencies_ns, 99.9),
              all.latencies_ns.empty()
                  ? 0.0
                  : static_cast<double>(all.latencies_ns.back()) / 1e3,
              mean, all.states[1], all.states[2], all.states[3], cpu_share);
  return all.completed > 0 && all.errors * 100 <= all.completed ? 0 : 1;
}

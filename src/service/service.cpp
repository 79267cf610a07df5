// Service start-up and orderly shut-down.
#include "service/service.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/alert_poller.hpp"
#include "actors/front_desk.hpp"
#include "actors/gatherer.hpp"
#include "actors/router.hpp"
#include "actors/storage.hpp"
#include "actors/timer.hpp"
#include "actors/wall_clock.hpp"
#include "http/http_protocol.hpp"
#include "etcd/etcd_store.hpp"
#include "http/protocol_detector.hpp"
#include "metrics/service_metrics.hpp"
#include "schedule/maintenance_windows.hpp"

namespace dm {

int open_listener(const std::string& address, std::uint16_t port,
                  std::uint16_t& bound_port, std::string& error) {
  int one = 1;
  int fd = -1;
  if (address.empty() || address.find(':') != std::string::npos) {
    fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      int zero = 0;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(port);
      addr.sin6_addr = in6addr_any;
      if (!address.empty() &&
          inet_pton(AF_INET6, address.c_str(), &addr.sin6_addr) != 1) {
        error = "bad listen address " + address;
        ::close(fd);
        return -1;
      }
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        if (!address.empty() || errno == EADDRINUSE) {
          error = "cannot listen on port " + std::to_string(port) + ": " +
                  std::strerror(errno);
          ::close(fd);
          return -1;
        }
        ::close(fd);
        fd = -1; // No IPv6 here: fall back to IPv4.
      }
    }
  }
  if (fd < 0) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!address.empty() &&
        inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
      error = "bad listen address " + address;
      ::close(fd);
      return -1;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      error = "cannot listen on port " + std::to_string(port) + ": " +
              std::strerror(errno);
      ::close(fd);
      return -1;
    }
  }
  if (::listen(fd, 4096) != 0) {
    error = std::string("listen: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  bound_port = bound.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

std::size_t default_actor_threads(unsigned cores, std::size_t io_threads) {
  std::size_t all = cores > 0 ? cores : 1;
  return all > io_threads ? all - io_threads : 1;
}

bool service::open(const service_options& options,
                   std::shared_ptr<web_context> web, std::string& error) {
  listen_fd_ =
      open_listener(options.listen_address, options.port, port_, error);
  if (listen_fd_ < 0)
    return false;
  // CAF's own default is at least four threads, whatever the core count.
  // Ours is the cores the I/O threads leave, at least one: a worker more
  // than that only hands messages between threads (docs/architecture.md).
  auto actor_threads = options.actor_threads;
  if (actor_threads == 0)
    actor_threads = default_actor_threads(std::thread::hardware_concurrency(),
                                          options.io_threads);
  config_.set("scheduler.max-threads", actor_threads);
  config_.set("scheduler.policy", options.scheduler == "sharing"
                                      ? caf::atom("sharing")
                                      : caf::atom("stealing"));
  config_.set("logger.file-verbosity", caf::atom("quiet"));
  config_.set("logger.console", caf::atom("none"));
  system_ = std::make_unique<caf::actor_system>(config_);
  wall_offset_ = system_wall_offset();
  resolver_ = std::make_unique<host_resolver>();
  auto open_connections = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<const web_context> ctx = web;
  auto first_protocol = [ctx]() -> std::unique_ptr<protocol> {
    return std::make_unique<protocol_detector>(ctx);
  };
  std::size_t io_threads = options.io_threads > 0 ? options.io_threads : 1;
  for (std::size_t i = 0; i < io_threads; ++i)
    loops_.push_back(std::make_unique<dispatcher>(
        listen_fd_, options.limits, *resolver_, first_protocol,
        open_connections, options.tls));
  return true;
}

void service::start_deciding(const service_options& options,
                             std::shared_ptr<state_store> store) {
  auto& sys = *system_;
  // Read now, not by the first window spec on an I/O thread.
  if (auto why = load_time_zones(); !why.empty())
    spdlog::warn("time zones cannot be read ({}): maintenance windows are "
                 "refused",
                 why);
  stored_state initial = store->take_loaded();
  // With -blockingAlertsUrl, what holds until Prometheus first answers.
  std::shared_ptr<const alert_name_match> match;
  alert_blocking alerts;
  if (!options.blocking_alerts_url.empty()) {
    std::string why;
    if (auto compiled =
            alert_name_match::compile(options.blocking_alerts_match, why))
      match = std::make_shared<const alert_name_match>(std::move(*compiled));
    else
      spdlog::error("blocking alerts off: -blockingAlertsMatch: {}", why);
  }
  if (match)
    alerts =
        blocking_before_first_poll(alerts_api_url(options.blocking_alerts_url),
                                   options.block_when_alerts_unavailable);
  // The loops' replicas are fed by the storage actor, and by the alert
  // poller.
  std::vector<synced_listener> listeners;
  std::vector<alert_listener> alert_listeners;
  if (options.local_checks) {
    for (auto& loop : loops_) {
      loop->enable_local_checks(initial, options.max_duration, wall_offset_);
      loop->block_by_alerts(alerts);
      listeners.push_back(
          [raw =
               loop.get()](std::shared_ptr<const std::vector<state_change>> c) {
            raw->replicate(std::move(c));
          });
      alert_listeners.push_back([raw = loop.get()](const alert_blocking& now) {
        raw->block_by_alerts(now);
      });
    }
  }
  storage_ =
      sys.spawn<caf::detached>(storage, std::move(store), std::move(listeners));
  group_settings settings;
  settings.max_duration = options.max_duration;
  settings.wall_offset = wall_offset_;
  settings.storage = storage_;
  timer_ = sys.spawn(timer, wall_offset_);
  settings.timer = timer_;
  settings.fetcher = std::make_shared<http_url_fetcher>();
  settings.probe_timeout = options.probe_timeout;
  settings.detached_probers = true;
  router_ = sys.spawn(router, std::move(initial), settings, alerts);
  if (match) {
    alert_poll_plan plan;
    plan.url = alerts_api_url(options.blocking_alerts_url);
    plan.match = match;
    plan.interval = options.blocking_alerts_interval;
    plan.block_when_unavailable = options.block_when_alerts_unavailable;
    plan.fetcher = std::make_shared<http_url_fetcher>();
    plan.listeners = std::move(alert_listeners);
    service_metrics::instance().alerts_polled = true;
    spdlog::info(
        "blocking alerts: {} every {} ms, alerts named /{}/ block; "
        "{} while Prometheus gives no usable answer (so far: none)",
        plan.url,
        std::chrono::duration_cast<std::chrono::milliseconds>(plan.interval)
            .count(),
        match->pattern(),
        plan.block_when_unavailable ? "every group is blocked"
                                    : "nothing is blocked");
    alert_poller_ =
        sys.spawn<caf::detached>(alert_poller, std::move(plan), router_);
  }
  gatherer_ = sys.spawn(gatherer, router_, gather_limits{});
  for (auto& loop : loops_) {
    auto desk = sys.spawn(front_desk, gatherer_, loop->sink());
    loop->set_actors(router_, desk);
    desks_.push_back(desk);
  }
}

void service::stop_deciding() {
  for (auto& loop : loops_)
    loop->set_actors(router_actor{}, front_desk_actor{});
  for (auto& desk : desks_)
    caf::anon_send_exit(desk, caf::exit_reason::user_shutdown);
  if (alert_poller_)
    caf::anon_send_exit(alert_poller_, caf::exit_reason::user_shutdown);
  if (gatherer_)
    caf::anon_send_exit(gatherer_, caf::exit_reason::user_shutdown);
  if (router_)
    caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
  if (storage_)
    caf::anon_send_exit(storage_, caf::exit_reason::user_shutdown);
  if (timer_)
    caf::anon_send_exit(timer_, caf::exit_reason::user_shutdown);
  desks_.clear();
  alert_poller_ = nullptr;
  gatherer_ = nullptr;
  router_ = nullptr;
  timer_ = nullptr;
  storage_ = nullptr;
}

void service::run_loops() {
  for (auto& loop : loops_)
    threads_.emplace_back([raw = loop.get()] { raw->run(); });
}

// docs/performance.md, "Free heap given back".
constexpr std::chrono::milliseconds trim_period{250};

std::unique_ptr<service> service::start(const service_options& options,
                                        std::shared_ptr<state_store> store,
                                        std::shared_ptr<web_context> web,
                                        std::string& error) {
  std::unique_ptr<service> svc(new service());
  if (!svc->open(options, std::move(web), error))
    return nullptr;
  svc->trimmer_ = std::make_unique<heap_trimmer>(trim_period);
  svc->start_deciding(options, std::move(store));
  svc->run_loops();
  return svc;
}

std::unique_ptr<service>
service::start_replica(const service_options& options,
                       const replication_options& replication,
                       std::shared_ptr<web_context> web, std::string& error) {
  auto client = std::shared_ptr<etcd::client>(
      etcd::client::connect(replication.etcd, error));
  if (!client)
    return nullptr;
  std::string secret;
  if (!etcd::replica_secret(*client, replication.prefix, secret, error))
    return nullptr;
  std::unique_ptr<service> svc(new service());
  svc->trimmer_ = std::make_unique<heap_trimmer>(trim_period);
  svc->role_ = std::make_shared<replica_role_board>();
  svc->role_->set_self(replication.advertise);
  service_metrics::instance().replicated = true;
  auto role = svc->role_;
  web->role = [role] { return role->get(); };
  web->replica_secret = secret;
  web->replay = std::make_shared<replay_guard>(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  web->leader_revision = [role]() -> std::optional<std::int64_t> {
    if (!role->may_decide())
      return std::nullopt;
    return role->committed_revision();
  };
  svc->forwarder_ = std::make_shared<call_forwarder>(svc->role_, secret);
  if (!svc->open(options, web, error))
    return nullptr;
  // The leader's checks go to its groups; a follower's are answered from a
  // replica fed by etcd's watch once it is as current as the leader's
  // answers (docs/architecture.md, "Checks on a follower").
  svc->options_ = options;
  svc->options_.local_checks = false;
  auto* raw = svc.get();
  if (options.local_checks) {
    svc->barrier_ = std::make_shared<revision_barrier>(svc->role_, secret);
    svc->barrier_->on_round([raw] {
      for (auto& loop : raw->loops_)
        loop->barrier_done();
    });
  }
  for (auto& loop : svc->loops_) {
    loop->follow_role(svc->role_, svc->forwarder_);
    if (svc->barrier_)
      loop->follow_state(svc->barrier_, options.max_duration,
                         svc->wall_offset_);
  }
  svc->run_loops();
  if (svc->barrier_) {
    etcd::feed_listener listener;
    listener.load = [raw](std::shared_ptr<const stored_state> state,
                          etcd::feed_point at) {
      for (auto& loop : raw->loops_)
        loop->load_followed(state, at.changed, at.seen);
    };
    listener.changes =
        [raw](std::shared_ptr<const std::vector<state_change>> changes,
              etcd::feed_point at) {
          for (auto& loop : raw->loops_)
            loop->follow_changes(changes, at.changed, at.seen);
        };
    svc->feed_ = std::make_unique<etcd::replica_feed>(
        client, replication.prefix, std::move(listener));
    svc->feed_->start();
  }
  etcd::election_options election;
  election.prefix = replication.prefix;
  election.advertise = replication.advertise;
  election.lease_ttl = replication.lease_ttl;
  auto prefix = replication.prefix;
  svc->election_ = std::make_unique<etcd::leader_election>(
      client, election, *svc->role_,
      [raw, client, prefix](const etcd::leadership& held) {
        etcd::store_options store_options;
        store_options.prefix = prefix;
        store_options.fence = held.fence;
        auto role = raw->role_;
        store_options.on_committed = [role](std::int64_t revision) {
          role->note_committed(revision);
        };
        std::string why;
        auto store = std::shared_ptr<etcd::store>(
            etcd::store::open(client, store_options, why));
        if (!store) {
          spdlog::error("state not loaded from etcd: {}", why);
          return false;
        }
        spdlog::info("state: {}", store->describe());
        // Before it leads: every answer it gives depends on this state.
        raw->role_->note_committed(store->loaded_revision());
        std::lock_guard<std::mutex> lock(raw->deciding_mutex_);
        if (raw->stopped_)
          return false;
        raw->start_deciding(raw->options_, std::move(store));
        return true;
      },
      [raw] {
        std::lock_guard<std::mutex> lock(raw->deciding_mutex_);
        raw->stop_deciding();
      });
  svc->election_->start();
  return svc;
}

void service::stop() {
  if (stopped_)
    return;
  // Replicated: stepping down stops the deciding actors and lets another
  // replica take over at once.
  if (election_)
    election_->stop();
  std::lock_guard<std::mutex> lock(deciding_mutex_);
  stopped_ = true;
  for (auto& loop : loops_)
    loop->stop();
  for (auto& thread : threads_)
    thread.join();
  if (feed_)
    feed_->stop();
  if (barrier_)
    barrier_->stop();
  if (forwarder_)
    forwarder_->stop();
  stop_deciding();
  system_.reset();   // Waits for every actor to finish.
  resolver_.reset(); // Joins the look-up threads.
  // Only now: until the last actor and look-up are gone, answers and synced
  // changes may still be handed to a loop (its queues and eventfd must
  // exist).
  loops_.clear();
  if (listen_fd_ >= 0)
    ::close(listen_fd_);
  listen_fd_ = -1;
  trimmer_.reset();
}

service::~service() {
  stop();
}

} // namespace dm

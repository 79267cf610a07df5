// The running service: the actor system with its storage, router and
// front desks, the listening socket, and the I/O threads serving it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/interfaces.hpp"
#include "etcd/etcd_client.hpp"
#include "etcd/leader_election.hpp"
#include "etcd/replica_feed.hpp"
#include "frontend/dispatcher.hpp"
#include "memory/heap_trimmer.hpp"
#include "storage/state_store.hpp"
#include "web/web_context.hpp"

namespace dm {

struct service_options {
  std::uint16_t port = 6979;
  std::string listen_address; // empty: every address
  std::chrono::nanoseconds max_duration = std::chrono::hours(1);
  std::size_t io_threads = 1;
  std::size_t actor_threads = 0;     // 0: default_actor_threads
  std::string scheduler = "sharing"; // or "stealing"
  connection_limits limits;
  std::chrono::nanoseconds probe_timeout = std::chrono::seconds(5);
  std::shared_ptr<const tls_context> tls; // null: plain HTTP and SRPC only
  bool local_checks = true; // answer checks from the I/O threads' replicas
  // Blocking alerts (docs/semantics.md, "Blocking alerts"); no URL: off.
  std::string blocking_alerts_url; // Prometheus's base URL
  std::string blocking_alerts_match = ".*";
  std::chrono::nanoseconds blocking_alerts_interval = std::chrono::seconds(5);
  bool block_when_alerts_unavailable = true;
};

// Actor scheduler threads when none are asked for: the cores the I/O
// threads leave, at least one. `cores` 0 (unknown) counts as one.
std::size_t default_actor_threads(unsigned cores, std::size_t io_threads);

// One replica of several sharing their state in etcd.
struct replication_options {
  etcd::client_options etcd;
  std::string prefix = "/disruption-manager/";
  std::string advertise; // this replica's address for the others
  std::chrono::seconds lease_ttl{3};
};

class service {
public:
  // Starts everything on top of an opened store. Returns nullptr with
  // `error` set when the port cannot be had.
  static std::unique_ptr<service> start(const service_options& options,
                                        std::shared_ptr<state_store> store,
                                        std::shared_ptr<web_context> web,
                                        std::string& error);
  // Starts a replica: it serves the port at once, campaigns, and runs the
  // groups only while it leads, on the state it loads from etcd once it
  // has won (see docs/architecture.md, "Replicas on etcd").
  static std::unique_ptr<service>
  start_replica(const service_options& options,
                const replication_options& replication,
                std::shared_ptr<web_context> web, std::string& error);
  ~service();

  // The port actually bound (useful with port 0).
  std::uint16_t port() const { return port_; }
  void stop();

private:
  service() = default;
  // The listener, the actor system and the I/O loops (not yet running).
  bool open(const service_options& options, std::shared_ptr<web_context> web,
            std::string& error);
  // The actors that decide, on `store`; the loops send to them.
  void start_deciding(const service_options& options,
                      std::shared_ptr<state_store> store);
  void stop_deciding();
  void run_loops();

  caf::actor_system_config config_;
  std::unique_ptr<caf::actor_system> system_;
  storage_actor storage_;
  router_actor router_;
  gatherer_actor gatherer_;
  timer_actor timer_;
  alert_poller_actor alert_poller_;
  std::vector<front_desk_actor> desks_;
  std::unique_ptr<host_resolver> resolver_;
  std::vector<std::unique_ptr<dispatcher>> loops_;
  std::vector<std::thread> threads_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::chrono::nanoseconds wall_offset_{0};
  // Replicated only.
  service_options options_;
  std::shared_ptr<replica_role_board> role_;
  std::unique_ptr<etcd::leader_election> election_;
  std::shared_ptr<call_forwarder> forwarder_;
  std::shared_ptr<revision_barrier> barrier_;
  std::unique_ptr<etcd::replica_feed> feed_;
  std::mutex deciding_mutex_; // the election's thread against stop()
  // Gives the heap that start-up and whole-state pages free back.
  std::unique_ptr<heap_trimmer> trimmer_;
};

// Binds and listens (IPv6 dual-stack when possible, else IPv4).
int open_listener(const std::string& address, std::uint16_t port,
                  std::uint16_t& bound_port, std::string& error);

} // namespace dm

// A real etcd cluster for tests: members of Debian's etcd 3.4 binary on
// free loopback ports, each in a temporary directory, started together and
// stopped (or killed and brought back one by one).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace dm::test {

// TLS on the members' client URLs: their certificate and key, and the CA
// their clients' certificates must come from.
struct etcd_tls_files {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

class etcd_cluster {
public:
  // `members` (1 or 3) members, serving clients over TLS with `tls`.
  explicit etcd_cluster(std::size_t members = 3,
                        std::optional<etcd_tls_files> tls = std::nullopt);
  ~etcd_cluster();
  etcd_cluster(const etcd_cluster&) = delete;
  etcd_cluster& operator=(const etcd_cluster&) = delete;

  // Starts every member and waits until the cluster serves; false (with
  // the members' logs in `error`) when it does not.
  bool start(std::string& error,
             std::chrono::seconds wait = std::chrono::seconds(30));
  // SIGKILL one member / start it again on its data directory.
  void kill_member(std::size_t index);
  bool restart_member(std::size_t index);
  void stop();

  std::size_t size() const { return members_.size(); }
  // host:port of each member's client URL, comma-separated.
  std::string endpoints() const;
  std::vector<std::string> endpoint_list() const;
  std::string log_text(std::size_t index) const;

private:
  struct member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  bool start_member(std::size_t index, bool fresh);
  temp_dir dir_;
  std::vector<member> members_;
  std::optional<etcd_tls_files> tls_;
};

// Whether the etcd binary is there (the tests need it: scripts/setup).
bool etcd_available();

} // namespace dm::test

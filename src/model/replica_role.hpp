// Which replica leads, as one replica sees it (pages, state API, metrics).
#pragma once

#include <cstdint>
#include <string>

namespace dm {

struct replica_role {
  bool replicated = false; // the state is in etcd: there are replicas
  bool leader = false;
  std::string self;                      // the address this replica advertises
  std::string leader_address;            // empty: no leader known
  std::int64_t since_unix_ns = 0;        // start of the current role
  std::int64_t leader_since_unix_ns = 0; // when the current leader was learnt
                                         // of (0: none known)
  std::uint64_t leader_changes = 0;      // leaders seen since start
};

} // namespace dm

// disruption-manager-admin: an operator's levers (pause, freeze, limit,
// release, status) over the service's admin API.
#include <csignal>
#include <iostream>

#include "client/admin_client.hpp"

int main(int argc, char** argv) {
  // A server closing early must give an error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  return dm::run_admin_client(argc, argv, "/etc/disruption-manager-admin",
                              std::cout, std::cerr);
}

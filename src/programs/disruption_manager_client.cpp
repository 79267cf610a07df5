// disruption-manager-client: the program subd runs with check, request or
// cancel; its exit code is the Disruption Manager's answer.
#include <csignal>
#include <iostream>

#include "client/disruption_client.hpp"

int main(int argc, char** argv) {
  // A server closing early must give an error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  return dm::run_disruption_client(argc, argv, "/etc/disruption-manager-client",
                                   std::cout, std::cerr);
}

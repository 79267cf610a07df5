#include "net/ip_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace dm {

bool ip_socket_address(const std::string& text, sockaddr_storage& out,
                       socklen_t& size) {
  out = sockaddr_storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    size = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    size = sizeof(sockaddr_in6);
    return true;
  }
  size = 0;
  return false;
}

} // namespace dm

#include "net/ip_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

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

namespace {

// The address of `text` as bytes; false when it is not numeric. IPv4-mapped
// IPv6 addresses come back as IPv4.
bool address_bytes(const std::string& text, int& family,
                   unsigned char (&bytes)[16]) {
  in6_addr v6{};
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1)
    return false;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    family = AF_INET;
    std::memcpy(bytes, v6.s6_addr + 12, 4);
    return true;
  }
  family = AF_INET6;
  std::memcpy(bytes, v6.s6_addr, 16);
  return true;
}

} // namespace

bool parse_ip_network(const std::string& text, ip_network& out,
                      std::string& error) {
  auto slash = text.find('/');
  std::string address = text.substr(0, slash);
  out = ip_network{};
  if (!address_bytes(address, out.family, out.bytes)) {
    error = "\"" + text + "\" is not a network (want an address or CIDR " +
            "such as 10.0.0.0/8 or fd00::/8)";
    return false;
  }
  int max_bits = out.family == AF_INET ? 32 : 128;
  out.prefix_bits = max_bits;
  if (slash != std::string::npos) {
    std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 ||
        bits.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(bits) > max_bits) {
      error = "\"" + text + "\": the prefix length must be 0 to " +
              std::to_string(max_bits);
      return false;
    }
    out.prefix_bits = std::stoi(bits);
  }
  return true;
}

bool parse_ip_networks(const std::string& text, std::vector<ip_network>& out,
                       std::string& error) {
  out.clear();
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    std::string entry = text.substr(start, comma - start);
    auto first = entry.find_first_not_of(" \t");
    auto last = entry.find_last_not_of(" \t");
    if (first != std::string::npos) {
      ip_network network;
      if (!parse_ip_network(entry.substr(first, last - first + 1), network,
                            error))
        return false;
      out.push_back(network);
    } else if (comma < text.size() || start > 0) {
      error = "an empty entry in the network list \"" + text + "\"";
      return false;
    }
    start = comma + 1;
  }
  return true;
}

namespace {

bool contains_bytes(const ip_network& network, int family,
                    const unsigned char (&bytes)[16]) {
  if (family != network.family)
    return false;
  int bits = network.prefix_bits;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    unsigned mask = bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu;
    if ((bytes[i] & mask) != (network.bytes[i] & mask))
      return false;
  }
  return true;
}

} // namespace

bool network_contains(const ip_network& network, const std::string& address) {
  return any_network_contains({network}, address);
}

bool any_network_contains(const std::vector<ip_network>& networks,
                          const std::string& address) {
  int family = 0;
  unsigned char bytes[16] = {};
  if (!address_bytes(address, family, bytes))
    return false;
  for (const auto& network : networks)
    if (contains_bytes(network, family, bytes))
      return true;
  return false;
}

} // namespace dm

// A numeric IPv4 or IPv6 address as a socket address (port 0), for binding
// a client's socket to a chosen source address.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

namespace dm {

// False when `text` is neither a dotted IPv4 nor an IPv6 address.
bool ip_socket_address(const std::string& text, sockaddr_storage& out,
                       socklen_t& size);

// A network in CIDR notation ("10.0.0.0/8", "fd00::/8"); a bare address is
// the network of that address alone.
struct ip_network {
  int family = 0;               // AF_INET or AF_INET6
  unsigned char bytes[16] = {}; // the address, 4 or 16 bytes used
  int prefix_bits = 0;
};

// Parses `text`; on failure false, with `error` saying what is wrong.
bool parse_ip_network(const std::string& text, ip_network& out,
                      std::string& error);
// Parses a comma-separated list (spaces around entries allowed; empty: no
// network).
bool parse_ip_networks(const std::string& text, std::vector<ip_network>& out,
                       std::string& error);
// Whether the numeric `address` lies in `network` (an IPv4 address written
// as IPv4-mapped IPv6 counts as IPv4).
bool network_contains(const ip_network& network, const std::string& address);
// Whether it lies in any of `networks` (the address is read once).
bool any_network_contains(const std::vector<ip_network>& networks,
                          const std::string& address);

} // namespace dm

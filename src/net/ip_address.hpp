// A numeric IPv4 or IPv6 address as a socket address (port 0), for binding
// a client's socket to a chosen source address.
#pragma once

#include <sys/socket.h>

#include <string>

namespace dm {

// False when `text` is neither a dotted IPv4 nor an IPv6 address.
bool ip_socket_address(const std::string& text, sockaddr_storage& out,
                       socklen_t& size);

} // namespace dm

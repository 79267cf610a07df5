// The client's -disruptionManagerUrl: which protocol to speak (REST over
// http or https, SRPC with gob or JSON) and where the server is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dm {

enum class url_scheme {
  http,      // http://host[:port][/path], REST
  https,     // https://host[:port][/path], REST over TLS
  srpc,      // srpc://host[:port], SRPC with the gob coder
  srpc_json, // srpc+json://host[:port], SRPC with the JSON coder
};

struct server_url {
  url_scheme scheme = url_scheme::http;
  std::string host; // without brackets for IPv6 literals
  int port = 0;
  std::string path; // REST only; "/api/v1/request" when the URL has none
};

// The port each scheme implies when the URL names none: the URL standard's
// for http and https, the service's own port for SRPC.
int default_port(url_scheme scheme);

bool is_srpc(url_scheme scheme);

// Parses `text`; on failure returns nullopt with a reason naming the
// problem ("unsupported scheme \"ftp\"", "bad port \"x\"").
std::optional<server_url> parse_server_url(std::string_view text,
                                           std::string& error);

// host:port, with brackets around an IPv6 literal, for messages and the
// Host header.
std::string host_and_port(const server_url& url);

} // namespace dm

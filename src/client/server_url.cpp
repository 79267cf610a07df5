// Parsing of the client's server URL.
#include "client/server_url.hpp"

#include <cctype>

namespace dm {

namespace {

constexpr std::string_view rest_path = "/api/v1/request";

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

int default_port(url_scheme scheme) {
  switch (scheme) {
  case url_scheme::http:
    return 80;
  case url_scheme::https:
    return 443;
  case url_scheme::srpc:
  case url_scheme::srpc_json:
    return 6979;
  }
  return 6979;
}

bool is_srpc(url_scheme scheme) {
  return scheme == url_scheme::srpc || scheme == url_scheme::srpc_json;
}

std::optional<server_url> parse_server_url(std::string_view text,
                                           std::string& error) {
  auto separator = text.find("://");
  if (separator == std::string_view::npos) {
    error = "missing scheme (expected http://, https://, srpc:// or "
            "srpc+json://)";
    return std::nullopt;
  }
  server_url url;
  auto scheme = lower(text.substr(0, separator));
  if (scheme == "http")
    url.scheme = url_scheme::http;
  else if (scheme == "https")
    url.scheme = url_scheme::https;
  else if (scheme == "srpc" || scheme == "srpc+gob")
    url.scheme = url_scheme::srpc;
  else if (scheme == "srpc+json")
    url.scheme = url_scheme::srpc_json;
  else {
    error = "unsupported scheme \"" + scheme + "\"";
    return std::nullopt;
  }
  auto rest = text.substr(separator + 3);
  auto path_start = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path_start);
  auto path = path_start == std::string_view::npos ? std::string_view{}
                                                   : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    error = "user information in the URL is not supported";
    return std::nullopt;
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address";
      return std::nullopt;
    }
    url.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after the IPv6 address";
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        error = "empty port";
        return std::nullopt;
      }
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
      if (port_text.empty()) {
        error = "empty port";
        return std::nullopt;
      }
    }
    url.host = std::string(authority);
  }
  if (url.host.empty()) {
    error = "missing host";
    return std::nullopt;
  }
  if (port_text.empty()) {
    url.port = default_port(url.scheme);
  } else {
    if (port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port_text)) < 1 ||
        std::stoi(std::string(port_text)) > 65535) {
      error = "bad port \"" + std::string(port_text) + "\"";
      return std::nullopt;
    }
    url.port = std::stoi(std::string(port_text));
  }
  auto fragment = path.find('#');
  if (fragment != std::string_view::npos)
    path = path.substr(0, fragment);
  if (is_srpc(url.scheme)) {
    // SRPC's CONNECT path follows from the coder and TLS, not the URL.
    if (!path.empty() && path != "/") {
      error = "an SRPC URL takes no path (got \"" + std::string(path) + "\")";
      return std::nullopt;
    }
  } else if (path.empty() || path == "/") {
    url.path = std::string(rest_path);
  } else if (path.front() == '?') {
    url.path = std::string(rest_path) + std::string(path);
  } else {
    url.path = std::string(path);
  }
  for (char c : url.path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      error = "the path holds a space or control character";
      return std::nullopt;
    }
  }
  for (char c : url.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '/') {
      error = "the host holds a space or control character";
      return std::nullopt;
    }
  }
  return url;
}

std::string host_and_port(const server_url& url) {
  bool ipv6 = url.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + url.host + "]" : url.host) + ":" +
         std::to_string(url.port);
}

} // namespace dm

// One HTTP POST (or GET) on a fresh connection, plain or TLS, all of it
// within one deadline, with errors that say which step failed: the client
// programs' HTTP transport. Blocking; meant for short-lived tools, not for
// the server.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_exchange.hpp"
#include "tls/tls_context.hpp"

namespace dm {

struct http_post_request {
  std::string host; // name or address; also the TLS server name
  int port = 80;
  std::string method = "POST"; // or GET (then the body is sent empty)
  std::string path = "/";
  std::string host_header;                // "host:port"; host when empty
  std::string source_address;             // local address to bind first, if set
  std::shared_ptr<const tls_context> tls; // null: plain HTTP
  std::chrono::milliseconds timeout{30000}; // for the whole exchange
  std::string content_type = "application/json";
  std::string body;
  std::string user_agent = "disruption-manager-client";
};

// Posts the request and reads the answer. On failure returns nullopt with
// `error` ("connect to host:6979: Connection refused") and `failure` set.
std::optional<http_answer> http_post(const http_post_request& request,
                                     std::string& error, http_failure& failure);

} // namespace dm

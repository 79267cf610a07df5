// One HTTP POST on a fresh connection, plain or TLS, all of it within one
// deadline, with errors that say which step failed: the client program's
// REST transport. Blocking; meant for short-lived tools, not for the server.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tls/tls_context.hpp"

namespace dm {

struct http_post_request {
  std::string host; // name or address; also the TLS server name
  int port = 80;
  std::string path = "/";
  std::string host_header;                // "host:port"; host when empty
  std::string source_address;             // local address to bind first, if set
  std::shared_ptr<const tls_context> tls; // null: plain HTTP
  std::chrono::milliseconds timeout{30000}; // for the whole exchange
  std::string content_type = "application/json";
  std::string body;
  std::string user_agent = "disruption-manager-client";
};

struct http_answer {
  int status = 0;
  std::string reason; // "Forbidden"
  std::string body;
};

// Why a POST failed: the server could not be reached or the exchange broke
// off (transport), or bytes came back that are not an HTTP answer
// (protocol). An answer with any status is no failure.
enum class http_failure { transport, protocol };

// Posts the request and reads the answer. On failure returns nullopt with
// `error` ("connect to host:6979: Connection refused") and `failure` set.
std::optional<http_answer> http_post(const http_post_request& request,
                                     std::string& error, http_failure& failure);

enum class http_parse_status { need_more, done, error };

// Parses an HTTP/1.x answer from the bytes received so far; `eof` says the
// peer closed, which ends a body that has neither Content-Length nor chunked
// encoding. Handles Content-Length, chunked bodies and interim 1xx answers.
// Bodies over `max_body_bytes` are an error.
http_parse_status parse_http_answer(std::string_view data, bool eof,
                                    http_answer& answer, std::string& error,
                                    std::size_t max_body_bytes = 1 << 20);

} // namespace dm

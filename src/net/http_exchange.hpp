// One HTTP/1.1 exchange on a fresh connection, plain or TLS, all of it
// within one deadline: connect, handshake, send the request as given, read
// the answer. Blocking: for the client program and for ready-URL probes,
// which run on threads of their own, never on the I/O or actor threads.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tls/tls_context.hpp"

namespace dm {

struct http_answer {
  int status = 0;
  std::string reason;                                       // "Forbidden"
  std::vector<std::pair<std::string, std::string>> headers; // as received
  std::string body;

  // The first value of the header `name` (any case); empty when absent.
  std::string header(std::string_view name) const;
};

// Why an exchange failed: the server could not be reached or the exchange
// broke off (transport), or bytes came back that are not an HTTP answer
// (protocol). An answer with any status is no failure.
enum class http_failure { transport, protocol };

struct http_exchange_request {
  std::string host; // name or address to connect to
  int port = 80;
  std::string source_address;             // local address to bind first, if set
  std::shared_ptr<const tls_context> tls; // null: plain HTTP
  std::string server_name; // TLS server name to send and check; host if empty
  std::string where;       // the server as errors name it ("host:6979")
  std::string message;     // the whole request, as sent
  std::chrono::steady_clock::time_point deadline;
  // Stop once the final answer's status line and headers are in; the body
  // is neither read nor waited for.
  bool headers_only = false;
  // A longer body is a protocol failure.
  std::size_t max_body_bytes = 1 << 20;
};

// Makes the exchange. On failure returns nullopt with `error` ("connect to
// host:6979: Connection refused") and `failure` set.
std::optional<http_answer> http_exchange(const http_exchange_request& request,
                                         std::string& error,
                                         http_failure& failure);

enum class http_parse_status { need_more, done, error };

// Parses an HTTP/1.x answer from the bytes received so far; `eof` says the
// peer closed, which ends a body that has neither Content-Length nor chunked
// encoding. Handles Content-Length, chunked bodies and interim 1xx answers.
// Bodies over `max_body_bytes` are an error. With `headers_only`, done as
// soon as the final answer's headers are complete.
http_parse_status parse_http_answer(std::string_view data, bool eof,
                                    http_answer& answer, std::string& error,
                                    std::size_t max_body_bytes = 1 << 20,
                                    bool headers_only = false);

} // namespace dm

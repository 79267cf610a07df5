// The client program's REST transport: one POST through http_exchange.
#include "client/http_post.hpp"

namespace dm {

std::optional<http_answer> http_post(const http_post_request& request,
                                     std::string& error,
                                     http_failure& failure) {
  http_exchange_request exchange;
  exchange.host = request.host;
  exchange.port = request.port;
  exchange.source_address = request.source_address;
  exchange.tls = request.tls;
  exchange.where =
      request.host_header.empty() ? request.host : request.host_header;
  exchange.deadline = std::chrono::steady_clock::now() + request.timeout;
  exchange.message =
      request.method + " " + request.path +
      " HTTP/1.1\r\nHost: " + exchange.where +
      "\r\nUser-Agent: " + request.user_agent +
      "\r\nContent-Type: " + request.content_type +
      "\r\nContent-Length: " + std::to_string(request.body.size()) +
      "\r\nConnection: close\r\n\r\n" + request.body;
  return http_exchange(exchange, error, failure);
}

} // namespace dm

// GETs a URL and returns its HTTP status: how probers ask whether a machine
// is ready (and, with the body, how the alert poller reads Prometheus).
// Blocking, with a timeout; only detached actors (on their own threads)
// call it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "net/http_exchange.hpp"
#include "tls/tls_context.hpp"

namespace dm {

class url_fetcher {
public:
  virtual ~url_fetcher() = default;
  // The status code, or -1 with `error` set when no answer came.
  virtual int get_status(const std::string& url,
                         std::chrono::nanoseconds timeout,
                         std::string& error) const = 0;
};

// The real one, fetching as the original's http.Get does (docs/semantics.md,
// "Edges"): the URL read by Go's rules (one Go refuses is a failed probe),
// user information sent as Basic authorization, up to 10 redirects followed
// as Go's client follows them, the status taken from the status line and
// the connection closed without reading the body. HTTPS servers are
// verified against the CAs the system trusts. Unlike http.Get, the whole
// fetch, redirects included, ends at `timeout`.
class http_url_fetcher final : public url_fetcher {
public:
  http_url_fetcher();
  // With the CAs HTTPS servers are checked against (tests use their own).
  explicit http_url_fetcher(std::shared_ptr<const tls_context> tls);
  int get_status(const std::string& url, std::chrono::nanoseconds timeout,
                 std::string& error) const override;
  // The same GET, reading the final answer's body too (at most
  // `max_body_bytes`); nullopt with `error` set when no answer came.
  std::optional<http_answer> get(const std::string& url,
                                 std::chrono::nanoseconds timeout,
                                 std::size_t max_body_bytes,
                                 std::string& error) const;

private:
  std::optional<http_answer> fetch(const std::string& url,
                                   std::chrono::nanoseconds timeout,
                                   bool headers_only,
                                   std::size_t max_body_bytes,
                                   std::string& error) const;

  std::shared_ptr<const tls_context> tls_; // null: HTTPS fails with tls_error_
  std::string tls_error_;
};

} // namespace dm

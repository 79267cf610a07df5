// GETs a URL and returns its HTTP status: how probers ask whether a machine
// is ready. Blocking, with a timeout; only probers (on their own threads)
// call it.
#pragma once

#include <chrono>
#include <string>

namespace dm {

class url_fetcher {
public:
  virtual ~url_fetcher() = default;
  // The status code, or -1 with `error` set when no answer came.
  virtual int get_status(const std::string& url,
                         std::chrono::nanoseconds timeout,
                         std::string& error) const = 0;
};

// The real one: plain HTTP and HTTPS (server certificates verified).
class http_url_fetcher final : public url_fetcher {
public:
  int get_status(const std::string& url, std::chrono::nanoseconds timeout,
                 std::string& error) const override;
};

// Splits "scheme://host[:port]/path?query" into origin and path.
bool split_url(const std::string& url, std::string& origin, std::string& path,
               std::string& error);

} // namespace dm

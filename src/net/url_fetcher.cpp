// The HTTP client behind ready-URL probes.
#include "net/url_fetcher.hpp"

#include <httplib.h>

namespace dm {

bool split_url(const std::string& url, std::string& origin, std::string& path,
               std::string& error) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    error = "not an absolute URL: " + url;
    return false;
  }
  auto scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    error = "unsupported scheme \"" + scheme + "\" in " + url;
    return false;
  }
  auto host_start = scheme_end + 3;
  auto path_start = url.find_first_of("/?#", host_start);
  if (path_start == std::string::npos) {
    origin = url;
    path = "/";
  } else {
    origin = url.substr(0, path_start);
    path = url.substr(path_start);
    if (path.front() != '/')
      path = "/" + path;
    auto fragment = path.find('#');
    if (fragment != std::string::npos)
      path.resize(fragment);
  }
  if (origin.size() <= host_start) {
    error = "no host in " + url;
    return false;
  }
  return true;
}

int http_url_fetcher::get_status(const std::string& url,
                                 std::chrono::nanoseconds timeout,
                                 std::string& error) const {
  std::string origin;
  std::string path;
  if (!split_url(url, origin, path, error))
    return -1;
  httplib::Client client(origin);
  if (!client.is_valid()) {
    error = "cannot make a client for " + origin;
    return -1;
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  auto usecs =
      std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_write_timeout(secs.count(), usecs.count());
  client.set_keep_alive(false);
  auto response = client.Get(path.c_str());
  if (!response) {
    error = httplib::to_string(response.error());
    return -1;
  }
  return response->status;
}

} // namespace dm

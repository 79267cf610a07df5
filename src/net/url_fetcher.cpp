// The HTTP client behind ready-URL probes: Go's http.Get, step for step,
// over one blocking exchange per request (net/http_exchange).
#include "net/url_fetcher.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <optional>

#include "net/go_url.hpp"
#include "net/http_exchange.hpp"

namespace dm {

namespace {

// Go's client gives up at the tenth redirect (defaultCheckRedirect).
constexpr int max_redirects = 10;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 ||
         status == 308;
}

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

// Go's httpguts.ValidHostHeader (ASCII host names only: Go would turn
// others into punycode first).
bool valid_host_header(const std::string& host) {
  for (char ch : host) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') ||
              std::string_view("!$%&()*+,-.:;=[]'_~").find(ch) !=
                  std::string_view::npos;
    if (!ok)
      return false;
  }
  return true;
}

// Go's removeEmptyPort, applied by http.NewRequest: "host:" is "host".
void remove_empty_port(go_url& url) {
  auto colon = url.host.rfind(':');
  auto bracket = url.host.rfind(']');
  if (colon != std::string::npos &&
      (bracket == std::string::npos || colon > bracket) &&
      colon + 1 == url.host.size())
    url.host.pop_back();
}

} // namespace

http_url_fetcher::http_url_fetcher() {
  client_tls_options options;
  options.check = server_check::verify_with_system_roots;
  if (auto context = tls_context::make_client(options, tls_error_))
    tls_ = std::make_shared<const tls_context>(std::move(*context));
}

http_url_fetcher::http_url_fetcher(std::shared_ptr<const tls_context> tls)
    : tls_(std::move(tls)), tls_error_("no TLS context") {}

int http_url_fetcher::get_status(const std::string& url,
                                 std::chrono::nanoseconds timeout,
                                 std::string& error) const {
  auto answer = fetch(url, timeout, true, 1 << 20, error);
  return answer ? answer->status : -1;
}

std::optional<http_answer>
http_url_fetcher::get(const std::string& url, std::chrono::nanoseconds timeout,
                      std::size_t max_body_bytes, std::string& error) const {
  return fetch(url, timeout, false, max_body_bytes, error);
}

std::optional<http_answer>
http_url_fetcher::fetch(const std::string& text,
                        std::chrono::nanoseconds timeout, bool headers_only,
                        std::size_t max_body_bytes, std::string& error) const {
  // (A timeout beyond a day gains nothing and would strain the clock.)
  auto deadline =
      std::chrono::steady_clock::now() +
      std::min<std::chrono::nanoseconds>(timeout, std::chrono::hours(24));
  auto url = parse_go_url(text, error);
  if (!url)
    return std::nullopt;
  remove_empty_port(*url);
  std::string referer;
  for (int redirects = 0;;) {
    auto fail = [&](const std::string& why) {
      error = "Get \"" + url->to_string() + "\": " + why;
      return std::optional<http_answer>();
    };
    // What Go's transport checks before it dials.
    if (url->scheme != "http" && url->scheme != "https")
      return fail("unsupported protocol scheme \"" + url->scheme + "\"");
    if (url->host.empty())
      return fail("http: no Host in request URL");
    if (!valid_host_header(url->host))
      return fail("http: invalid Host header");
    http_exchange_request request;
    request.host = url->hostname();
    auto port = url->port();
    if (port.empty())
      port = url->scheme == "https" ? "443" : "80";
    long number = 0;
    for (char digit : port) // (url.port() holds digits only)
      number = std::min(number * 10 + (digit - '0'), 65536L);
    if (number > 65535)
      return fail("dial tcp: address " + port + ": invalid port");
    request.port = static_cast<int>(number);
    request.where = url->host;
    if (url->scheme == "https") {
      if (!tls_)
        return fail(tls_error_);
      request.tls = tls_;
    }
    request.deadline = deadline;
    request.headers_only = headers_only;
    request.max_body_bytes = max_body_bytes;
    request.message = "GET " + url->request_uri() +
                      " HTTP/1.1\r\nHost: " + url->host +
                      "\r\nUser-Agent: Go-http-client/1.1\r\n";
    if (url->has_user)
      request.message += "Authorization: Basic " +
                         base64(url->username + ":" + url->password) + "\r\n";
    if (!referer.empty())
      request.message += "Referer: " + referer + "\r\n";
    // Go's client asks for gzip and unpacks it itself; a body read here is
    // read as sent, so only a probe (which reads no body) asks.
    if (headers_only)
      request.message += "Accept-Encoding: gzip\r\n";
    request.message += "Connection: close\r\n\r\n";
    http_failure failure;
    std::string why;
    auto answer = http_exchange(request, why, failure);
    if (!answer)
      return fail(why);
    if (!is_redirect(answer->status))
      return answer;
    auto location = answer->header("Location");
    if (location.empty())
      return answer; // Go hands such an answer back as it is.
    auto ref = parse_go_url(location, why);
    if (!ref)
      return fail("failed to parse Location header \"" + location +
                  "\": " + why);
    auto next = resolve_go_url(*url, *ref);
    if (++redirects >= max_redirects) {
      url = next;
      return fail("stopped after 10 redirects");
    }
    // The Referer names the page redirected from, without its user
    // information, and not at all from https to http.
    referer = url->scheme == "https" && next.scheme == "http"
                  ? ""
                  : url->to_string(false);
    url = std::move(next);
  }
}

} // namespace dm

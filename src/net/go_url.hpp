// URLs as Go's net/url reads and writes them: what the original's
// http.Get makes of a ready URL, so that we call the same URL, refuse the
// same ones, and follow redirects to the same places.
#pragma once

#include <optional>
#include <string>

namespace dm {

struct go_url {
  std::string scheme; // lower case
  std::string opaque; // "http:foo": what follows the scheme when no "/"
  bool has_user = false;
  std::string username; // unescaped
  bool has_password = false;
  std::string password; // unescaped
  std::string host;     // "name", "name:port" or "[v6]:port", unescaped
  std::string path;     // unescaped
  std::string raw_path; // the path as written, when its escaping differs
  bool omit_host = false;
  bool force_query = false;
  std::string raw_query; // as written, never escaped or unescaped
  std::string fragment;  // unescaped
  std::string raw_fragment;

  // The path escaped as Go's URL.EscapedPath: as written when that is a
  // valid escaping of it, else escaped with Go's rules.
  std::string escaped_path() const;
  std::string escaped_fragment() const;
  // What the request line carries: escaped path (or "/") and query.
  std::string request_uri() const;
  // The host without port or IPv6 brackets, and the port ("" if none).
  std::string hostname() const;
  std::string port() const;
  bool is_absolute() const { return !scheme.empty(); }
  // Go's URL.String(); without the user information when `with_user` is
  // false (as the client's Referer header).
  std::string to_string(bool with_user = true) const;
};

// Go's url.Parse. On failure returns nullopt and sets `error` to Go's
// reason ("invalid port \":x\" after host").
std::optional<go_url> parse_go_url(const std::string& text, std::string& error);

// Go's URL.ResolveReference: `ref` taken relative to `base`.
go_url resolve_go_url(const go_url& base, const go_url& ref);

} // namespace dm

// Go's net/url, rule for rule: parse, escape, unescape and resolve, as
// url.go does them (shouldEscape, validEncoded, setPath, parseHost...).
#include "net/go_url.hpp"

#include <string_view>

#include "text/hex_digit.hpp"

namespace dm {

namespace {

enum class encoding {
  path,
  path_segment,
  host,
  zone,
  user_password,
  query_component,
  fragment
};

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

// Whether `c` is one of the bytes in `set`.
bool one_of(unsigned char c, std::string_view set) {
  return c != 0 && set.find(static_cast<char>(c)) != std::string_view::npos;
}

// Go's shouldEscape: whether `c` must be escaped in that part of a URL.
bool should_escape(unsigned char c, encoding mode) {
  if (is_alnum(c))
    return false;
  // Hosts keep the sub-delimiters, ":" and "[ ]" of ports and IPv6, and
  // "< > \"", which parsing would refuse escaped.
  if ((mode == encoding::host || mode == encoding::zone) &&
      one_of(c, "!$&'()*+,;=:[]<>\""))
    return false;
  if (one_of(c, "-_.~")) // unreserved
    return false;
  if (one_of(c, "$&+,/:;=?@")) { // reserved: each part allows some
    switch (mode) {
    case encoding::path:
      return c == '?';
    case encoding::path_segment:
      return one_of(c, "/;,?");
    case encoding::user_password:
      return one_of(c, "@/?:");
    case encoding::query_component:
      return true;
    case encoding::fragment:
      return false;
    default:
      break;
    }
  }
  if (mode == encoding::fragment && one_of(c, "!()*"))
    return false;
  return true;
}

std::string escape(std::string_view s, encoding mode) {
  static const char upper_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ' && mode == encoding::query_component) {
      out += '+';
    } else if (should_escape(c, mode)) {
      out += '%';
      out += upper_hex[c >> 4];
      out += upper_hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

// Go's unescape, with its checks per part; nullopt with Go's reason.
std::optional<std::string> unescape(std::string_view s, encoding mode,
                                    std::string& error) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      // (Go's own bound: "%" with fewer than two bytes after it is bad.)
      if (i + 2 >= s.size() || hex_digit_value(s[i + 1]) < 0 ||
          hex_digit_value(s[i + 2]) < 0) {
        error = "invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"";
        return std::nullopt;
      }
      // In a host, %-escapes may only stand for non-ASCII bytes (and %25
      // for the "%" before an IPv6 zone).
      if (mode == encoding::host && hex_digit_value(s[i + 1]) < 8 &&
          s.substr(i, 3) != "%25") {
        error = "invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"";
        return std::nullopt;
      }
      if (mode == encoding::zone) {
        auto v = static_cast<unsigned char>(hex_digit_value(s[i + 1]) << 4 |
                                            hex_digit_value(s[i + 2]));
        if (s.substr(i, 3) != "%25" && v != ' ' &&
            should_escape(v, encoding::host)) {
          error = "invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"";
          return std::nullopt;
        }
      }
      i += 3;
      continue;
    }
    if ((mode == encoding::host || mode == encoding::zone) && c < 0x80 &&
        should_escape(c, mode)) {
      error = "invalid character \"" + std::string(1, s[i]) + "\" in host name";
      return std::nullopt;
    }
    ++i;
  }
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      out += static_cast<char>(hex_digit_value(s[i + 1]) << 4 |
                               hex_digit_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && mode == encoding::query_component) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Go's validEncoded: `s` needs no further escaping in that part (the
// sub-delimiters, ":", "@", "[ ]" and escapes are all left as they are).
bool valid_encoded(std::string_view s, encoding mode) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (!one_of(c, "!$&'()*+,;=:@[]%") && should_escape(c, mode))
      return false;
  }
  return true;
}

bool valid_optional_port(std::string_view port) {
  if (port.empty())
    return true;
  if (port[0] != ':')
    return false;
  for (char c : port.substr(1))
    if (c < '0' || c > '9')
      return false;
  return true;
}

bool valid_userinfo(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (!is_alnum(c) && !one_of(c, "-._:~!$&'()*+,;=%@"))
      return false;
  }
  return true;
}

std::optional<std::string> parse_host(std::string_view host,
                                      std::string& error) {
  if (!host.empty() && host[0] == '[') {
    auto close = host.rfind(']');
    if (close == std::string_view::npos) {
      error = "missing ']' in host";
      return std::nullopt;
    }
    auto colon_port = host.substr(close + 1);
    if (!valid_optional_port(colon_port)) {
      error = "invalid port \"" + std::string(colon_port) + "\" after host";
      return std::nullopt;
    }
    auto zone = host.substr(0, close).find("%25");
    if (zone != std::string_view::npos) {
      auto part1 = unescape(host.substr(0, zone), encoding::host, error);
      if (!part1)
        return std::nullopt;
      auto part2 =
          unescape(host.substr(zone, close - zone), encoding::zone, error);
      if (!part2)
        return std::nullopt;
      auto part3 = unescape(host.substr(close), encoding::host, error);
      if (!part3)
        return std::nullopt;
      return *part1 + *part2 + *part3;
    }
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    auto colon_port = host.substr(colon);
    if (!valid_optional_port(colon_port)) {
      error = "invalid port \"" + std::string(colon_port) + "\" after host";
      return std::nullopt;
    }
  }
  return unescape(host, encoding::host, error);
}

bool parse_authority(std::string_view authority, go_url& url,
                     std::string& error) {
  auto at = authority.rfind('@');
  auto host = parse_host(
      at == std::string_view::npos ? authority : authority.substr(at + 1),
      error);
  if (!host)
    return false;
  url.host = std::move(*host);
  if (at == std::string_view::npos)
    return true;
  auto userinfo = authority.substr(0, at);
  if (!valid_userinfo(userinfo)) {
    error = "net/url: invalid userinfo";
    return false;
  }
  url.has_user = true;
  auto colon = userinfo.find(':');
  auto name =
      unescape(userinfo.substr(0, colon), encoding::user_password, error);
  if (!name)
    return false;
  url.username = std::move(*name);
  if (colon != std::string_view::npos) {
    auto password =
        unescape(userinfo.substr(colon + 1), encoding::user_password, error);
    if (!password)
      return false;
    url.has_password = true;
    url.password = std::move(*password);
  }
  return true;
}

// Go's setPath and setFragment: `value` unescaped from `text`, and `raw`
// the text as written when Go's own escaping of `value` would differ.
bool set_escaped(std::string_view text, encoding mode, std::string& value,
                 std::string& raw, std::string& error) {
  auto unescaped = unescape(text, mode, error);
  if (!unescaped)
    return false;
  value = std::move(*unescaped);
  raw = escape(value, mode) == text ? "" : std::string(text);
  return true;
}

bool set_path(go_url& url, std::string_view p, std::string& error) {
  return set_escaped(p, encoding::path, url.path, url.raw_path, error);
}

// What a reference without authority takes from nowhere: no user, host or
// path.
void drop_authority_and_path(go_url& url) {
  url.has_user = url.has_password = false;
  url.username.clear();
  url.password.clear();
  url.host.clear();
  url.path.clear();
}

// Go's getScheme: the scheme before ":", if the text starts with one.
bool get_scheme(std::string_view raw, std::string& scheme,
                std::string_view& rest, std::string& error) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0)
        break;
      continue;
    }
    if (c == ':') {
      if (i == 0) {
        error = "missing protocol scheme";
        return false;
      }
      scheme = std::string(raw.substr(0, i));
      rest = raw.substr(i + 1);
      return true;
    }
    break;
  }
  rest = raw;
  return true;
}

// Go's resolvePath: `ref` against `base`, with "." and ".." taken out.
std::string resolve_path(const std::string& base, const std::string& ref) {
  std::string full;
  if (ref.empty())
    full = base;
  else if (ref[0] != '/')
    full = base.substr(0, base.rfind('/') + 1) + ref; // (npos + 1 == 0)
  else
    full = ref;
  if (full.empty())
    return "";
  std::string dst = "/";
  bool first = true;
  std::string_view remaining = full;
  std::string_view elem;
  bool found = true;
  while (found) {
    auto slash = remaining.find('/');
    found = slash != std::string_view::npos;
    elem = remaining.substr(0, slash);
    remaining = found ? remaining.substr(slash + 1) : std::string_view();
    if (elem == ".") {
      first = false;
      continue;
    }
    if (elem == "..") {
      std::string str = dst.substr(1);
      auto index = str.rfind('/');
      dst = "/";
      if (index == std::string::npos)
        first = true;
      else
        dst += str.substr(0, index);
    } else {
      if (!first)
        dst += '/';
      dst += elem;
      first = false;
    }
  }
  if (elem == "." || elem == "..")
    dst += '/';
  if (dst.size() > 1 && dst[1] == '/')
    dst.erase(0, 1);
  return dst;
}

bool contains_control_byte(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < ' ' || c == 0x7f)
      return true;
  }
  return false;
}

// Go's parse(rawURL, viaRequest=false), without the fragment.
bool parse_reference(std::string_view raw, go_url& url, std::string& error) {
  if (contains_control_byte(raw)) {
    error = "net/url: invalid control character in URL";
    return false;
  }
  if (raw == "*") {
    url.path = "*";
    return true;
  }
  std::string_view rest;
  if (!get_scheme(raw, url.scheme, rest, error))
    return false;
  for (auto& c : url.scheme)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  if (!rest.empty() && rest.back() == '?' &&
      rest.find('?') == rest.size() - 1) {
    url.force_query = true;
    rest.remove_suffix(1);
  } else if (auto q = rest.find('?'); q != std::string_view::npos) {
    url.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (rest.empty() || rest[0] != '/') {
    if (!url.scheme.empty()) {
      // Rootless paths after a scheme are opaque.
      url.opaque = std::string(rest);
      return true;
    }
    auto segment = rest.substr(0, rest.find('/'));
    if (segment.find(':') != std::string_view::npos) {
      error = "first path segment in URL cannot contain colon";
      return false;
    }
  }
  if ((!url.scheme.empty() || rest.substr(0, 3) != "///") &&
      rest.substr(0, 2) == "//") {
    auto authority = rest.substr(2);
    rest = std::string_view();
    if (auto slash = authority.find('/'); slash != std::string_view::npos) {
      rest = authority.substr(slash);
      authority = authority.substr(0, slash);
    }
    if (!parse_authority(authority, url, error))
      return false;
  } else if (!url.scheme.empty() && !rest.empty() && rest[0] == '/') {
    url.omit_host = true;
  }
  return set_path(url, rest, error);
}

std::string userinfo_text(const go_url& url) {
  std::string s = escape(url.username, encoding::user_password);
  if (url.has_password)
    s += ":" + escape(url.password, encoding::user_password);
  return s;
}

} // namespace

std::optional<go_url> parse_go_url(const std::string& text,
                                   std::string& error) {
  std::string_view raw = text;
  auto hash = raw.find('#');
  go_url url;
  std::string reason;
  if (!parse_reference(raw.substr(0, hash), url, reason)) {
    error = "parse \"" + std::string(raw.substr(0, hash)) + "\": " + reason;
    return std::nullopt;
  }
  if (hash != std::string_view::npos && hash + 1 < raw.size() &&
      !set_escaped(raw.substr(hash + 1), encoding::fragment, url.fragment,
                   url.raw_fragment, reason)) {
    error = "parse \"" + text + "\": " + reason;
    return std::nullopt;
  }
  return url;
}

std::string go_url::escaped_path() const {
  if (!raw_path.empty() && valid_encoded(raw_path, encoding::path)) {
    std::string ignored;
    auto p = unescape(raw_path, encoding::path, ignored);
    if (p && *p == path)
      return raw_path;
  }
  if (path == "*")
    return "*";
  return escape(path, encoding::path);
}

std::string go_url::escaped_fragment() const {
  if (!raw_fragment.empty() &&
      valid_encoded(raw_fragment, encoding::fragment)) {
    std::string ignored;
    auto f = unescape(raw_fragment, encoding::fragment, ignored);
    if (f && *f == fragment)
      return raw_fragment;
  }
  return escape(fragment, encoding::fragment);
}

std::string go_url::request_uri() const {
  std::string result = opaque;
  if (result.empty()) {
    result = escaped_path();
    if (result.empty())
      result = "/";
  } else if (result.substr(0, 2) == "//") {
    result = scheme + ":" + result;
  }
  if (force_query || !raw_query.empty())
    result += "?" + raw_query;
  return result;
}

std::string go_url::hostname() const {
  std::string_view h = host;
  auto colon = h.rfind(':');
  if (colon != std::string_view::npos && valid_optional_port(h.substr(colon)))
    h = h.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  return std::string(h);
}

std::string go_url::port() const {
  auto colon = host.rfind(':');
  if (colon != std::string::npos &&
      valid_optional_port(std::string_view(host).substr(colon)))
    return host.substr(colon + 1);
  return "";
}

std::string go_url::to_string(bool with_user) const {
  std::string out;
  if (!scheme.empty())
    out += scheme + ":";
  if (!opaque.empty()) {
    out += opaque;
  } else {
    if (!scheme.empty() || !host.empty() || has_user) {
      if (omit_host && host.empty() && !has_user) {
        // an empty host is left out
      } else {
        if (!host.empty() || !path.empty() || has_user)
          out += "//";
        if (has_user && with_user)
          out += userinfo_text(*this) + "@";
        if (!host.empty())
          out += escape(host, encoding::host);
      }
    }
    auto p = escaped_path();
    if (!p.empty() && p[0] != '/' && !host.empty())
      out += '/';
    if (out.empty()) {
      auto segment = p.substr(0, p.find('/'));
      if (segment.find(':') != std::string::npos)
        out += "./";
    }
    out += p;
  }
  if (force_query || !raw_query.empty())
    out += "?" + raw_query;
  if (!fragment.empty())
    out += "#" + escaped_fragment();
  return out;
}

go_url resolve_go_url(const go_url& base, const go_url& ref) {
  go_url url = ref;
  std::string ignored;
  if (ref.scheme.empty())
    url.scheme = base.scheme;
  if (!ref.scheme.empty() || !ref.host.empty() || ref.has_user) {
    set_path(url, resolve_path(ref.escaped_path(), ""), ignored);
    return url;
  }
  if (!ref.opaque.empty()) {
    drop_authority_and_path(url);
    return url;
  }
  if (ref.path.empty() && !ref.force_query && ref.raw_query.empty()) {
    url.raw_query = base.raw_query;
    if (ref.fragment.empty()) {
      url.fragment = base.fragment;
      url.raw_fragment = base.raw_fragment;
    }
  }
  if (ref.path.empty() && !base.opaque.empty()) {
    url.opaque = base.opaque;
    drop_authority_and_path(url);
    return url;
  }
  url.host = base.host;
  url.has_user = base.has_user;
  url.username = base.username;
  url.has_password = base.has_password;
  url.password = base.password;
  set_path(url, resolve_path(base.escaped_path(), ref.escaped_path()), ignored);
  return url;
}

} // namespace dm

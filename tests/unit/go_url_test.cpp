// URLs read, written and resolved as Go's net/url does (cases after Go's
// url_test.go): what the original's http.Get makes of a ready URL.
#include <gtest/gtest.h>

#include "net/go_url.hpp"

using namespace dm;

namespace {

go_url parsed(const std::string& text) {
  std::string error;
  auto url = parse_go_url(text, error);
  EXPECT_TRUE(url) << text << ": " << error;
  return url ? *url : go_url{};
}

std::string refused(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse_go_url(text, error)) << text;
  return error;
}

std::string resolved(const std::string& base, const std::string& ref) {
  return resolve_go_url(parsed(base), parsed(ref)).to_string();
}

} // namespace

TEST(go_url, parts) {
  auto u = parsed("HTTP://user:pa%20ss@Host.example:8080/a/b?q=go+x#frag");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_TRUE(u.has_user);
  EXPECT_EQ(u.username, "user");
  EXPECT_TRUE(u.has_password);
  EXPECT_EQ(u.password, "pa ss");
  EXPECT_EQ(u.host, "Host.example:8080");
  EXPECT_EQ(u.hostname(), "Host.example");
  EXPECT_EQ(u.port(), "8080");
  EXPECT_EQ(u.path, "/a/b");
  EXPECT_EQ(u.raw_query, "q=go+x");
  EXPECT_EQ(u.fragment, "frag");
  EXPECT_EQ(u.request_uri(), "/a/b?q=go+x");

  auto v6 = parsed("http://[fe80::1%25en0]:8080/");
  EXPECT_EQ(v6.host, "[fe80::1%en0]:8080");
  EXPECT_EQ(v6.hostname(), "fe80::1%en0");
  auto user_only = parsed("http://who@h/");
  EXPECT_TRUE(user_only.has_user);
  EXPECT_FALSE(user_only.has_password);
  EXPECT_EQ(parsed("http://h").request_uri(), "/");
  EXPECT_EQ(parsed("http://h?x").request_uri(), "/?x");
  EXPECT_EQ(parsed("http://h/p?").request_uri(), "/p?");
  EXPECT_EQ(parsed("mailto:a@b").opaque, "a@b");
  EXPECT_EQ(parsed("http:foo").host, "");
}

// The request line carries the path as Go escapes it and the query as
// written: spaces in the query stay raw, < > " are escaped in the path,
// [ ] and ; , are left alone.
TEST(go_url, request_uri_escapes_as_go) {
  EXPECT_EQ(parsed("http://h/a b").request_uri(), "/a%20b");
  EXPECT_EQ(parsed("http://h/a%20b").request_uri(), "/a%20b");
  EXPECT_EQ(parsed("http://h/p?x=a b&y=\"<>\"").request_uri(),
            "/p?x=a b&y=\"<>\"");
  EXPECT_EQ(parsed("http://h/c;d,e[f]").request_uri(), "/c;d,e[f]");
  EXPECT_EQ(parsed("http://h/a b/c;d,e[f]<g>\"").request_uri(),
            "/a%20b/c;d,e%5Bf%5D%3Cg%3E%22");
  // A valid escaping that differs from Go's own is kept as written.
  EXPECT_EQ(parsed("http://h/a%2fb").request_uri(), "/a%2fb");
  EXPECT_EQ(parsed("http://h/%41").request_uri(), "/%41");
  EXPECT_EQ(parsed("http://h/é").request_uri(), "/%C3%A9");
}

TEST(go_url, refuses_what_go_refuses) {
  EXPECT_NE(refused("http://h/a\nb").find("invalid control character"),
            std::string::npos);
  EXPECT_NE(refused("http://h/\x7f").find("invalid control character"),
            std::string::npos);
  EXPECT_NE(refused("http://h:80x/").find("invalid port \":80x\" after host"),
            std::string::npos);
  EXPECT_NE(refused("http://[::1/").find("missing ']' in host"),
            std::string::npos);
  EXPECT_NE(refused("http://[::1]x/").find("invalid port \"x\" after host"),
            std::string::npos);
  EXPECT_NE(refused("http://h/%zz").find("invalid URL escape \"%zz\""),
            std::string::npos);
  EXPECT_NE(refused("http://h/%4").find("invalid URL escape \"%4\""),
            std::string::npos);
  // In a host, escapes may stand only for non-ASCII bytes.
  EXPECT_NE(refused("http://%41.com/").find("invalid URL escape \"%41\""),
            std::string::npos);
  EXPECT_NE(refused("http://a b.com/").find("invalid character \" \" in host"),
            std::string::npos);
  EXPECT_NE(refused("http://us er@h/").find("invalid userinfo"),
            std::string::npos);
  EXPECT_NE(refused("://h/").find("missing protocol scheme"),
            std::string::npos);
  EXPECT_NE(refused("1a:b/").find("first path segment in URL cannot"),
            std::string::npos);
  EXPECT_NE(refused("http://h/#%zz").find("invalid URL escape"),
            std::string::npos);
  // What Go lets through: < > " in a host (the client refuses them later),
  // an empty port, an empty host.
  EXPECT_EQ(parsed("http://a<b/").host, "a<b");
  EXPECT_EQ(parsed("http://h:/").host, "h:");
  EXPECT_EQ(parsed("http:///p").host, "");
}

TEST(go_url, resolves_references_as_go) {
  EXPECT_EQ(resolved("http://foo.com?query", "bar"), "http://foo.com/bar");
  EXPECT_EQ(resolved("http://foo.com/bar/baz", "../quux"),
            "http://foo.com/quux");
  EXPECT_EQ(resolved("http://foo.com/bar", "/baz"), "http://foo.com/baz");
  EXPECT_EQ(resolved("http://foo.com/bar?a=b", "?q"), "http://foo.com/bar?q");
  EXPECT_EQ(resolved("http://foo.com/bar?a=b", ""), "http://foo.com/bar?a=b");
  EXPECT_EQ(resolved("http://foo.com/a/b/c", "."), "http://foo.com/a/b/");
  EXPECT_EQ(resolved("http://foo.com/a/b/c", ".."), "http://foo.com/a/");
  // Climbing above the root stays at the root.
  EXPECT_EQ(resolved("http://foo.com/a", "../../x"), "http://foo.com/x");
  EXPECT_EQ(resolved("http://foo.com/a/b", "//other.com/x"),
            "http://other.com/x");
  EXPECT_EQ(resolved("https://foo.com/a", "http://o/y#f"), "http://o/y#f");
  // A relative reference keeps the user information; an absolute one does
  // not bring it along.
  EXPECT_EQ(resolved("http://u:p@foo.com/a/b", "c"), "http://u:p@foo.com/a/c");
  EXPECT_EQ(resolved("http://u:p@foo.com/a/b", "http://foo.com/c"),
            "http://foo.com/c");
}

TEST(go_url, writes_as_go) {
  auto u = parsed("http://us%3Aer:p%40ss@h/a b?x=1#f g");
  EXPECT_EQ(u.to_string(), "http://us%3Aer:p%40ss@h/a%20b?x=1#f%20g");
  EXPECT_EQ(u.to_string(false), "http://h/a%20b?x=1#f%20g");
  EXPECT_EQ(parsed("http://h").to_string(), "http://h");
  EXPECT_EQ(parsed("http://[::1]:80/x").to_string(), "http://[::1]:80/x");
}

// Tests peer_identity: Go filepath.Match glob semantics, the strict DER
// reader for Dominator's extensions, and identities built from certificates.
#include "tls/peer_identity.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/test_pki.hpp"

namespace dm {
namespace {

// ---- globs ----

struct glob_case {
  const char* pattern;
  const char* name;
  bool match;
};

// Expected results are those of Go's path/filepath.Match on Unix; a
// malformed pattern (Go's ErrBadPattern) matches nothing.
const glob_case glob_cases[] = {
    // Dominator's method globs.
    {"DisruptionManager.*", "DisruptionManager.Check", true},
    {"DisruptionManager.*", "DisruptionManager.Request", true},
    {"DisruptionManager.*", "DisruptionManager.Cancel", true},
    {"DisruptionManager.*", "DisruptionManager.", true},
    {"DisruptionManager.*", "DisruptionManagerX.Check", false},
    {"DisruptionManager.*", "Subd.Poll", false},
    {"DisruptionManager.Check", "DisruptionManager.Check", true},
    {"DisruptionManager.Check", "DisruptionManager.Cancel", false},
    {"DisruptionManager.Check", "DisruptionManager.CheckX", false},
    {"*.*", "DisruptionManager.Request", true},
    {"*.*", "NoDot", false},
    {"*.Check", "DisruptionManager.Check", true},
    {"Disruption*.*", "DisruptionManager.Cancel", true},
    {"disruptionmanager.*", "DisruptionManager.Check", false},
    {"", "", true},
    {"", "DisruptionManager.Check", false},
    {"*", "", true},
    // General filepath.Match behaviour.
    {"abc", "abc", true},
    {"*", "abc", true},
    {"*c", "abc", true},
    {"a*", "a", true},
    {"a*", "abc", true},
    {"a*", "ab/c", false},
    {"*", "a/b", false},
    {"a*/b", "abc/b", true},
    {"a*/b", "a/c/b", false},
    {"a*b*c*d*e*/f", "axbxcxdxe/f", true},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true},
    {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false},
    {"a*b?c*x", "abxbbxdbxebxczzx", true},
    {"a*b?c*x", "abxbbxdbxebxczzy", false},
    {"ab[c]", "abc", true},
    {"ab[b-d]", "abc", true},
    {"ab[e-g]", "abc", false},
    {"ab[^c]", "abc", false},
    {"ab[^b-d]", "abc", false},
    {"ab[^e-g]", "abc", true},
    {"a\\*b", "a*b", true},
    {"a\\*b", "ab", false},
    {"a?b", "a\u263Ab", true},
    {"a[^a]b", "a\u263Ab", true},
    {"a???b", "a\u263Ab", false},
    {"a[^a][^a][^a]b", "a\u263Ab", false},
    {"[a-\u03B6]*", "\u03B1", true},
    {"*[a-\u03B6]", "A", false},
    {"a?b", "a/b", false},
    {"a*b", "a/b", false},
    {"[\\]a]", "]", true},
    {"[\\-]", "-", true},
    {"[x\\-]", "x", true},
    {"[x\\-]", "-", true},
    {"[x\\-]", "z", false},
    {"[\\-x]", "x", true},
    {"[\\-x]", "-", true},
    {"[\\-x]", "a", false},
    {"*x", "xxx", true},
    {"*[[]*", "a[b", true},
    // Malformed patterns.
    {"[]a]", "]", false},
    {"[-]", "-", false},
    {"[x-]", "x", false},
    {"[x-]", "-", false},
    {"[-x]", "x", false},
    {"\\", "a", false},
    {"a\\", "a\\", false},
    {"[a-b-c]", "a", false},
    {"[", "a", false},
    {"[^", "a", false},
    {"[^bc", "a", false},
    {"a[", "a", false},
    {"a[", "ab", false},
    {"*x[", "ax", false},
    {"DisruptionManager.[", "DisruptionManager.Check", false},
    {"[\xff]", "\xff", false},
};

TEST(peer_identity, glob_match_follows_go_filepath_match) {
  for (const auto& c : glob_cases)
    EXPECT_EQ(glob_match(c.pattern, c.name), c.match)
        << "pattern \"" << c.pattern << "\" name \"" << c.name << "\"";
}

// A second reading of Go's filepath.Match, written from its documented
// grammar rather than from glob_match's code: the pattern is first parsed
// whole into tokens (any syntax error: no match), then matched. As in Go, a
// star takes the leftmost place where the chunk after it (up to the next
// star) matches, trying further only for the last chunk; literals compare
// bytes, while '?' and classes read one rune (a byte that starts no valid
// sequence reads as U+FFFD).
class reference_glob {
public:
  explicit reference_glob(std::string_view pattern) { valid_ = parse(pattern); }

  bool matches(std::string_view name) const {
    if (!valid_)
      return false;
    std::size_t at = 0;
    for (std::size_t c = 0; c < chunks_.size(); ++c) {
      const chunk& part = chunks_[c];
      bool last = c + 1 == chunks_.size();
      if (part.star && part.tokens.empty()) // trailing star
        return name.substr(at).find('/') == std::string_view::npos;
      std::size_t from = at;
      bool found = false;
      while (true) {
        std::size_t end = 0;
        if (match_tokens(part.tokens, name, from, end) &&
            (!last || end == name.size())) {
          at = end;
          found = true;
          break;
        }
        if (!part.star || from >= name.size() || name[from] == '/')
          break;
        ++from; // a star skips bytes, never a '/'
      }
      if (!found)
        return false;
    }
    return at == name.size();
  }

private:
  struct token {
    enum kind_t { literal, any, set } kind = literal;
    char byte = 0;
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;
  };
  struct chunk {
    bool star = false;
    std::vector<token> tokens;
  };

  // One rune as Go's utf8.DecodeRuneInString reads it, from the table of
  // well-formed sequences (Unicode Table 3-7): anything else is U+FFFD, one
  // byte wide.
  static char32_t decode(std::string_view s, std::size_t& width) {
    auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned b0 = at(0);
    width = 1;
    if (b0 < 0x80)
      return b0;
    std::size_t n = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      lo = b0 == 0xE0 ? 0xA0 : 0x80;
      hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      lo = b0 == 0xF0 ? 0x90 : 0x80;
      hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
      return 0xFFFD;
    }
    if (s.size() < n || at(1) < lo || at(1) > hi)
      return 0xFFFD;
    char32_t r = b0 & (0x7F >> n);
    for (std::size_t i = 1; i < n; ++i) {
      if (at(i) < 0x80 || at(i) > 0xBF)
        return 0xFFFD;
      r = (r << 6) | (at(i) & 0x3F);
    }
    width = n;
    return r;
  }

  // One class bound: a rune, maybe escaped, never '-' or ']' unescaped,
  // never an invalid byte, and never the pattern's end.
  static bool bound(std::string_view& p, char32_t& r) {
    if (p.empty() || p[0] == '-' || p[0] == ']')
      return false;
    if (p[0] == '\\') {
      p.remove_prefix(1);
      if (p.empty())
        return false;
    }
    std::size_t width = 0;
    r = decode(p, width);
    if (r == 0xFFFD && width == 1)
      return false;
    p.remove_prefix(width);
    return !p.empty();
  }

  bool parse(std::string_view p) {
    chunks_.push_back({});
    while (!p.empty()) {
      char c = p[0];
      p.remove_prefix(1);
      if (c == '*') {
        if (!chunks_.back().star || !chunks_.back().tokens.empty())
          chunks_.push_back({true, {}});
        continue;
      }
      token t;
      if (c == '?') {
        t.kind = token::any;
      } else if (c == '\\') {
        if (p.empty())
          return false;
        t.byte = p[0];
        p.remove_prefix(1);
      } else if (c == '[') {
        t.kind = token::set;
        if (!p.empty() && p[0] == '^') {
          t.negated = true;
          p.remove_prefix(1);
        }
        while (t.ranges.empty() || p.empty() || p[0] != ']') {
          char32_t lo = 0;
          if (!bound(p, lo))
            return false;
          char32_t hi = lo;
          if (p[0] == '-') {
            p.remove_prefix(1);
            if (!bound(p, hi))
              return false;
          }
          t.ranges.emplace_back(lo, hi);
        }
        p.remove_prefix(1); // ']'
      } else {
        t.byte = c;
      }
      chunks_.back().tokens.push_back(std::move(t));
    }
    return true;
  }

  static bool match_tokens(const std::vector<token>& tokens,
                           std::string_view name, std::size_t at,
                           std::size_t& end) {
    for (const auto& t : tokens) {
      if (at >= name.size())
        return false;
      std::size_t width = 0;
      switch (t.kind) {
      case token::literal:
        if (name[at] != t.byte)
          return false;
        at += 1;
        break;
      case token::any:
        if (name[at] == '/')
          return false;
        decode(name.substr(at), width);
        at += width;
        break;
      case token::set: {
        char32_t r = decode(name.substr(at), width);
        bool in = false;
        for (const auto& [lo, hi] : t.ranges)
          in = in || (lo <= r && r <= hi);
        if (in == t.negated)
          return false;
        at += width;
        break;
      }
      }
    }
    end = at;
    return true;
  }

  bool valid_ = false;
  std::vector<chunk> chunks_;
};

std::string random_text(std::mt19937& random, const std::string& alphabet,
                        unsigned most) {
  std::string text;
  for (unsigned n = random() % (most + 1); n > 0; --n)
    text += alphabet[random() % alphabet.size()];
  return text;
}

TEST(peer_identity, reference_glob_follows_go_filepath_match) {
  // The reference must pass the same table, or comparing with it says little.
  for (const auto& c : glob_cases)
    EXPECT_EQ(reference_glob(c.pattern).matches(c.name), c.match)
        << "pattern \"" << c.pattern << "\" name \"" << c.name << "\"";
}

TEST(peer_identity, glob_match_agrees_with_the_reference_on_random_patterns) {
  std::mt19937 random(7);
  // Few letters, all the metacharacters, '/', and the two bytes of U+03B1
  // (so whole, split and stray UTF-8 sequences all occur).
  const std::string alphabet = "ab.*?[]^-\\/\xce\xb1";
  int matched = 0;
  for (int i = 0; i < 50000; ++i) {
    auto pattern = random_text(random, alphabet, 11);
    auto name = random_text(random, alphabet, 8);
    bool expected = reference_glob(pattern).matches(name);
    ASSERT_EQ(glob_match(pattern, name), expected)
        << "pattern \"" << pattern << "\" name \"" << name << "\"";
    matched += expected;
  }
  // Enough of both outcomes for the comparison to mean something.
  EXPECT_GT(matched, 500);
  EXPECT_LT(matched, 49500);
}

TEST(peer_identity, glob_of_an_escaped_name_matches_that_name_only) {
  std::mt19937 random(11);
  const std::string alphabet = "ab.*?[]^-\\/\xce\xb1";
  for (int i = 0; i < 5000; ++i) {
    auto name = random_text(random, alphabet, 10);
    auto other = random_text(random, alphabet, 10);
    std::string escaped;
    for (char c : name) {
      if (std::string_view("*?[\\").find(c) != std::string_view::npos)
        escaped += '\\';
      escaped += c;
    }
    ASSERT_TRUE(glob_match(escaped, name)) << escaped;
    EXPECT_EQ(glob_match(escaped, other), name == other)
        << escaped << " against " << other;
    // A name with no metacharacters is its own glob.
    if (escaped == name) {
      EXPECT_TRUE(glob_match(name, name)) << name;
    }
  }
}

TEST(peer_identity, method_power_needs_a_verified_certificate) {
  peer_identity id;
  id.method_globs = {"DisruptionManager.*"};
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Request"));
  id.has_certificate = true;
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Request"));
  id.verified = true;
  EXPECT_TRUE(id.has_method_power("DisruptionManager.Request"));
  EXPECT_FALSE(id.has_method_power("Hypervisor.Request"));
  id.method_globs.clear();
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Request"));
}

TEST(peer_identity, trusted_users_and_groups_and_the_identity_ca) {
  auto ca = test::issue_certificate({"full CA", {}, {}, true}, nullptr);
  auto identity_ca =
      test::issue_certificate({"identity CA", {}, {}, true}, nullptr);
  auto person = [](const std::string& name, std::vector<std::string> groups) {
    test::certificate_spec spec;
    spec.common_name = name;
    spec.client_auth = true;
    spec.extensions = {
        {std::string(group_list_oid), test::der_utf8_string_list(groups)},
        {std::string(permitted_methods_oid),
         test::der_utf8_string_list({"Other.*"})}};
    return spec;
  };
  auto alice = test::issue_certificate(person("alice", {"staff"}), &ca);
  auto bob = test::issue_certificate(person("bob", {"staff", "ops"}), &ca);
  auto carol =
      test::issue_certificate(person("carol", {"staff"}), &identity_ca);
  server_trust trust;
  trust.users = {"alice"};
  trust.groups = {"ops"};
  auto id = [&](const test::key_and_certificate& who,
                const server_trust* with) {
    return identity_from_certificate(who.cert.get(), X509_V_OK, nullptr, with);
  };
  const char* method = "DisruptionManager.Request";
  EXPECT_FALSE(id(alice, nullptr).has_method_power(method));
  EXPECT_TRUE(id(alice, &trust).has_method_power(method));
  EXPECT_TRUE(id(bob, &trust).has_method_power(method));
  EXPECT_FALSE(id(carol, &trust).has_method_power(method));
  EXPECT_TRUE(id(carol, &trust).has_method_power("Other.Thing"));
  // With an identity CA, only certificates of the full CA keep methods.
  unsigned char* der = nullptr;
  int length = i2d_X509_NAME(X509_get_subject_name(ca.cert.get()), &der);
  trust.full_auth_issuers = {
      std::string(reinterpret_cast<char*>(der), static_cast<size_t>(length))};
  OPENSSL_free(der);
  auto carols = id(carol, &trust);
  EXPECT_TRUE(carols.identity_only);
  EXPECT_EQ(carols.username, "carol");
  EXPECT_FALSE(carols.has_method_power("Other.Thing"));
  EXPECT_TRUE(id(alice, &trust).method_globs ==
              std::vector<std::string>{"Other.*"});
  // An unverified certificate gets nothing, trusted name or not.
  EXPECT_FALSE(
      identity_from_certificate(alice.cert.get(),
                                X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                                nullptr, &trust)
          .has_method_power(method));
}

// ---- DER ----

TEST(peer_identity, parses_string_lists) {
  using list = std::vector<std::string>;
  EXPECT_EQ(parse_der_string_list(test::der_utf8_string_list({"A.b", "C.*"})),
            (list{"A.b", "C.*"}));
  EXPECT_EQ(parse_der_string_list(std::string("\x30\x00", 2)), list{});
  // PrintableString and IA5String, as Go also accepts.
  EXPECT_EQ(parse_der_string_list(std::string("\x30\x06\x13\x01x\x16\x01y", 8)),
            (list{"x", "y"}));
  // Long-form lengths: one item of 200 bytes, a list of 70000 bytes.
  std::string long_item(200, 'm');
  EXPECT_EQ(parse_der_string_list(test::der_utf8_string_list({long_item})),
            list{long_item});
  list many(7000, "Service.M");
  EXPECT_EQ(parse_der_string_list(test::der_utf8_string_list(many)), many);
  // UTF-8 text.
  EXPECT_EQ(parse_der_string_list(test::der_utf8_string_list({"gr\u00FCn"})),
            list{"gr\u00FCn"});
}

TEST(peer_identity, rejects_malformed_der) {
  const std::string bad[] = {
      std::string(),
      std::string("\x30", 1), // no length
      std::string("\x30\x05\x0c\x01"
                  "a",
                  5),                     // length overruns
      std::string("\x30\x00\x00", 3),     // trailing byte
      std::string("\x31\x00", 2),         // SET, not SEQUENCE
      std::string("\x04\x00", 2),         // OCTET STRING
      std::string("\x30\x80\x00\x00", 4), // indefinite length
      std::string("\x30\x81\x03\x0c\x01"
                  "a",
                  6), // long form for < 128
      std::string("\x30\x82\x00\x03\x0c\x01"
                  "a",
                  7),                             // leading zero length byte
      std::string("\x30\x84\xff\xff\xff\xff", 6), // 4 GiB claimed
      std::string("\x30\x85\x01\x00\x00\x00\x00", 7), // 5 length bytes
      std::string("\x30\x82\x01", 3),                 // length bytes cut off
      std::string("\x30\x03\x02\x01\x01", 5),         // INTEGER item
      std::string("\x30\x02\x30\x00", 4),             // nested SEQUENCE item
      std::string("\x30\x03\x0c\x01\xff", 5),         // invalid UTF-8
      std::string("\x30\x04\x0c\x02\xc0\x80", 6),     // overlong UTF-8
      std::string("\x30\x05\x0c\x03\xed\xa0\x80", 7), // UTF-16 surrogate
      std::string("\x30\x03\x13\x01\xe9", 5),         // non-ASCII Printable
      std::string("\x30\x02\x0c\x05", 4),             // item overruns list
      std::string("\x30\x01\x0c", 3),                 // item without length
      std::string("\x1f\x30\x00", 3),                 // high tag number form
      std::string("\x30\x03\x1f\x01\x00", 5),         // high tag item
  };
  for (const auto& der : bad)
    EXPECT_FALSE(parse_der_string_list(der).has_value())
        << "bytes: " << ::testing::PrintToString(der);
}

TEST(peer_identity, random_and_mutated_der_never_crashes) {
  std::mt19937 random(11);
  const std::string good =
      test::der_utf8_string_list({"DisruptionManager.*", "x"});
  for (int i = 0; i < 20000; ++i) {
    std::string der;
    if (i % 2 == 0) {
      der = good;
      for (unsigned n = 1 + random() % 3; n > 0; --n)
        der[random() % der.size()] = static_cast<char>(random() & 0xFF);
      der.resize(random() % (der.size() + 1));
    } else {
      for (unsigned n = random() % 40; n > 0; --n)
        der += static_cast<char>(random() & 0xFF);
    }
    auto parsed = parse_der_string_list(der);
    if (parsed) {
      for (const auto& item : *parsed)
        EXPECT_LE(item.size(), der.size());
    }
  }
}

// ---- identities from certificates ----

class identity_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    test::certificate_spec ca_spec;
    ca_spec.common_name = "identity CA";
    ca_spec.is_ca = true;
    ca = new test::key_and_certificate(
        test::issue_certificate(ca_spec, nullptr));
  }
  static void TearDownTestSuite() {
    delete ca;
    ca = nullptr;
  }

  // A client certificate with the given raw extension values.
  static x509_ptr client(const std::string& cn, const std::string* methods_der,
                         const std::string* groups_der = nullptr) {
    test::certificate_spec spec;
    spec.common_name = cn;
    spec.client_auth = true;
    if (methods_der)
      spec.extensions.emplace_back(std::string(permitted_methods_oid),
                                   *methods_der);
    if (groups_der)
      spec.extensions.emplace_back(std::string(group_list_oid), *groups_der);
    return test::issue_certificate(spec, ca).cert;
  }

  static test::key_and_certificate* ca;
};

test::key_and_certificate* identity_test::ca = nullptr;

TEST_F(identity_test, no_certificate_means_nobody) {
  peer_identity id = identity_from_certificate(nullptr, X509_V_OK, nullptr);
  EXPECT_FALSE(id.has_certificate);
  EXPECT_FALSE(id.verified);
  EXPECT_TRUE(id.username.empty());
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Check"));
}

TEST_F(identity_test, verified_certificate_gives_name_methods_and_groups) {
  std::string methods = test::der_utf8_string_list(
      {"DisruptionManager.*", "Subd.Poll", "Subd.Poll"});
  std::string groups = test::der_utf8_string_list({"ops", "dev"});
  x509_ptr cert = client("alice", &methods, &groups);
  peer_identity id = identity_from_certificate(cert.get(), X509_V_OK, nullptr);
  EXPECT_TRUE(id.has_certificate);
  EXPECT_TRUE(id.verified);
  EXPECT_TRUE(id.verify_error.empty());
  EXPECT_EQ(id.username, "alice");
  // Duplicates are dropped, as the original keeps a set.
  EXPECT_EQ(id.method_globs,
            (std::vector<std::string>{"DisruptionManager.*", "Subd.Poll"}));
  EXPECT_EQ(id.groups, (std::vector<std::string>{"ops", "dev"}));
  EXPECT_TRUE(id.has_method_power("DisruptionManager.Cancel"));
  EXPECT_TRUE(id.has_method_power("Subd.Poll"));
  EXPECT_FALSE(id.has_method_power("Subd.Update"));
}

TEST_F(identity_test, unverified_certificate_names_nobody_and_grants_nothing) {
  std::string methods = test::der_utf8_string_list({"*.*"});
  x509_ptr cert = client("root", &methods);
  peer_identity id = identity_from_certificate(
      cert.get(), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, nullptr);
  EXPECT_TRUE(id.has_certificate);
  EXPECT_FALSE(id.verified);
  EXPECT_EQ(id.verify_error, "unable to get local issuer certificate");
  EXPECT_TRUE(id.username.empty());
  EXPECT_TRUE(id.method_globs.empty());
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Request"));

  id = identity_from_certificate(cert.get(), X509_V_ERR_CERT_HAS_EXPIRED,
                                 nullptr);
  EXPECT_EQ(id.verify_error, "certificate has expired");
}

TEST_F(identity_test, malformed_extensions_grant_nothing) {
  const std::string bad_der[] = {
      std::string("\x30\x05\x0c\x01"
                  "a",
                  5),
      std::string("\x30\x03\x02\x01\x01", 5),
      std::string("\x0c\x03"
                  "a.b",
                  5), // a bare string, not a list
      std::string(),
      test::der_utf8_string_list({"NoDotAtAll"}),
      test::der_utf8_string_list({"DisruptionManager.*", "a.b.c"}),
      test::der_utf8_string_list({"DisruptionManager.*"}) + '\0',
  };
  std::string groups = test::der_utf8_string_list({"ops"});
  for (const auto& der : bad_der) {
    x509_ptr cert = client("mallory", &der, &groups);
    peer_identity id =
        identity_from_certificate(cert.get(), X509_V_OK, nullptr);
    EXPECT_TRUE(id.verified);
    EXPECT_EQ(id.username, "mallory");
    EXPECT_FALSE(id.extension_error.empty()) << ::testing::PrintToString(der);
    EXPECT_TRUE(id.method_globs.empty());
    EXPECT_TRUE(id.groups.empty());
    EXPECT_FALSE(id.has_method_power("DisruptionManager.Check"));
  }
  // A malformed group list spoils the methods too.
  std::string methods = test::der_utf8_string_list({"DisruptionManager.*"});
  std::string bad_groups("\x30\x02\x0c\x05", 4);
  x509_ptr cert = client("mallory", &methods, &bad_groups);
  peer_identity id = identity_from_certificate(cert.get(), X509_V_OK, nullptr);
  EXPECT_FALSE(id.extension_error.empty());
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Check"));
}

TEST_F(identity_test, empty_method_list_is_valid_and_grants_nothing) {
  std::string methods = test::der_utf8_string_list({});
  x509_ptr cert = client("bob", &methods);
  peer_identity id = identity_from_certificate(cert.get(), X509_V_OK, nullptr);
  EXPECT_TRUE(id.extension_error.empty());
  EXPECT_TRUE(id.method_globs.empty());
  EXPECT_EQ(id.username, "bob");
}

TEST_F(identity_test, methods_anywhere_on_the_verified_chain_count) {
  // As in the original, an intermediate CA can carry methods for everyone
  // it certifies, and groups come from the first certificate listing any.
  test::certificate_spec spec;
  spec.common_name = "ops intermediate";
  spec.is_ca = true;
  spec.extensions = {
      {std::string(permitted_methods_oid),
       test::der_utf8_string_list({"Subd.*"})},
      {std::string(group_list_oid), test::der_utf8_string_list({"from-ca"})}};
  auto intermediate = test::issue_certificate(spec, ca);
  test::certificate_spec leaf_spec;
  leaf_spec.common_name = "carol";
  leaf_spec.client_auth = true;
  leaf_spec.extensions = {{std::string(group_list_oid),
                           test::der_utf8_string_list({"leaf-group"})}};
  auto leaf = test::issue_certificate(leaf_spec, &intermediate);

  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, leaf.cert.get());
  sk_X509_push(chain, intermediate.cert.get());
  sk_X509_push(chain, ca->cert.get());
  peer_identity id =
      identity_from_certificate(leaf.cert.get(), X509_V_OK, chain);
  sk_X509_free(chain); // the certificates stay owned by their holders

  EXPECT_EQ(id.username, "carol");
  EXPECT_EQ(id.method_globs, std::vector<std::string>{"Subd.*"});
  EXPECT_EQ(id.groups, std::vector<std::string>{"leaf-group"});
  EXPECT_TRUE(id.has_method_power("Subd.Poll"));
  EXPECT_FALSE(id.has_method_power("DisruptionManager.Check"));
}

TEST_F(identity_test, last_common_name_wins_and_none_is_empty) {
  test::certificate_spec spec;
  spec.client_auth = true;
  auto made = test::issue_certificate(spec, ca);
  peer_identity id =
      identity_from_certificate(made.cert.get(), X509_V_OK, nullptr);
  EXPECT_TRUE(id.verified);
  EXPECT_TRUE(id.username.empty());

  X509_NAME* name = X509_get_subject_name(made.cert.get());
  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("first"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("second"),
                             -1, -1, 0);
  id = identity_from_certificate(made.cert.get(), X509_V_OK, nullptr);
  EXPECT_EQ(id.username, "second");
}

} // namespace
} // namespace dm

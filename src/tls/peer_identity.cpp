// Reads Dominator's identity extensions defensively (certificates come from
// strangers until verified) and matches method globs as Go's filepath.Match.
#include "tls/peer_identity.hpp"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdint>

#include "text/utf8.hpp"

namespace dm {

namespace {

// ---- glob matching (semantics of Go's path/filepath.Match on Unix) ----

constexpr char separator = '/';

// Reads one possibly escaped character of a class ("a", "\\]"). False for a
// malformed class: nothing left, an unescaped '-' or ']', bad UTF-8, or no
// room left for the closing ']'.
bool read_class_char(std::string_view& chunk, char32_t& out) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']')
    return false;
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty())
      return false;
  }
  const std::size_t n = utf8::sequence_length(chunk);
  if (n == 0)
    return false;
  utf8::decode_rune(chunk, 0, out);
  chunk.remove_prefix(n);
  return !chunk.empty();
}

// Consumes a class body after '[' and reports whether `r` is in it. False
// return means the class is malformed.
bool read_class(std::string_view& chunk, char32_t r, bool& matched) {
  bool negated = false;
  if (!chunk.empty() && chunk[0] == '^') {
    negated = true;
    chunk.remove_prefix(1);
  }
  bool in_class = false;
  for (int ranges = 0;; ++ranges) {
    if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
      chunk.remove_prefix(1);
      break;
    }
    char32_t lo;
    if (!read_class_char(chunk, lo))
      return false;
    char32_t hi = lo;
    if (chunk[0] == '-') {
      chunk.remove_prefix(1);
      if (!read_class_char(chunk, hi))
        return false;
    }
    if (lo <= r && r <= hi)
      in_class = true;
  }
  matched = in_class != negated;
  return true;
}

// Splits off the leading run of stars and the chunk up to the next star
// outside a class.
void scan_chunk(std::string_view& pattern, bool& star,
                std::string_view& chunk) {
  star = false;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    star = true;
  }
  bool in_class = false;
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size())
        ++i;
    } else if (c == '[') {
      in_class = true;
    } else if (c == ']') {
      in_class = false;
    } else if (c == '*' && !in_class) {
      break;
    }
  }
  chunk = pattern.substr(0, i);
  pattern.remove_prefix(i);
}

// Checks the syntax of a star-free chunk.
bool valid_chunk(std::string_view chunk) {
  while (!chunk.empty()) {
    char c = chunk[0];
    chunk.remove_prefix(1);
    if (c == '[') {
      bool ignored;
      if (!read_class(chunk, 0, ignored))
        return false;
    } else if (c == '\\') {
      if (chunk.empty())
        return false;
      chunk.remove_prefix(1);
    }
  }
  return true;
}

bool valid_glob(std::string_view pattern) {
  while (!pattern.empty()) {
    bool star;
    std::string_view chunk;
    scan_chunk(pattern, star, chunk);
    if (!valid_chunk(chunk))
      return false;
  }
  return true;
}

// Matches a (valid) chunk against the front of `s`; the unmatched rest on
// success.
std::optional<std::string_view> match_chunk(std::string_view chunk,
                                            std::string_view s) {
  while (!chunk.empty()) {
    switch (chunk[0]) {
    case '[': {
      if (s.empty())
        return std::nullopt;
      char32_t r;
      s.remove_prefix(utf8::decode_rune(s, 0, r));
      chunk.remove_prefix(1);
      bool matched = false;
      if (!read_class(chunk, r, matched) || !matched)
        return std::nullopt;
      break;
    }
    case '?': {
      if (s.empty() || s[0] == separator)
        return std::nullopt;
      char32_t r;
      s.remove_prefix(utf8::decode_rune(s, 0, r));
      chunk.remove_prefix(1);
      break;
    }
    case '\\':
      chunk.remove_prefix(1);
      [[fallthrough]];
    default:
      if (s.empty() || chunk.empty() || chunk[0] != s[0])
        return std::nullopt;
      s.remove_prefix(1);
      chunk.remove_prefix(1);
    }
  }
  return s;
}

// ---- DER ----

// Reads one DER TLV from the front of `in`. Only low tag numbers and
// definite, minimally encoded lengths are valid DER.
bool read_tlv(std::string_view& in, unsigned char& tag,
              std::string_view& value) {
  if (in.size() < 2)
    return false;
  tag = static_cast<unsigned char>(in[0]);
  if ((tag & 0x1F) == 0x1F)
    return false;
  auto first = static_cast<unsigned char>(in[1]);
  std::size_t header = 2;
  std::uint64_t length = first;
  if (first & 0x80) {
    std::size_t count = first & 0x7F;
    if (count == 0 || count > 4 || in.size() < header + count)
      return false; // indefinite, absurdly long, or truncated
    length = 0;
    for (std::size_t i = 0; i < count; ++i)
      length = (length << 8) | static_cast<unsigned char>(in[header + i]);
    if (static_cast<unsigned char>(in[header]) == 0 || length < 0x80)
      return false; // not minimal
    header += count;
  }
  if (length > in.size() - header)
    return false;
  value = in.substr(header, static_cast<std::size_t>(length));
  in.remove_prefix(header + static_cast<std::size_t>(length));
  return true;
}

constexpr unsigned char der_sequence = 0x30;
constexpr unsigned char der_utf8_string = 0x0C;
constexpr unsigned char der_printable_string = 0x13;
constexpr unsigned char der_ia5_string = 0x16;

// ---- certificates ----

std::string common_name(const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  if (!subject)
    return {};
  // Go's pkix.Name keeps the last CN when there are several.
  int index = -1;
  for (int i = -1;
       (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;)
    index = i;
  if (index < 0)
    return {};
  const ASN1_STRING* data =
      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0)
    return {};
  std::string name(reinterpret_cast<char*>(utf8),
                   static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return name;
}

// The string list in the first extension with `oid`: empty when absent,
// nullopt when malformed.
std::optional<std::vector<std::string>> extension_list(const X509* cert,
                                                       std::string_view oid) {
  int count = X509_get_ext_count(cert);
  for (int i = 0; i < count; ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    char text[96];
    int n = OBJ_obj2txt(text, sizeof text, X509_EXTENSION_get_object(ext), 1);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof text ||
        std::string_view(text, static_cast<std::size_t>(n)) != oid)
      continue;
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    if (!data)
      return std::nullopt;
    std::string_view der(
        reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
        static_cast<std::size_t>(ASN1_STRING_length(data)));
    return parse_der_string_list(der);
  }
  return std::vector<std::string>{};
}

void append_unique(std::vector<std::string>& to,
                   const std::vector<std::string>& from) {
  for (const auto& item : from)
    if (std::find(to.begin(), to.end(), item) == to.end())
      to.push_back(item);
}

} // namespace

namespace {

// The original's checkVerifiedChains with the full-authority pool: the
// leaf's issuer is one of the -CAfile subjects.
bool issued_by_full_authority(const server_trust& trust, const X509* leaf) {
  const X509_NAME* issuer = X509_get_issuer_name(leaf);
  unsigned char* der = nullptr;
  int length = i2d_X509_NAME(issuer, &der);
  if (length <= 0)
    return false;
  std::string name(reinterpret_cast<const char*>(der),
                   static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return std::find(trust.full_auth_issuers.begin(),
                   trust.full_auth_issuers.end(),
                   name) != trust.full_auth_issuers.end();
}

void apply_trust(const server_trust& trust, const X509* leaf,
                 peer_identity& id) {
  if (!trust.full_auth_issuers.empty() &&
      !issued_by_full_authority(trust, leaf)) {
    id.identity_only = true;
    id.method_globs.clear();
  }
  if (id.username.empty())
    return;
  auto listed = [](const std::vector<std::string>& list,
                   const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  id.trusted_for_all = listed(trust.users, id.username);
  for (const auto& group : id.groups)
    if (listed(trust.groups, group))
      id.trusted_for_all = true;
}

} // namespace

bool peer_identity::has_method_power(std::string_view service_method) const {
  if (!has_certificate || !verified)
    return false;
  if (trusted_for_all)
    return true;
  for (const auto& glob : method_globs)
    if (glob_match(glob, service_method))
      return true;
  return false;
}

peer_identity identity_from_certificate(const X509* leaf, long verify_result,
                                        const STACK_OF(X509) * verified_chain,
                                        const server_trust* trust) {
  peer_identity id;
  if (!leaf)
    return id;
  id.has_certificate = true;
  if (verify_result != X509_V_OK) {
    id.verify_error = X509_verify_cert_error_string(verify_result);
    return id;
  }
  id.verified = true;
  id.username = common_name(leaf);

  std::vector<const X509*> certs;
  int chain_length = verified_chain ? sk_X509_num(verified_chain) : 0;
  for (int i = 0; i < chain_length; ++i)
    certs.push_back(sk_X509_value(verified_chain, i));
  if (certs.empty())
    certs.push_back(leaf);

  for (const X509* cert : certs) {
    auto methods = extension_list(cert, permitted_methods_oid);
    auto groups = extension_list(cert, group_list_oid);
    if (!methods) {
      id.extension_error = "malformed method list extension";
    } else if (!groups) {
      id.extension_error = "malformed group list extension";
    } else {
      // The original rejects a list holding anything but "Service.Method".
      for (const auto& glob : *methods) {
        if (std::count(glob.begin(), glob.end(), '.') != 1) {
          id.extension_error = "bad method line: \"" + glob + "\"";
          break;
        }
      }
    }
    if (!id.extension_error.empty()) {
      id.method_globs.clear();
      id.groups.clear();
      break;
    }
    append_unique(id.method_globs, *methods);
    if (id.groups.empty())
      append_unique(id.groups, *groups);
  }
  if (trust)
    apply_trust(*trust, leaf, id);
  return id;
}

std::optional<std::vector<std::string>>
parse_der_string_list(std::string_view der) {
  unsigned char tag;
  std::string_view body;
  if (!read_tlv(der, tag, body) || tag != der_sequence || !der.empty())
    return std::nullopt;
  std::vector<std::string> items;
  while (!body.empty()) {
    std::string_view value;
    if (!read_tlv(body, tag, value))
      return std::nullopt;
    switch (tag) {
    case der_utf8_string:
      if (!utf8::valid_utf8(value))
        return std::nullopt;
      break;
    case der_printable_string:
    case der_ia5_string:
      for (char c : value)
        if (static_cast<unsigned char>(c) >= 0x80)
          return std::nullopt;
      break;
    default:
      return std::nullopt;
    }
    items.emplace_back(value);
  }
  return items;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  if (!valid_glob(pattern))
    return false;
  while (!pattern.empty()) {
    bool star;
    std::string_view chunk;
    scan_chunk(pattern, star, chunk);
    if (star && chunk.empty()) // a trailing star takes the rest but no '/'
      return name.find(separator) == std::string_view::npos;
    // Like Go, take the first place the chunk fits; only the last chunk must
    // also reach the end of the name.
    auto rest = match_chunk(chunk, name);
    if (rest && (rest->empty() || !pattern.empty())) {
      name = *rest;
      continue;
    }
    bool found = false;
    if (star) {
      for (std::size_t i = 0; i < name.size() && name[i] != separator; ++i) {
        rest = match_chunk(chunk, name.substr(i + 1));
        if (rest && (!pattern.empty() || rest->empty())) {
          name = *rest;
          found = true;
          break;
        }
      }
    }
    if (!found)
      return false;
  }
  return name.empty();
}

} // namespace dm

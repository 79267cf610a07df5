// Who a TLS peer is and which SRPC methods it has power over, read from its
// certificate as Dominator does (Common Name, methods and groups extensions).
#pragma once

#include <openssl/x509.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dm {

// Dominator's certificate extensions; each holds a DER SEQUENCE OF UTF8String.
inline constexpr std::string_view permitted_methods_oid =
    "1.3.6.1.4.1.9586.100.7.1";
inline constexpr std::string_view group_list_oid = "1.3.6.1.4.1.9586.100.7.2";

// What the server trusts beyond a certificate's own extensions
// (-srpcTrustedUsers, -srpcTrustedGroups, -identityCAfile), as the
// original's SRPC server: see docs/protocol.md, "TLS and method powers".
struct server_trust {
  std::vector<std::string> users;  // these Common Names may call anything
  std::vector<std::string> groups; // members of these groups too
  // DER subjects of the -CAfile certificates, set only when an identity CA
  // is loaded too: then only a certificate issued by one of these has its
  // methods extension honoured; one from the identity CA names its holder
  // (and groups) but grants no methods.
  std::vector<std::string> full_auth_issuers;
};

struct peer_identity {
  bool has_certificate = false; // the peer presented a certificate
  bool verified = false;        // ... and it chains to a trusted CA
  std::string verify_error;     // why not, when has_certificate && !verified
  // The fields below are filled only for a verified certificate: an
  // unverified one proves nothing, so it names nobody and grants nothing.
  std::string username;                  // Subject Common Name
  std::vector<std::string> method_globs; // "Service.Method" globs
  std::vector<std::string> groups;
  bool identity_only = false;   // issued by the identity CA: no methods
  bool trusted_for_all = false; // a trusted user or in a trusted group
  // Set when an extension was malformed. The original then refuses the
  // connection; here the caller keeps its name but gets no methods or groups.
  std::string extension_error;

  // True when a verified certificate grants power over `service_method`
  // ("DisruptionManager.Request"): its holder is trusted for every method,
  // or one of method_globs matches it.
  bool has_method_power(std::string_view service_method) const;
};

// Builds the identity of a peer. `leaf` is its certificate (null: none was
// presented); `verify_result` is SSL_get_verify_result's code. `verified_chain`
// (leaf first, may be null) is consulted only when verification succeeded:
// as in the original, methods granted anywhere on the verified chain count,
// and groups come from the first certificate that lists any.
// `trust` (may be null: none) adds the server's trusted users and groups and
// the identity CA's limits.
peer_identity identity_from_certificate(const X509* leaf, long verify_result,
                                        const STACK_OF(X509) * verified_chain,
                                        const server_trust* trust = nullptr);

// Decodes DER `SEQUENCE OF` UTF8String (PrintableString and IA5String are
// accepted too, as Go's asn1 does). Strict DER: nullopt on any malformation,
// including trailing bytes; never reads outside `der`.
std::optional<std::vector<std::string>>
parse_der_string_list(std::string_view der);

// Go's path/filepath.Match on Unix, used by Dominator for method globs:
// `*` matches any run of characters except '/', `?` one such character,
// `[...]` / `[^...]` a class with ranges, `\` escapes. A malformed pattern
// matches nothing.
bool glob_match(std::string_view pattern, std::string_view name);

} // namespace dm

// Fuzzes what a client certificate carries into authorization: the DER
// string lists of Dominator's methods/groups extensions, and the method
// globs matched against "DisruptionManager.Request".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "tls/peer_identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view der(reinterpret_cast<const char*>(data), size);
  if (auto list = dm::parse_der_string_list(der)) {
    std::size_t total = 0;
    for (const auto& item : *list)
      total += item.size();
    DM_FUZZ_EXPECT(total <= der.size(), "decoded strings come from the input");
    dm::peer_identity identity;
    identity.has_certificate = identity.verified = true;
    identity.method_globs = *list;
    (void)identity.has_method_power("DisruptionManager.Request");
  }
  // The input as one glob, against a fixed name and against itself.
  (void)dm::glob_match(der, "DisruptionManager.Cancel");
  (void)dm::glob_match(der, der);
  if (der.find_first_of("*?[\\") == std::string_view::npos)
    DM_FUZZ_EXPECT(dm::glob_match(der, der), "a plain pattern matches itself");
  return 0;
}

// Fuzzes the tag rules every call goes through (group_identifier with Go's
// path.Clean/Dir, group_limit, ready_gate_for with its duration and
// template and the template's budgets, the UTF-8 check of the call) and the
// admission checks on what a client names (control characters in
// Hostname, the size limits of names, tags and the expanded ready URL,
// docs/testing.md "Limits and where they are enforced"): the strings come
// from the client.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "disruption/group_rules.hpp"
#include "frontend/call_builder.hpp"
#include "invariant.hpp"
#include "model/machine_record.hpp"
#include "utf8_reference.hpp"

namespace {

// After the first byte, the input is up to five fields separated by NUL
// bytes: RequiredImage, the limit, ready timeout and ready URL tags, and
// the Hostname ("global" also puts the machine in the global group).
std::vector<std::string> fields(std::string_view text) {
  std::vector<std::string> out;
  while (out.size() < 4) {
    auto nul = text.find('\0');
    if (nul == std::string_view::npos)
      break;
    out.emplace_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.emplace_back(text);
  out.resize(5);
  return out;
}

// The first byte stretches one field to just around its size limit (inputs
// are far shorter than 4096 bytes otherwise): which field is mode % 8 (0,
// 6, 7: none), how far from the limit is mode / 8 % 5 - 2 bytes. The field
// is repeated to that length (a single 'a' when empty).
void stretch(std::vector<std::string>& f, std::uint8_t mode) {
  static constexpr std::size_t limits[] = {
      0,
      dm::max_name_bytes,      // RequiredImage: the group derived from it
      dm::max_tag_value_bytes, // limit tag
      dm::max_tag_value_bytes, // ready timeout tag
      dm::max_tag_value_bytes, // ready URL tag
      dm::max_name_bytes,      // Hostname
  };
  std::size_t which = mode % 8;
  if (which == 0 || which > 5)
    return;
  auto& field = f[which - 1];
  auto length = limits[which] + (mode / 8 % 5) - 2;
  std::string unit = field.empty() ? std::string("a") : field;
  field.clear();
  while (field.size() < length)
    field += unit;
  field.resize(length);
}

// Go's unicode.IsControl over the runes a Hostname decodes to: C0, DEL and
// C1 (U+0080-U+009F, two bytes C2 80-9F). A byte that is not part of valid
// UTF-8 decodes to U+FFFD, which is none of them.
bool has_control_rune(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x20 || b == 0x7F)
      return true;
    if (b == 0xC2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F)
        return true;
    }
  }
  return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  auto f = fields(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  stretch(f, data[0]);
  dm::machine_record m;
  m.hostname = f[4].empty() ? "host-1" : f[4];
  m.required_image = f[0];
  if (!f[1].empty())
    m.tags[std::string(dm::tag_group_maximum)] = f[1];
  if (!f[2].empty())
    m.tags[std::string(dm::tag_ready_timeout)] = f[2];
  if (!f[3].empty())
    m.tags[std::string(dm::tag_ready_url)] = f[3];
  if (f[4] == "global")
    m.tags[std::string(dm::tag_group_identifier)] = "";

  // Admission: control characters in the Hostname, then the size limits.
  DM_FUZZ_EXPECT(dm::hostname_error(m.hostname).empty() ==
                     !has_control_rune(m.hostname),
                 "a Hostname is refused exactly when it holds a control "
                 "character");
  bool oversized = m.hostname.size() > dm::max_name_bytes ||
                   dm::group_identifier(m).size() > dm::max_name_bytes;
  for (const auto& [tag, value] : m.tags)
    oversized = oversized || value.size() > dm::max_tag_value_bytes;
  auto size_error = dm::record_size_error(m);
  DM_FUZZ_EXPECT(size_error.empty() == !oversized,
                 "a record is refused exactly when a name or tag is over "
                 "its limit");
  DM_FUZZ_EXPECT(size_error.empty() ||
                     size_error.find(" is longer than ") != std::string::npos,
                 "a size refusal says which limit");

  (void)dm::group_identifier(m);
  (void)dm::group_text(dm::group_identifier(m));
  DM_FUZZ_EXPECT(dm::group_limit(m) >= 1, "a group limit is at least 1");
  std::string error;
  if (!dm::ready_gate_for(m, error) && !error.empty())
    DM_FUZZ_EXPECT(!f[2].empty() || !f[3].empty(),
                   "only a ready tag can make the gate fail");

  // What a call carries must be text, and the expanded ready URL within
  // its limit: the library's check against ours.
  auto call = dm::make_disruption_call(dm::request_kind::cancel, m);
  bool text = dm::fuzz::well_formed_utf8(call.host) &&
              dm::fuzz::well_formed_utf8(call.group) &&
              dm::fuzz::well_formed_utf8(call.gate_url);
  DM_FUZZ_EXPECT(dm::call_text_error(call).empty() ==
                     (text && call.gate_url.size() <= dm::max_tag_value_bytes),
                 "call_text_error agrees with the UTF-8 definition and the "
                 "expanded URL's limit");

  // path.Clean is idempotent and Dir's result is clean, as in Go.
  auto clean = dm::go_path_clean(f[0]);
  DM_FUZZ_EXPECT(dm::go_path_clean(clean) == clean,
                 "Clean(Clean(p)) == Clean(p)");
  auto dir = dm::go_path_dir(f[0]);
  DM_FUZZ_EXPECT(dm::go_path_clean(dir) == dir, "Dir(p) is clean");
  return 0;
}

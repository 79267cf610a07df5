// Fuzzes the tag rules every call goes through (group_identifier with Go's
// path.Clean/Dir, group_limit, ready_gate_for with its duration and
// template, the UTF-8 check of the call): the strings come from the client.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "disruption/group_rules.hpp"
#include "frontend/call_builder.hpp"
#include "invariant.hpp"
#include "utf8_reference.hpp"

namespace {

// The input is up to five fields separated by NUL bytes: RequiredImage, the
// limit, ready timeout and ready URL tags, and the Hostname ("global" also
// puts the machine in the global group).
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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto f = fields(std::string_view(reinterpret_cast<const char*>(data), size));
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

  (void)dm::group_identifier(m);
  (void)dm::group_text(dm::group_identifier(m));
  DM_FUZZ_EXPECT(dm::group_limit(m) >= 1, "a group limit is at least 1");
  std::string error;
  if (!dm::ready_gate_for(m, error) && !error.empty())
    DM_FUZZ_EXPECT(!f[2].empty() || !f[3].empty(),
                   "only a ready tag can make the gate fail");

  // What a call carries must be text: the library's check against ours.
  auto call = dm::make_disruption_call(dm::request_kind::cancel, m);
  bool text = dm::fuzz::well_formed_utf8(call.host) &&
              dm::fuzz::well_formed_utf8(call.group) &&
              dm::fuzz::well_formed_utf8(call.gate_url);
  DM_FUZZ_EXPECT(dm::call_text_error(call).empty() == text,
                 "call_text_error agrees with the UTF-8 definition");

  // path.Clean is idempotent and Dir's result is clean, as in Go.
  auto clean = dm::go_path_clean(f[0]);
  DM_FUZZ_EXPECT(dm::go_path_clean(clean) == clean,
                 "Clean(Clean(p)) == Clean(p)");
  auto dir = dm::go_path_dir(f[0]);
  DM_FUZZ_EXPECT(dm::go_path_clean(dir) == dir, "Dir(p) is clean");
  return 0;
}

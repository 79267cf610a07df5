// Fuzzes the Go text/template engine (DisruptionManagerReadyUrl tags, set by
// whoever writes the MDB): go_template::parse, then execute against a full
// and an empty record. Execution must stay bounded and fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "template/go_template.hpp"

namespace {

dm::machine_record full_record() {
  dm::machine_record m;
  m.hostname = "web-01.example.com";
  m.data_source_identifier = "mdb-1";
  m.data_source_type = "json";
  m.ip_address = "10.0.0.5";
  m.location = "us-east/rack-7";
  m.required_image = "base/debian/2024-01-01";
  m.planned_image = "base/debian/2024-02-01";
  m.disable_updates = true;
  m.owner_group = "web-team";
  m.owner_groups = {"web-team", "ops"};
  m.owner_users = {"alice", "bob"};
  m.tags = {{"DisruptionManagerReadyUrl", "http://{{.Hostname}}:8080/ready"},
            {"Empty", ""},
            {"Path", "/ready?x=1&y=<2>"},
            {"Caf\xc3\xa9", "cr\xc3\xa8me"},
            {"Bad", "\xff\xfe"}};
  dm::aws_metadata aws;
  aws.account_id = "123456789012";
  aws.region = "us-east-1";
  aws.tags = {{"Name", "web-01"}};
  m.aws = aws;
  return m;
}

void run(const dm::go_template& parsed, const dm::machine_record& data) {
  std::string out;
  std::string error;
  bool ok = parsed.execute(data, out, error);
  DM_FUZZ_EXPECT(ok || !error.empty(), "a failed execution names a reason");
  DM_FUZZ_EXPECT(!ok || error.empty(), "a good execution has no error");
  DM_FUZZ_EXPECT(out.size() <= 2 * dm::go_template::max_output_bytes,
                 "output stays bounded");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static const dm::machine_record full = full_record();
  static const dm::machine_record empty;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto parsed = dm::go_template::parse("ready", text, error);
  if (!parsed) {
    DM_FUZZ_EXPECT(!error.empty(), "a refused template names a reason");
    return 0;
  }
  DM_FUZZ_EXPECT(parsed->text() == text, "the template keeps its text");
  run(*parsed, full);
  run(*parsed, empty);
  return 0;
}

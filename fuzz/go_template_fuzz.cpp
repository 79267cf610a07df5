// Fuzzes the Go text/template engine (DisruptionManagerReadyUrl tags, set by
// whoever writes the MDB): go_template::parse, then execute against a full
// and an empty record, with the service's limits and with small ones so the
// limit paths are reached often. Execution must stay within the limits
// (docs/testing.md, "Limits and where they are enforced") and fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "template/go_template.hpp"
#include "template/template_exec.hpp"
#include "template/template_parser.hpp"

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
  DM_FUZZ_EXPECT(out.size() <= dm::go_template::max_output_bytes,
                 "output stays within its limit");
}

// Executes with `limits` and checks what the execution spent: a step over
// the limit and one string over the byte budget are what it takes to notice.
void run_within(const dm::tmpl::tree_set& trees, std::string_view text,
                const dm::machine_record& data,
                const dm::tmpl::exec_limits& limits) {
  std::string out;
  std::string error;
  dm::tmpl::exec_usage used;
  bool ok = dm::tmpl::execute_template(trees, "ready", text, data, limits, out,
                                       error, &used);
  DM_FUZZ_EXPECT(ok || !error.empty(), "a failed execution names a reason");
  DM_FUZZ_EXPECT(out.size() <= limits.max_output, "output within its limit");
  DM_FUZZ_EXPECT(used.steps <= limits.max_steps + 1, "steps within the limit");
  DM_FUZZ_EXPECT(used.string_bytes <=
                     limits.max_string_bytes + limits.max_output,
                 "string bytes within the budget");
  DM_FUZZ_EXPECT(!ok || (used.steps <= limits.max_steps &&
                         used.string_bytes <= limits.max_string_bytes),
                 "a good execution stayed within every limit");
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

  dm::tmpl::tree_set trees;
  DM_FUZZ_EXPECT(dm::tmpl::parse_template("ready", text, trees, error),
                 "the engine parses what go_template parsed");
  dm::tmpl::exec_limits service;
  service.max_output = dm::go_template::max_output_bytes;
  service.max_string_bytes = dm::go_template::max_string_bytes;
  service.max_steps = dm::go_template::max_steps;
  run_within(trees, text, full, service);
  dm::tmpl::exec_limits small;
  small.max_output = 256;
  small.max_string_bytes = 1024;
  small.max_steps = 200;
  small.max_template_depth = 4;
  small.max_recursion = 32;
  run_within(trees, text, full, small);
  run_within(trees, text, empty, small);

  // Text past the size limit is refused before it is read.
  std::string longer(text);
  longer.resize(dm::go_template::max_text_bytes + 1, ' ');
  DM_FUZZ_EXPECT(!dm::go_template::parse("ready", longer, error),
                 "text over the size limit is refused");
  return 0;
}

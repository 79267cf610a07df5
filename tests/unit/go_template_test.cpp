// Tests for template/go_template. The table in tests/data/template/cases.json
// holds, for each template, what Go's text/template printed or the error it
// reported when executed against the same machine (see gen/main.go there).
#include "template/go_template.hpp"

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;

json load_table() {
  std::ifstream in(DM_SOURCE_DIR "/tests/data/template/cases.json");
  EXPECT_TRUE(in.good()) << "missing tests/data/template/cases.json";
  return json::parse(in);
}

std::vector<std::string> string_list(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null())
    return {};
  return j.at(key).get<std::vector<std::string>>();
}

std::map<std::string, std::string> string_map(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null())
    return {};
  return j.at(key).get<std::map<std::string, std::string>>();
}

std::string string_field(const json& j, const char* key) {
  return j.contains(key) ? j.at(key).get<std::string>() : std::string();
}

// Output that is not valid UTF-8 is stored as hex (JSON cannot carry it).
std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

// The fixtures as Go's encoding/json wrote them (empty fields omitted).
dm::machine_record machine_from_json(const json& j) {
  dm::machine_record m;
  m.hostname = string_field(j, "Hostname");
  m.data_source_identifier = string_field(j, "DataSourceIdentifier");
  m.data_source_type = string_field(j, "DataSourceType");
  m.ip_address = string_field(j, "IpAddress");
  m.location = string_field(j, "Location");
  m.required_image = string_field(j, "RequiredImage");
  m.planned_image = string_field(j, "PlannedImage");
  m.disable_updates = j.value("DisableUpdates", false);
  m.owner_group = string_field(j, "OwnerGroup");
  m.owner_groups = string_list(j, "OwnerGroups");
  m.owner_users = string_list(j, "OwnerUsers");
  m.tags = string_map(j, "Tags");
  if (j.contains("AwsMetadata") && !j.at("AwsMetadata").is_null()) {
    const json& a = j.at("AwsMetadata");
    dm::aws_metadata aws;
    aws.account_id = string_field(a, "AccountId");
    aws.account_name = string_field(a, "AccountName");
    aws.instance_id = string_field(a, "InstanceId");
    aws.region = string_field(a, "Region");
    aws.tags = string_map(a, "Tags");
    m.aws = aws;
  }
  return m;
}

dm::machine_record sample_machine() {
  dm::machine_record m;
  m.hostname = "web-01.example.com";
  m.ip_address = "10.0.0.5";
  m.location = "us-east/rack-7";
  m.owner_groups = {"web-team", "ops"};
  m.tags = {{"Port", "8080"}, {"Env", "prod"}};
  return m;
}

// Parses and executes; returns the output, or "ERROR: " and the message.
std::string run(std::string_view text, const dm::machine_record& data,
                std::string_view name = "t") {
  std::string error;
  auto t = dm::go_template::parse(name, text, error);
  if (!t)
    return "ERROR: " + error;
  std::string out;
  if (!t->execute(data, out, error))
    return "ERROR: " + error;
  return out;
}

TEST(go_template, matches_go_for_every_case_in_the_table) {
  const json table = load_table();
  std::map<std::string, dm::machine_record> machines;
  for (const auto& [name, j] : table.at("machines").items())
    machines[name] = machine_from_json(j);
  const json& cases = table.at("cases");
  ASSERT_GE(cases.size(), 100u);

  int compared = 0;
  for (const json& c : cases) {
    const std::string name = c.at("name");
    const std::string text = c.at("template");
    const std::string machine = c.at("machine");
    const bool ok = c.at("ok");
    const std::string kind = c.value("error_kind", "");
    const std::string expected_error = c.value("error", "");
    const std::string expected_output = c.contains("output_hex")
                                            ? from_hex(c.at("output_hex"))
                                            : c.at("output").get<std::string>();
    SCOPED_TRACE("template " + json(text).dump() + " on " + machine);

    std::string error;
    auto t = dm::go_template::parse(name, text, error);
    if (kind == "parse") {
      EXPECT_FALSE(t.has_value());
      EXPECT_EQ(error, expected_error);
      ++compared;
      continue;
    }
    ASSERT_TRUE(t.has_value()) << error;
    std::string out;
    const bool executed = t->execute(machines.at(machine), out, error);
    EXPECT_EQ(executed, ok);
    EXPECT_EQ(out, expected_output);
    EXPECT_EQ(error, expected_error);
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(cases.size()));
}

// The ready-URL forms the documentation promises, written out.
TEST(go_template, expands_documented_ready_url_forms) {
  const auto m = sample_machine();
  EXPECT_EQ(run("http://{{.Hostname}}:8080/ready", m),
            "http://web-01.example.com:8080/ready");
  EXPECT_EQ(run("http://{{.IpAddress}}:{{index .Tags \"Port\"}}/ready", m),
            "http://10.0.0.5:8080/ready");
  EXPECT_EQ(run("http://{{.IpAddress}}:{{.Tags.Port}}/", m),
            "http://10.0.0.5:8080/");
  EXPECT_EQ(run("{{if .Tags.Port}}{{.Tags.Port}}{{else}}80{{end}}", m), "8080");
  EXPECT_EQ(run("{{printf \"%s\" .Location}}", m), "us-east/rack-7");
  EXPECT_EQ(run("a {{- /* note */ -}} b", m), "ab");
  EXPECT_EQ(run("{{.Tags.Nope}}|{{index .Tags \"Nope\"}}", m), "<no value>|");
}

TEST(go_template, reports_go_errors) {
  const auto m = sample_machine();
  EXPECT_EQ(run("{{.Nope}}", m, "NAME"),
            "ERROR: template: NAME:1:2: executing \"NAME\" at <.Nope>: "
            "can't evaluate field Nope in type mdb.Machine");
  EXPECT_EQ(
      run("{{.AwsMetadata.Region}}", m),
      "ERROR: template: t:1:14: executing \"t\" at <.AwsMetadata.Region>: "
      "nil pointer evaluating *mdb.AwsMetadata.Region");
  EXPECT_EQ(run("{{.Hostname ;}}", m, "NAME"),
            "ERROR: template: NAME:1: unexpected \";\" in operand");
  EXPECT_EQ(run("{{.Hostname}", m, "NAME"),
            "ERROR: template: NAME:1: bad character U+007D '}'");
  // The original names its template "", which shows in messages.
  EXPECT_EQ(run("{{.Tags.Port.X}}", m, ""),
            "ERROR: template: :1:7: executing \"\" at <.Tags.Port.X>: "
            "can't evaluate field X in type string");
}

TEST(go_template, executes_concurrently_from_one_parse) {
  std::string error;
  auto t = dm::go_template::parse(
      "t", "{{range $k, $v := .Tags}}{{$k}}={{$v}};{{end}}{{.Hostname}}",
      error);
  ASSERT_TRUE(t) << error;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      dm::machine_record m = sample_machine();
      m.hostname = "host-" + std::to_string(i);
      const std::string expected = "Env=prod;Port=8080;" + m.hostname;
      for (int n = 0; n < 500; ++n) {
        std::string out, err;
        if (!t->execute(m, out, err) || out != expected)
          ++failures[i];
      }
    });
  }
  for (auto& th : threads)
    th.join();
  for (int f : failures)
    EXPECT_EQ(f, 0);
}

TEST(go_template, copies_share_the_parsed_template) {
  std::string error;
  auto t = dm::go_template::parse("copy", "{{.Hostname}}", error);
  ASSERT_TRUE(t);
  dm::go_template copy = *t;
  t.reset();
  std::string out;
  ASSERT_TRUE(copy.execute(sample_machine(), out, error)) << error;
  EXPECT_EQ(out, "web-01.example.com");
  EXPECT_EQ(copy.name(), "copy");
  EXPECT_EQ(copy.text(), "{{.Hostname}}");
}

// A hostile template must fail fast instead of eating memory or time.
TEST(go_template, caps_output_size) {
  dm::machine_record m = sample_machine();
  for (int i = 0; i < 100; ++i)
    m.tags["k" + std::to_string(i)] = std::string(100, 'v');
  std::string error;
  auto t = dm::go_template::parse(
      "big", "{{range .Tags}}{{range $.Tags}}{{.}}{{end}}{{end}}", error);
  ASSERT_TRUE(t);
  std::string out;
  EXPECT_FALSE(t->execute(m, out, error));
  EXPECT_NE(error.find("output exceeds 65536 bytes"), std::string::npos)
      << error;
  EXPECT_LE(out.size(), dm::go_template::max_output_bytes);
}

TEST(go_template, caps_work_without_output) {
  dm::machine_record m = sample_machine();
  for (int i = 0; i < 200; ++i)
    m.tags["k" + std::to_string(i)] = "v";
  std::string error;
  auto t = dm::go_template::parse(
      "busy",
      "{{range .Tags}}{{range $.Tags}}{{range $.Tags}}{{end}}{{end}}{{end}}",
      error);
  ASSERT_TRUE(t);
  std::string out;
  EXPECT_FALSE(t->execute(m, out, error));
  EXPECT_NE(error.find("steps"), std::string::npos) << error;
}

TEST(go_template, caps_huge_formatted_strings) {
  std::string out = run("{{printf \"%999999s\" \"x\"}}", sample_machine());
  EXPECT_EQ(out.rfind("ERROR: ", 0), 0u) << out.substr(0, 80);
}

TEST(go_template, caps_template_recursion) {
  const std::string out =
      run("{{define \"a\"}}x{{template \"a\"}}{{end}}{{template \"a\"}}",
          sample_machine());
  EXPECT_NE(out.find("exceeded maximum template depth (100)"),
            std::string::npos)
      << out;
}

TEST(go_template, caps_nesting_depth_when_parsing) {
  std::string deep =
      "{{" + std::string(5000, '(') + "1" + std::string(5000, ')') + "}}";
  EXPECT_NE(run(deep, sample_machine()).find("nesting too deep"),
            std::string::npos);
  std::string ifs;
  for (int i = 0; i < 5000; ++i)
    ifs += "{{if 1}}";
  for (int i = 0; i < 5000; ++i)
    ifs += "{{end}}";
  EXPECT_NE(run(ifs, sample_machine()).find("nesting too deep"),
            std::string::npos);
  // Modest nesting is fine.
  EXPECT_EQ(run("{{((((len .Hostname))))}}", sample_machine()), "18");
}

} // namespace

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

#include "template/template_exec.hpp"

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
  for (int i = 0; i < 3000; ++i)
    ifs += "{{if 1}}";
  for (int i = 0; i < 3000; ++i)
    ifs += "{{end}}";
  EXPECT_NE(run(ifs, sample_machine()).find("nesting too deep"),
            std::string::npos);
  // Modest nesting is fine.
  EXPECT_EQ(run("{{((((len .Hostname))))}}", sample_machine()), "18");
}

// ---- Template execution is bounded (docs/testing.md, "Limits and where
// they are enforced"): each limit just under and just over. ----

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string repeated(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i)
    out += piece;
  return out;
}

// The template that took seconds and gigabytes: thousands of actions each
// keeping a 60000-byte string in a variable.
TEST(template_execution_is_bounded, refuses_the_reported_template) {
  std::string text;
  for (int i = 0; i < 29500; ++i)
    text += "{{$v" + std::to_string(i) + " := printf \"%60000d\" 1}}";
  std::string error;
  EXPECT_FALSE(dm::go_template::parse("", text, error));
  EXPECT_TRUE(contains(error, "more than 65536")) << error;
  // Fewer such actions, within the text and node limits, are refused by
  // the width limit, and with widths under it by the string budget.
  EXPECT_TRUE(contains(
      run(repeated("{{$v := printf \"%60000d\" 1}}", 500), sample_machine()),
      "width 60000 exceeds 4096"));
  EXPECT_TRUE(contains(
      run(repeated("{{$v := printf \"%4000d\" 1}}", 500), sample_machine()),
      "execution computes more than 1048576 bytes of strings"));
}

TEST(template_execution_is_bounded, text_size) {
  const std::size_t limit = dm::go_template::max_text_bytes;
  EXPECT_EQ(limit, 65536u);
  std::string error;
  std::string text = "{{.Hostname}}" + std::string(limit - 13, 'x');
  ASSERT_EQ(text.size(), limit);
  EXPECT_TRUE(dm::go_template::parse("t", text, error)) << error;
  text += 'x';
  EXPECT_FALSE(dm::go_template::parse("t", text, error));
  EXPECT_EQ(error,
            "template: t: template text is 65537 bytes, more than 65536");
}

TEST(template_execution_is_bounded, parsed_nodes) {
  EXPECT_EQ(dm::go_template::max_nodes, 4096u);
  // The root list, then per {{1}} an action, pipe, command and number.
  const std::size_t fits = (dm::go_template::max_nodes - 1) / 4;
  EXPECT_EQ(run(repeated("{{1}}", fits), sample_machine()),
            std::string(fits, '1'));
  EXPECT_EQ(run(repeated("{{1}}", fits + 1), sample_machine(), "n"),
            "ERROR: template: n:1: template has more than 4096 nodes");
  // {{define}}d trees count too.
  EXPECT_TRUE(contains(
      run("{{define \"d\"}}" + repeated("{{1}}", fits) + "{{end}}{{1}}",
          sample_machine()),
      "more than 4096 nodes"));
}

TEST(template_execution_is_bounded, printf_width_and_precision) {
  EXPECT_EQ(dm::go_template::max_format_width, 4096);
  const auto m = sample_machine();
  EXPECT_EQ(run("{{printf \"%4096d\" 1}}", m).size(), 4096u);
  EXPECT_EQ(run("{{printf \"%4097d\" 1}}", m, "w"),
            "ERROR: template: w:1:2: executing \"w\" at <printf \"%4097d\" 1>: "
            "error calling printf: width 4097 exceeds 4096");
  // Each form at the limit, then one over it: a width written or taken
  // from an argument (negative: left-justified), and a precision so too.
  const struct {
    const char* fits;
    std::size_t size;
    const char* over;
    const char* reason;
  } forms[] = {
      {"{{printf \"%-4096s|\" .Hostname}}", 4097,
       "{{printf \"%-4097s\" .Hostname}}", "width 4097 exceeds 4096"},
      {"{{printf \"%*d\" -4096 1}}", 4096, "{{printf \"%*d\" -4097 1}}",
       "width 4097 exceeds 4096"},
      {"{{printf \"%.4096f\" 1.5}}", 4098, "{{printf \"%.4097f\" 1.5}}",
       "precision 4097 exceeds 4096"},
      {"{{printf \"%.*d\" 4096 7}}", 4096, "{{printf \"%.*d\" 4097 7}}",
       "precision 4097 exceeds 4096"},
  };
  for (const auto& form : forms) {
    EXPECT_EQ(run(form.fits, m).size(), form.size) << form.fits;
    EXPECT_TRUE(contains(run(form.over, m), form.reason)) << form.over;
  }
  // Go's own refusal of absurd widths is unchanged.
  EXPECT_EQ(run("{{printf \"%99999999d\" 1}}", m), "%!(NOVERB)%!(EXTRA int=1)");
}

TEST(template_execution_is_bounded, output_size) {
  const auto m = sample_machine();
  const std::string block = "{{printf \"%4096s\" \"\"}}";
  ASSERT_EQ(dm::go_template::max_output_bytes, 16u * 4096u);
  EXPECT_EQ(run(repeated(block, 16), m).size(), 65536u);
  EXPECT_TRUE(contains(run(repeated(block, 16) + "x", m),
                       "output exceeds 65536 bytes"));
  // One function result may not be larger than the output either.
  EXPECT_EQ(
      run("{{len (print " + repeated("(printf \"%4096s\" \"\") ", 16) + ")}}",
          m),
      "65536");
  EXPECT_TRUE(
      contains(run("{{len (print " + repeated("(printf \"%4096s\" \"\") ", 16) +
                       "\"x\")}}",
                   m),
               "error calling print: result exceeds 65536 bytes"));
  // Nor may an escape's input or result.
  EXPECT_TRUE(contains(run("{{$s := printf \"%4096s\" \"\"}}{{len (html " +
                               repeated("$s ", 16) + "\"x\")}}",
                           m),
                       "error calling html: result exceeds 65536 bytes"));
  EXPECT_EQ(run("{{$s := printf \"%4096s\" \"\"}}{{len (urlquery " +
                    repeated("$s ", 16) + ")}}",
                m),
            "65536");
  EXPECT_TRUE(contains(run("{{$s := printf \"%4096s\" \"/\"}}{{len (urlquery " +
                               repeated("$s ", 16) + ")}}",
                           m),
                       "error calling urlquery: result exceeds 65536 bytes"));
}

TEST(template_execution_is_bounded, computed_string_bytes) {
  ASSERT_EQ(dm::go_template::max_string_bytes, 1048576u);
  const auto m = sample_machine();
  // Each action counts its format operand (6 bytes) and its result.
  const std::string keep = "{{$v := printf \"%4096s\" \"\"}}";
  const std::size_t each = 6 + 4096;
  const std::size_t fits = dm::go_template::max_string_bytes / each;
  EXPECT_EQ(run(repeated(keep, fits), m), "");
  EXPECT_TRUE(
      contains(run(repeated(keep, fits + 1), m),
               "execution computes more than 1048576 bytes of strings"));
  // Copying a variable costs its bytes again, so copies cannot multiply a
  // string either.
  const std::string copies =
      "{{$a := printf \"%4096s\" \"\"}}" + repeated("{{$b := $a}}", 300);
  EXPECT_TRUE(contains(run(copies, m), "bytes of strings"));
}

// Steps and string bytes, measured and then allowed exactly or one short.
TEST(template_execution_is_bounded, steps_and_bytes_at_the_edge) {
  const auto m = sample_machine();
  const std::string text =
      "{{range .Tags}}{{$x := printf \"%s-%s\" . $.Hostname}}{{$x}}{{end}}";
  dm::tmpl::tree_set trees;
  std::string error;
  ASSERT_TRUE(dm::tmpl::parse_template("e", text, trees, error)) << error;
  dm::tmpl::exec_limits limits;
  dm::tmpl::exec_usage used;
  std::string out;
  ASSERT_TRUE(dm::tmpl::execute_template(trees, "e", text, m, limits, out,
                                         error, &used))
      << error;
  EXPECT_EQ(out, "prod-web-01.example.com8080-web-01.example.com");
  ASSERT_GT(used.steps, 0u);
  ASSERT_GT(used.string_bytes, 0u);

  // Each limit set to what was spent passes, one less fails.
  auto at_edge = [&](std::size_t dm::tmpl::exec_limits::*limit,
                     std::size_t spent, const std::string& reason) {
    dm::tmpl::exec_limits edge;
    edge.*limit = spent;
    EXPECT_TRUE(
        dm::tmpl::execute_template(trees, "e", text, m, edge, out, error))
        << error;
    edge.*limit = spent - 1;
    EXPECT_FALSE(
        dm::tmpl::execute_template(trees, "e", text, m, edge, out, error));
    EXPECT_TRUE(contains(error, reason)) << error;
  };
  at_edge(&dm::tmpl::exec_limits::max_steps, used.steps,
          "execution exceeds " + std::to_string(used.steps - 1) + " steps");
  at_edge(&dm::tmpl::exec_limits::max_string_bytes, used.string_bytes,
          "execution computes more than " +
              std::to_string(used.string_bytes - 1) + " bytes of strings");
}

// Looking a variable up through many others is work, counted as steps.
TEST(template_execution_is_bounded, variable_lookups_count_as_steps) {
  dm::machine_record m = sample_machine();
  for (int i = 0; i < 200; ++i)
    m.tags["k" + std::to_string(i)] = "v";
  std::string declarations;
  for (int i = 0; i < 700; ++i)
    declarations += "{{$v" + std::to_string(i) + " := 1}}";
  // 200 iterations each looking through 700 variables for $.
  EXPECT_TRUE(
      contains(run(declarations + "{{range .Tags}}{{if $}}{{end}}{{end}}", m),
               "execution exceeds 100000 steps"));
  // A few variables cost next to nothing.
  EXPECT_EQ(run("{{$a := 1}}{{range .Tags}}{{if $}}{{end}}{{end}}ok", m), "ok");
}

} // namespace

// Tests of the SRPC JSON coder against the text Go's json.Encoder wrote
// (the reference and extra vectors in tests/data/gob), framing over split
// streams, and hostile input.
#include "codec/srpc_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "codec/gob.hpp"
#include "codec/machine_json.hpp"
#include "tests/support/reference_vectors.hpp"

namespace dm {
namespace {

using json = nlohmann::json;

using namespace dm::test;

// The JSON texts Go's encoder wrote in the reference and extra vectors.
std::vector<std::string> go_json_texts() {
  std::vector<std::string> texts;
  for (const auto* set : {&reference_vectors(), &extra_vectors()})
    for (const auto& vector : *set)
      if (vector.contains("JSONCoder"))
        texts.push_back(vector["JSONCoder"]);
  return texts;
}

// Makes up to `edits` random edits to `text`: a byte erased, overwritten or
// (with `inserts`) inserted, the new byte either any byte or one of
// `interesting`.
void mutate(std::string& text, std::mt19937& random, int edits,
            std::string_view interesting, bool inserts) {
  for (int e = 0; e < edits && !text.empty(); ++e) {
    std::size_t at = random() % text.size();
    char c = random() % 2 ? static_cast<char>(random())
                          : interesting[random() % interesting.size()];
    if (random() % 3 == 0)
      text.erase(at, 1);
    else if (inserts && random() % 2 == 0)
      text.insert(at, 1, c);
    else
      text[at] = c;
  }
}

// --- The reference vectors (tests/data/gob/reference-vectors.json) ----------

TEST(srpc_json_reference_vectors, requests_encode_to_go_text) {
  int seen = 0;
  for (const auto& vector : reference_vectors_of_kind("Request")) {
    std::string type = short_type(vector);
    ++seen;
    machine_record machine = expected_machine(vector["JSON"]["MDB"]);
    std::optional<request_kind> kind;
    if (vector["JSON"].contains("Request"))
      kind = parse_request_kind(vector["JSON"]["Request"].get<std::string>());
    EXPECT_EQ(encode_json_request(machine, kind),
              vector["JSONCoder"].get<std::string>())
        << vector["Name"];
  }
  EXPECT_EQ(seen, 10);
}

TEST(srpc_json_reference_vectors, responses_encode_to_go_text) {
  int seen = 0;
  for (const auto& vector : reference_vectors_of_kind("Response")) {
    std::string type = short_type(vector);
    ++seen;
    auto state =
        parse_disruption_state(vector["JSON"]["Response"].get<std::string>());
    ASSERT_TRUE(state);
    std::string text =
        type == "DisruptionResponse"
            ? encode_json_rest_response(*state)
            : encode_json_response(vector["JSON"]["Error"], *state);
    EXPECT_EQ(text, vector["JSONCoder"].get<std::string>()) << vector["Name"];
  }
  EXPECT_EQ(seen, 11);
}

TEST(srpc_json_reference_vectors, requests_decode_whole_and_in_pieces) {
  for (const auto& vector : reference_vectors()) {
    std::string type = short_type(vector);
    if (!ends_with(type, "Request") || type == "DisruptionRequest")
      continue;
    std::string text = vector["JSONCoder"];
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, text.size()}) {
      json_request_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(feed_in_pieces(decoder, text, chunk, consumed),
                json_status::done)
          << decoder.error();
      // The trailing newline goes with the value when it came with it.
      if (chunk == text.size()) {
        EXPECT_EQ(consumed, text.size());
      } else {
        EXPECT_GE(consumed, text.size() - 1);
      }
      EXPECT_EQ(decoder.machine(), expected_machine(vector["JSON"]["MDB"]));
    }
  }
}

TEST(srpc_json_reference_vectors, responses_decode_whole_and_in_pieces) {
  for (const auto& vector : reference_vectors_of_kind("Response")) {
    std::string text = vector["JSONCoder"];
    for (std::size_t chunk : {std::size_t{1}, text.size()}) {
      json_response_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(feed_in_pieces(decoder, text, chunk, consumed),
                json_status::done)
          << decoder.error();
      EXPECT_EQ(decoder.response_error(),
                vector["JSON"].value("Error", std::string()));
      EXPECT_EQ(to_string(decoder.state()),
                vector["JSON"]["Response"].get<std::string>());
    }
  }
}

// --- Extra vectors: Go's text for records read from Go's gob ---------------

TEST(srpc_json_extra_vectors, go_text_for_every_canonical_value) {
  int requests = 0;
  int responses = 0;
  for (const auto& vector : extra_vectors()) {
    if (!vector.contains("JSONCoder"))
      continue;
    std::string bytes = from_hex(vector["GobHex"]);
    std::string text = vector["JSONCoder"];
    std::string type = short_type(vector);
    if (vector["Kind"] == "request") {
      ++requests;
      gob_request_decoder gob;
      std::size_t consumed = 0;
      ASSERT_EQ(gob.feed(bytes, consumed), gob_status::done) << gob.error();
      std::optional<request_kind> kind;
      if (type == "DisruptionRequest")
        kind = static_cast<request_kind>(gob.request_field().value_or(0));
      EXPECT_EQ(encode_json_request(gob.machine(), kind), text)
          << vector["Name"];
      if (vector.contains("HostnameHex") || kind)
        continue; // JSON cannot carry the raw bytes back
      json_request_decoder decoder;
      ASSERT_EQ(feed_in_pieces(decoder, text, 3, consumed), json_status::done)
          << vector["Name"] << ": " << decoder.error();
      EXPECT_EQ(decoder.machine(), gob.machine()) << vector["Name"];
    } else {
      ++responses;
      auto state = parse_disruption_state(vector["State"].get<std::string>());
      ASSERT_TRUE(state);
      std::string ours =
          type == "DisruptionResponse"
              ? encode_json_rest_response(*state)
              : encode_json_response(vector["ResponseError"], *state);
      EXPECT_EQ(ours, text) << vector["Name"];
      json_response_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(decoder.feed(text, consumed), json_status::done);
      EXPECT_EQ(decoder.response_error(), vector["ResponseError"]);
      EXPECT_EQ(decoder.state(), *state);
    }
  }
  EXPECT_EQ(requests, 12);
  EXPECT_EQ(responses, 7);
}

// --- String escaping ---------------------------------------------------------

TEST(go_json_string, escapes_as_go_does) {
  EXPECT_EQ(go_json_string(""), "\"\"");
  EXPECT_EQ(go_json_string("plain /path"), "\"plain /path\"");
  EXPECT_EQ(go_json_string("\"\\"), "\"\\\"\\\\\"");
  EXPECT_EQ(go_json_string("<a & b>"), "\"\\u003ca \\u0026 b\\u003e\"");
  EXPECT_EQ(go_json_string("\n\r\t"), "\"\\n\\r\\t\"");
  // Go 1.22 and later: \b and \f short.
  EXPECT_EQ(go_json_string("\b\f"), "\"\\b\\f\"");
  EXPECT_EQ(go_json_string(std::string("\x00\x01\x1f\x7f", 4)),
            "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(go_json_string("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"");
  EXPECT_EQ(go_json_string("\xe2\x80\xa7"), "\"\xe2\x80\xa7\"");
  EXPECT_EQ(go_json_string("é€😀\xef\xbf\xbd"), "\"é€😀\xef\xbf\xbd\"");
}

TEST(go_json_string, replaces_each_invalid_byte) {
  EXPECT_EQ(go_json_string("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(go_json_string("\xc0\x80"), "\"\\ufffd\\ufffd\""); // overlong
  EXPECT_EQ(go_json_string("\xed\xa0\x80"),
            "\"\\ufffd\\ufffd\\ufffd\""); // surrogate
  EXPECT_EQ(go_json_string("\xf4\x90\x80\x80"),
            "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); // beyond U+10FFFF
  EXPECT_EQ(go_json_string("a\xe2\x82"), "\"a\\ufffd\\ufffd\""); // cut short
  EXPECT_EQ(go_json_string("\xc3"), "\"\\ufffd\"");
  EXPECT_EQ(go_json_string("\x80z"), "\"\\ufffdz\"");
}

TEST(encode_json_request, omits_empty_fields_as_mdb_machine_does) {
  machine_record machine;
  EXPECT_EQ(encode_json_request(machine), "{\"MDB\":{\"Hostname\":\"\"}}\n");
  machine.aws = aws_metadata{};
  EXPECT_EQ(encode_json_request(machine, request_kind::check),
            "{\"MDB\":{\"Hostname\":\"\",\"AwsMetadata\":{\"AccountId\":\"\","
            "\"AccountName\":\"\",\"InstanceId\":\"\",\"Region\":\"\","
            "\"Tags\":null}},\"Request\":\"check\"}\n");
}

// --- Framing -------------------------------------------------------------------

TEST(json_value_framer, finds_each_value_in_a_stream) {
  std::string stream =
      "  {\"a\":\"}]\\\"{\",\"b\":[1,{\"c\":null}]}\n[true]\r\n\"s\\u0041\" "
      "12 ";
  json_value_framer framer;
  std::size_t consumed = 0;
  std::vector<std::string> values;
  std::string_view rest = stream;
  while (!rest.empty()) {
    json_status status = framer.feed(rest, consumed);
    rest.remove_prefix(consumed);
    if (status == json_status::need_more)
      break;
    ASSERT_EQ(status, json_status::done) << framer.error();
    values.push_back(framer.value());
    framer.reset();
  }
  EXPECT_EQ(values, (std::vector<std::string>{
                        "{\"a\":\"}]\\\"{\",\"b\":[1,{\"c\":null}]}", "[true]",
                        "\"s\\u0041\"", "12"}));
}

TEST(json_value_framer, takes_one_byte_at_a_time) {
  std::string text = "\n {\"x\": [\"\\\\\", {}]}\n";
  json_value_framer framer;
  std::size_t used = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::size_t consumed = 0;
    json_status status = framer.feed(text.substr(i, 1), consumed);
    used += consumed;
    if (i + 2 < text.size()) {
      ASSERT_EQ(status, json_status::need_more) << i;
    } else {
      ASSERT_EQ(status, json_status::done) << framer.error();
      break;
    }
  }
  EXPECT_EQ(framer.value(), "{\"x\": [\"\\\\\", {}]}");
  EXPECT_EQ(used, text.size() - 1);
  // Done: nothing more is consumed.
  std::size_t consumed = 0;
  EXPECT_EQ(framer.feed("\n", consumed), json_status::done);
  EXPECT_EQ(consumed, 0u);
}

TEST(json_value_framer, a_top_level_number_needs_its_delimiter) {
  json_value_framer framer;
  std::size_t consumed = 0;
  EXPECT_EQ(framer.feed("-12.5e3", consumed), json_status::need_more);
  EXPECT_EQ(framer.feed("\n", consumed), json_status::done);
  EXPECT_EQ(framer.value(), "-12.5e3");
}

TEST(json_value_framer, refuses_garbage) {
  struct sample {
    std::string text;
    std::string error;
  };
  std::vector<sample> samples = {
      {"x", "invalid character 'x' looking for beginning of value"},
      {"}", "invalid character '}'"},
      {"{]", "invalid character ']'"},
      {"[1}", "invalid character '}'"},
      {"{\"a\n\"}", "in string literal"},
      {"\"\\x\"", "in string escape code"},
      {"{\"a\":#}", "invalid character '#'"},
      {std::string("\x01"), "invalid character '\\x01'"},
  };
  for (const auto& s : samples) {
    json_value_framer framer;
    std::size_t consumed = 0;
    EXPECT_EQ(framer.feed(s.text, consumed), json_status::error) << s.text;
    EXPECT_NE(framer.error().find(s.error), std::string::npos)
        << s.text << ": " << framer.error();
    EXPECT_EQ(framer.feed("{}", consumed), json_status::error);
  }
}

TEST(json_value_framer, caps_size_and_depth) {
  json_value_framer small(16);
  std::size_t consumed = 0;
  EXPECT_EQ(small.feed("{\"a\":\"0123456789abcdef\"}", consumed),
            json_status::error);
  EXPECT_NE(small.error().find("exceeds 16 bytes"), std::string::npos);
  // Piecewise the cap holds too.
  json_value_framer pieces(16);
  json_status status = json_status::need_more;
  for (int i = 0; i < 100 && status == json_status::need_more; ++i)
    status = pieces.feed(i == 0 ? "[" : "1,", consumed);
  EXPECT_EQ(status, json_status::error);

  json_value_framer shallow(1 << 20, 10);
  EXPECT_EQ(shallow.feed(std::string(11, '['), consumed), json_status::error);
  json_value_framer deep_enough(1 << 20, 10);
  EXPECT_EQ(
      deep_enough.feed(std::string(10, '[') + std::string(10, ']'), consumed),
      json_status::done);
}

// --- Decoders -------------------------------------------------------------------

// What a request decoder made of one text, and how much of it it used.
struct request_outcome {
  json_status status;
  std::string error;
  machine_record machine;
  std::size_t consumed;
};

// The whole text at once: a value whose first line is all there is read
// in place.
request_outcome read_whole(const std::string& text, std::size_t max_bytes) {
  json_request_decoder decoder(max_bytes);
  std::size_t consumed = 0;
  auto status = decoder.feed(text, consumed);
  return {status, decoder.error(), decoder.machine(), consumed};
}

// The framer's way: the text up to its first byte that is not white space,
// then the rest with what was left, so the value is always framed first.
request_outcome read_framed(const std::string& text, std::size_t max_bytes) {
  json_request_decoder decoder(max_bytes);
  auto first = text.find_first_not_of(" \t\r\n");
  std::string pending =
      text.substr(0, first == std::string::npos ? text.size() : first + 1);
  std::size_t consumed = 0;
  auto status = decoder.feed(pending, consumed);
  std::size_t total = consumed;
  if (status == json_status::need_more && pending.size() < text.size()) {
    pending.erase(0, consumed);
    pending += text.substr(first + 1);
    status = decoder.feed(pending, consumed);
    total += consumed;
  }
  return {status, decoder.error(), decoder.machine(), total};
}

void expect_same_outcome(const std::string& text, std::size_t max_bytes) {
  auto whole = read_whole(text, max_bytes);
  auto framed = read_framed(text, max_bytes);
  EXPECT_EQ(whole.status, framed.status) << text;
  EXPECT_EQ(whole.error, framed.error) << text;
  // After an error the connection ends; what was used does not matter.
  if (whole.status != json_status::error) {
    EXPECT_EQ(whole.consumed, framed.consumed) << text;
  }
  if (whole.status == json_status::done && framed.status == json_status::done) {
    EXPECT_EQ(whole.machine, framed.machine) << text;
  }
}

TEST(json_request_decoder, reads_a_whole_line_in_place_as_the_framer_would) {
  const std::string go = "{\"MDB\":{\"Hostname\":\"h\",\"Tags\":"
                         "{\"DisruptionManagerGroupMaximum\":\"2\"}}}\n";
  auto nested = [](int arrays) {
    return "{\"MDB\":{\"Hostname\":\"h\"},\"X\":" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}\n";
  };
  const std::vector<std::string> texts = {
      go,
      "  " + go,
      go + " \n\t" + go, // white space after the newline goes with it
      "{\"MDB\":{\"Hostname\":\"h\"}}\r\n",
      "{\"MDB\":{\"Hostname\":\"a\"}} {\"MDB\":{\"Hostname\":\"b\"}}\n",
      "{\"MDB\":\n  {\"Hostname\": \"h\"}\n}\n",
      "\n" + go,
      "{\"MDB\":{\"Hostname\":\"h\"}}x\n",
      "{\"MDB\":{\"Hostname\":3}}\n",
      "{\"MDB\":{\"Hostname\":\"a\\qb\"}}\n",
      "{\"MDB\":{\"Hostname\":\"a\tb\"}}\n",
      "[1]\n",
      "12\n",
      "{\"MDB\":{\"Hostname\":\"h\"}\n",
      nested(510),
      nested(511), // 512 containers deep: the framer's limit
      nested(512),
      nested(600),
  };
  for (const auto& text : texts)
    expect_same_outcome(text, 1 << 20);
  // A line longer than the limit is left to the framer.
  expect_same_outcome(go, go.size() - 2);
  expect_same_outcome(go, go.size() - 1);
  expect_same_outcome(go, go.size());
  // The cases that are read in place are read, not only refused.
  EXPECT_EQ(read_whole(go + " \n\t" + go, 1 << 20).consumed, go.size() + 3);
  EXPECT_EQ(read_whole(nested(511), 1 << 20).status, json_status::done);
  EXPECT_EQ(read_whole(nested(512), 1 << 20).status, json_status::error);
}

TEST(json_request_decoder, reads_mutated_go_text_in_place_as_the_framer_would) {
  std::mt19937 random(20261129);
  const auto texts = go_json_texts();
  for (int round = 0; round < 20000; ++round) {
    std::string text = texts[random() % texts.size()];
    if (random() % 4 == 0)
      text += texts[random() % texts.size()];
    mutate(text, random, static_cast<int>(random() % 5),
           "{}[]\"\\:, \n\r\t0a\xff\x01", true);
    expect_same_outcome(text, random() % 8 == 0 ? 64 : 4096);
  }
}

TEST(json_request_decoder, reports_bodies_that_do_not_parse) {
  for (std::string text : {"{\"MDB\":{\"Hostname\":3}}\n", "[1]\n",
                           "{\"MDB\":{\"Hostname\":\"h\",}}\n", "nul \n"}) {
    json_request_decoder decoder;
    std::size_t consumed = 0;
    EXPECT_EQ(decoder.feed(text, consumed), json_status::error) << text;
    EXPECT_FALSE(decoder.error().empty());
  }
}

TEST(json_request_decoder, ignores_unknown_fields_and_resets) {
  std::string text = "{\"MDB\":{\"Hostname\":\"h\",\"NewField\":[1,{}]},"
                     "\"Extra\":{}}\n";
  json_request_decoder decoder;
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.feed(text, consumed), json_status::done) << decoder.error();
  EXPECT_EQ(decoder.machine().hostname, "h");
  decoder.reset();
  EXPECT_EQ(decoder.machine(), machine_record{});
  ASSERT_EQ(decoder.feed("{\"MDB\":{\"Hostname\":\"g\"}}", consumed),
            json_status::done);
  EXPECT_EQ(decoder.machine().hostname, "g");
}

TEST(json_response_decoder, reads_states_by_name_only) {
  struct sample {
    std::string text;
    bool ok;
    disruption_state state;
    std::string error_part;
  };
  std::vector<sample> samples = {
      {"{\"Error\":\"\",\"Response\":\"denied\"}\n", true,
       disruption_state::denied, ""},
      {"{\"error\":\"e\",\"response\":\"requested\"}", true,
       disruption_state::requested, ""},
      {"{\"Error\":null,\"Response\":null}", true, disruption_state::anytime,
       ""},
      {"{}", true, disruption_state::anytime, ""},
      {"{\"Response\":1}", false, disruption_state::anytime,
       "cannot unmarshal number"},
      {"{\"Response\":\"maybe\"}", false, disruption_state::anytime,
       "unknown DisruptionState: maybe"},
      {"{\"Error\":5}", false, disruption_state::anytime,
       "cannot unmarshal number"},
      {"\"permitted\"", false, disruption_state::anytime,
       "cannot unmarshal string"},
  };
  for (const auto& s : samples) {
    json_response_decoder decoder;
    std::size_t consumed = 0;
    json_status status = decoder.feed(s.text + " ", consumed);
    if (s.ok) {
      ASSERT_EQ(status, json_status::done) << s.text << ": " << decoder.error();
      EXPECT_EQ(decoder.state(), s.state);
    } else {
      ASSERT_EQ(status, json_status::error) << s.text;
      EXPECT_NE(decoder.error().find(s.error_part), std::string::npos)
          << decoder.error();
    }
  }
}

// --- Hostile input ----------------------------------------------------------------

TEST(srpc_json_hostile_input, every_truncation_waits_for_more) {
  for (const auto& vector : reference_vectors()) {
    std::string text = vector["JSONCoder"];
    std::size_t end = text.rfind('}');
    for (std::size_t cut = 0; cut <= end; ++cut) {
      json_request_decoder requests;
      json_response_decoder responses;
      std::size_t consumed = 0;
      EXPECT_EQ(requests.feed(text.substr(0, cut), consumed),
                json_status::need_more);
      EXPECT_EQ(responses.feed(text.substr(0, cut), consumed),
                json_status::need_more);
    }
  }
}

TEST(srpc_json_hostile_input, mutations_and_garbage_never_crash) {
  std::mt19937 random(1122);
  const auto texts = go_json_texts();
  for (int round = 0; round < 20000; ++round) {
    std::string text = texts[random() % texts.size()];
    mutate(text, random, 1 + static_cast<int>(random() % 6),
           "{}[]\"\\:, \n0a\xff\x01", false);
    json_request_decoder requests(4096);
    json_response_decoder responses(4096);
    std::size_t consumed = 0;
    std::size_t total = 0;
    if (requests.feed(text, consumed) == json_status::error) {
      EXPECT_FALSE(requests.error().empty());
    }
    EXPECT_LE(consumed, text.size());
    feed_in_pieces(responses, text, 1 + random() % 9, total);
    EXPECT_LE(total, text.size());
  }
}

} // namespace
} // namespace dm

// Request bodies are read straight from the text. Checked against a reading
// through a full JSON document (nlohmann), which is slower but plainly
// right, over the seed corpus and many random variations of it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "codec/machine_json.hpp"
#include "tests/support/json_reference.hpp"

using namespace dm;
using dm::test::ambiguous;
using dm::test::reference_parse;

namespace {

void compare(std::string_view text, std::size_t& compared) {
  for (bool with_kind : {true, false}) {
    std::string error, reference_error;
    auto ours = parse_request_body(text, with_kind, error);
    auto theirs = reference_parse(text, with_kind, reference_error);
    ASSERT_EQ(ours.has_value(), theirs.has_value())
        << "ours: " << error << " / reference: " << reference_error
        << "\ninput: " << text;
    ++compared;
    if (ours) {
      EXPECT_TRUE(ours->machine == theirs->machine) << text;
      EXPECT_EQ(ours->kind, theirs->kind) << text;
    } else if (error != reference_error) {
      // With two wrong values, Go names the first in the text; the
      // reference names the first in field order. Both are type errors.
      EXPECT_NE(error.find(": expected"), std::string::npos)
          << error << " / " << reference_error << "\ninput: " << text;
      EXPECT_NE(reference_error.find(": expected"), std::string::npos)
          << error << " / " << reference_error << "\ninput: " << text;
    }
  }
}

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  std::filesystem::path dir =
      std::filesystem::path(DM_SOURCE_DIR) / "fuzz/corpus/machine_json_fuzz";
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(file.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    out.push_back(text.str());
  }
  return out;
}

} // namespace

TEST(machine_json, body_reading_agrees_with_the_document_reading) {
  auto corpus = seeds();
  ASSERT_GT(corpus.size(), 10u);
  std::mt19937_64 random(7);
  const std::string alphabet = "{}[]\",:\\ 0123456789.-+eEtrufalsn"
                               "MDBRequestHostnameTags\xC3\xA9\xFF\x01u";
  std::size_t compared = 0;
  for (const auto& seed : corpus) {
    if (!ambiguous(seed))
      compare(seed, compared);
    // Variations: a byte changed, dropped, repeated or inserted.
    for (int i = 0; i < 3000 && !seed.empty(); ++i) {
      std::string text = seed;
      for (int edits = 1 + static_cast<int>(random() % 3); edits > 0; --edits) {
        auto at = random() % text.size();
        char c = alphabet[random() % alphabet.size()];
        switch (random() % 4) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.erase(at, 1);
          break;
        case 2:
          text.insert(at, 1, text[at]);
          break;
        default:
          text.insert(at, 1, c);
          break;
        }
        if (text.empty())
          break;
      }
      if (!ambiguous(text))
        compare(text, compared);
      if (HasFatalFailure())
        return;
    }
  }
  EXPECT_GT(compared, 100000u);
}

TEST(machine_json, go_rules_for_names_and_duplicates) {
  std::string error;
  auto body = parse_request_body(
      R"({"mdb": {"HOSTNAME": "a", "hostname": "b", "tags": {"X": "1"},
        "Tags": {"Y": "2"}}, "request": "check", "Extra": [1, {"z": null}]})",
      true, error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(body->machine.hostname, "b");   // the later one, as Go
  EXPECT_EQ(body->machine.tags.size(), 2u); // merged, as Go
  EXPECT_EQ(body->kind, request_kind::check);
}

TEST(machine_json, go_zero_values_and_nulls) {
  // No Request, or null: Go's zero value, check (as the original reads).
  for (std::string text : {R"({"MDB": {"Hostname": "a"}})",
                           R"({"MDB": {"Hostname": "a"}, "Request": null})"}) {
    std::string error;
    auto body = parse_request_body(text, true, error);
    ASSERT_TRUE(body) << text << ": " << error;
    EXPECT_EQ(body->kind, request_kind::check) << text;
  }
  // A later null leaves an earlier kind (null changes nothing there) but
  // empties a list, a map and the AWS record, which Go sets to nil.
  std::string error;
  auto body = parse_request_body(
      R"({"MDB": {"Hostname": "a", "Tags": {"X": "1"}, "OwnerUsers": ["u"],
        "AwsMetadata": {"Region": "r"}, "Tags": null, "OwnerUsers": null,
        "AwsMetadata": null, "Hostname": null},
        "Request": "cancel", "Request": null})",
      true, error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(body->kind, request_kind::cancel);
  EXPECT_EQ(body->machine.hostname, "a");
  EXPECT_TRUE(body->machine.tags.empty());
  EXPECT_TRUE(body->machine.owner_users.empty());
  EXPECT_FALSE(body->machine.aws.has_value());
}

TEST(machine_json, errors_name_their_reason) {
  auto error_of = [](std::string_view text) {
    std::string error;
    EXPECT_FALSE(parse_request_body(text, true, error)) << text;
    return error;
  };
  EXPECT_EQ(error_of(""), "malformed JSON");
  EXPECT_EQ(error_of("[1, 2]"), "request body must be a JSON object");
  EXPECT_EQ(error_of(R"({"MDB": {"Hostname": 5}, "Request": "check"})"),
            "MDB.Hostname: expected a string");
  EXPECT_EQ(error_of(R"({"MDB": {"Hostname": 5}, "Request": "check"} x)"),
            "malformed JSON");
  EXPECT_EQ(error_of(R"({"MDB": {"Tags": {"a": 1}}, "Request": "check"})"),
            "MDB.Tags.a: expected a string");
  EXPECT_EQ(error_of(R"({"MDB": {}, "Request": "reboot"})"),
            "unknown request: reboot");
  EXPECT_EQ(error_of(R"({"MDB": {}, "Request": 1.5})"), request_type_error);
  EXPECT_EQ(error_of("{\"MDB\": {\"Hostname\": \"\xC3\x28\"}}"),
            "malformed JSON");
  EXPECT_EQ(error_of(R"({"MDB": {"Hostname": "\ud800"}, "Request": 0})"),
            "malformed JSON");
  EXPECT_EQ(error_of(std::string(100000, '[')),
            "JSON nested deeper than 10000 levels");
  EXPECT_EQ(error_of(std::string(100, '[')), "malformed JSON");
  // A NUL byte after the value is trailing garbage, as to Go (found by
  // fuzzing: the document reading had stopped at it and accepted).
  using namespace std::string_literals;
  EXPECT_EQ(error_of("{\"MDB\": {}, \"Request\": \"check\"}\n\0\n"s),
            "malformed JSON");
  // A member named twice is read twice, in order, as Go does: an earlier
  // value of the wrong type is an error even when a later one is right
  // (found by fuzzing: the document reading keeps only the last).
  EXPECT_EQ(error_of(R"({"MDB": {}, "Request": {}, "Request": "check"})"),
            request_type_error);
  EXPECT_TRUE(test::ambiguous(R"({"Request": {}, "Request": 2})"));
  // A number beyond a double's range is still JSON: skipped where nothing
  // reads it (found by fuzzing: the document reading refused the body).
  std::string big = R"({"MDB": {}, "Request": 1E999})";
  std::string skipped = R"({"MDB": {}, "Other": 1E999})";
  EXPECT_EQ(error_of(big), request_type_error);
  std::string none;
  EXPECT_TRUE(parse_request_body(skipped, false, none)) << none;
  EXPECT_TRUE(test::ambiguous(skipped));
  std::string error;
  EXPECT_FALSE(parse_request_body("{\"MDB\": {}}\n\0\0\0\n"s, false, error));
  EXPECT_FALSE(test::reference_parse("{\"MDB\": {}}\n\0\0\0\n"s, false, error));
}

// Go reads Request only through its text names (UnmarshalText): a number,
// true or false, a list or an object is a type error there, so the
// original answers 400 and grants nothing (docs/semantics.md, "Edges").
TEST(machine_json, request_kind_is_a_name_never_a_number) {
  for (std::string value : {"0", "1", "2", "7", "-1", "1.0", "1e0", "true",
                            "false", "[]", "[\"request\"]", "{}"}) {
    std::string text =
        R"({"MDB": {"Hostname": "a"}, "Request": )" + value + "}";
    std::string error;
    EXPECT_FALSE(parse_request_body(text, true, error)) << text;
    EXPECT_EQ(error, request_type_error) << text;
    // SRPC bodies have no Request field: Go ignores one there.
    EXPECT_TRUE(parse_request_body(text, false, error)) << text << error;
  }
}

// Go's scanner refuses JSON nested deeper than 10000 levels anywhere in
// the value, even in a member nobody reads.
TEST(machine_json, nesting_deeper_than_gos_limit_is_refused) {
  auto body_nested = [](std::size_t depth) {
    // The body object itself is the first level.
    return R"({"MDB": {"Hostname": "a"}, "Extra": )" +
           std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  std::string error;
  EXPECT_TRUE(parse_request_body(body_nested(go_json_max_depth), true, error))
      << error;
  for (bool with_kind : {true, false}) {
    EXPECT_FALSE(parse_request_body(body_nested(go_json_max_depth + 1),
                                    with_kind, error));
    EXPECT_EQ(error, "JSON nested deeper than 10000 levels");
  }
}

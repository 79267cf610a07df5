// Tests of the gob codec against bytes written by Go's own encoder (the
// reference and extra vectors in tests/data/gob), fed whole and in pieces,
// and against malformed and hostile streams.
#include "codec/gob.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "codec/machine_json.hpp"
#include "tests/support/reference_vectors.hpp"

namespace dm {
namespace {

using json = nlohmann::json;

using namespace dm::test;

template <class Decoder>
gob_status feed_whole(Decoder& decoder, const std::string& bytes,
                      std::size_t& consumed) {
  return decoder.feed(bytes, consumed);
}

// The type ids a stream defines, in order (from each definition message).
std::vector<int> defined_type_ids(const std::string& bytes) {
  std::vector<int> ids;
  std::size_t pos = 0;
  auto read_uint = [&](std::uint64_t& value) {
    auto first = static_cast<unsigned char>(bytes.at(pos++));
    if (first <= 0x7f) {
      value = first;
      return;
    }
    value = 0;
    for (int i = 0; i < 256 - first; ++i)
      value = (value << 8) | static_cast<unsigned char>(bytes.at(pos++));
  };
  while (pos < bytes.size()) {
    std::uint64_t length = 0;
    read_uint(length);
    std::size_t next = pos + length;
    std::uint64_t raw = 0;
    read_uint(raw);
    if ((raw & 1) != 0)
      ids.push_back(static_cast<int>(raw >> 1) + 1);
    pos = next;
  }
  return ids;
}

bool has_multi_entry_map(const machine_record& machine) {
  return machine.tags.size() > 1 ||
         (machine.aws && machine.aws->tags.size() > 1);
}

// The messages of a stream, each with its length prefix.
std::vector<std::string> split_messages(const std::string& bytes) {
  std::vector<std::string> messages;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    auto first = static_cast<unsigned char>(bytes[pos]);
    std::uint64_t length = first;
    std::size_t width = 1;
    if (first > 0x7f) {
      length = 0;
      width = 1 + (256 - first);
      for (std::size_t i = 1; i < width; ++i)
        length = (length << 8) | static_cast<unsigned char>(bytes.at(pos + i));
    }
    messages.push_back(bytes.substr(pos, width + length));
    pos += width + length;
  }
  return messages;
}

// Where the last message (the value) of a stream starts.
std::size_t last_message_start(const std::string& bytes) {
  auto messages = split_messages(bytes);
  return messages.empty() ? 0 : bytes.size() - messages.back().size();
}

// Go writes map entries in random order, so for records with several tags
// the bytes can only match up to that order: same length, same type
// definitions, and the same record when read back.
void expect_same_encoding(const std::string& ours, const std::string& go,
                          const machine_record& machine,
                          const std::string& name) {
  if (ours == go)
    return;
  ASSERT_TRUE(has_multi_entry_map(machine))
      << name << ": bytes differ for a record with a deterministic encoding";
  EXPECT_EQ(ours.size(), go.size()) << name;
  std::size_t definitions = last_message_start(go);
  EXPECT_EQ(ours.substr(0, definitions), go.substr(0, definitions)) << name;
  gob_request_decoder decoder;
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.feed(ours, consumed), gob_status::done) << decoder.error();
  EXPECT_EQ(decoder.machine(), machine) << name;
}

// --- The reference vectors (tests/data/gob/reference-vectors.json) ----------

TEST(gob_reference_vectors, requests_decode_to_the_vector_records) {
  int seen = 0;
  for (const auto& vector : reference_vectors_of_kind("Request")) {
    std::string type = short_type(vector);
    ++seen;
    std::string bytes = from_hex(vector.at("GobHex").get<std::string>());
    gob_request_decoder decoder;
    std::size_t consumed = 0;
    ASSERT_EQ(feed_whole(decoder, bytes, consumed), gob_status::done)
        << vector["Name"] << ": " << decoder.error();
    EXPECT_EQ(consumed, bytes.size());
    EXPECT_EQ(decoder.machine(), expected_machine(vector["JSON"]["MDB"]))
        << vector["Name"];
    EXPECT_EQ(decoder.type_name(), type);
    if (vector["JSON"].contains("Request")) {
      auto kind =
          parse_request_kind(vector["JSON"]["Request"].get<std::string>());
      ASSERT_TRUE(kind);
      EXPECT_EQ(decoder.request_field(), static_cast<std::uint64_t>(*kind));
    } else {
      EXPECT_FALSE(decoder.request_field());
    }
  }
  EXPECT_EQ(seen, 10);
}

TEST(gob_reference_vectors, requests_decode_fed_in_pieces) {
  for (const auto& vector : reference_vectors_of_kind("Request")) {
    std::string bytes = from_hex(vector.at("GobHex").get<std::string>());
    for (std::size_t chunk : {1, 2, 3, 7, 64, 1000}) {
      gob_request_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(feed_in_pieces(decoder, bytes, chunk, consumed),
                gob_status::done)
          << vector["Name"] << " chunk " << chunk << ": " << decoder.error();
      EXPECT_EQ(consumed, bytes.size());
      EXPECT_EQ(decoder.machine(), expected_machine(vector["JSON"]["MDB"]));
    }
  }
}

TEST(gob_reference_vectors, requests_encode_to_the_vector_bytes) {
  int exact = 0;
  for (const auto& vector : reference_vectors_of_kind("Request")) {
    std::string type = short_type(vector);
    std::string bytes = from_hex(vector.at("GobHex").get<std::string>());
    machine_record machine = expected_machine(vector["JSON"]["MDB"]);
    // The vectors come from one Go process, where the request struct got
    // its own id and Machine and its parts kept the ids given first.
    auto ids = defined_type_ids(bytes);
    ASSERT_EQ(ids.size(), 5u);
    std::optional<std::uint64_t> request_field;
    if (vector["JSON"].contains("Request"))
      request_field = static_cast<std::uint64_t>(
          *parse_request_kind(vector["JSON"]["Request"].get<std::string>()));
    std::string ours =
        encode_gob_request(type, machine, ids[0], ids[1], request_field);
    expect_same_encoding(ours, bytes, machine, vector["Name"]);
    exact += ours == bytes;
  }
  // All but the one whose four tags Go wrote out of order.
  EXPECT_EQ(exact, 9);
}

TEST(gob_reference_vectors, first_request_encodes_with_the_simple_overload) {
  const auto& vector = reference_vectors().at(0);
  ASSERT_EQ(short_type(vector), "DisruptionCheckRequest");
  std::string bytes = from_hex(vector.at("GobHex").get<std::string>());
  EXPECT_EQ(encode_gob_request("DisruptionCheckRequest",
                               expected_machine(vector["JSON"]["MDB"])),
            bytes);
}

TEST(gob_reference_vectors, responses_encode_to_the_vector_bytes) {
  int seen = 0;
  for (const auto& vector : reference_vectors_of_kind("Response")) {
    std::string type = short_type(vector);
    ++seen;
    std::string bytes = from_hex(vector.at("GobHex").get<std::string>());
    auto state =
        parse_disruption_state(vector["JSON"]["Response"].get<std::string>());
    ASSERT_TRUE(state);
    int id = defined_type_ids(bytes).at(0);
    if (type == "DisruptionResponse") {
      EXPECT_EQ(encode_gob_rest_response(*state, id), bytes);
    } else {
      EXPECT_EQ(encode_gob_response(type, vector["JSON"]["Error"], *state, id),
                bytes)
          << vector["Name"];
    }
  }
  EXPECT_EQ(seen, 11);
}

TEST(gob_reference_vectors, responses_decode_fed_whole_and_in_pieces) {
  for (const auto& vector : reference_vectors_of_kind("Response")) {
    std::string type = short_type(vector);
    std::string bytes = from_hex(vector.at("GobHex").get<std::string>());
    for (std::size_t chunk : {1, 5, 1000}) {
      gob_response_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(feed_in_pieces(decoder, bytes, chunk, consumed),
                gob_status::done)
          << vector["Name"] << ": " << decoder.error();
      EXPECT_EQ(consumed, bytes.size());
      EXPECT_EQ(decoder.response_error(),
                vector["JSON"].value("Error", std::string()));
      EXPECT_EQ(to_string(decoder.state()),
                vector["JSON"]["Response"].get<std::string>());
      EXPECT_EQ(decoder.type_name(), type);
    }
  }
}

TEST(gob_reference_vectors, a_response_is_not_a_request_and_back) {
  std::string response;
  std::string request;
  for (const auto& vector : reference_vectors()) {
    std::string type = short_type(vector);
    if (type == "DisruptionCheckResponse")
      response = from_hex(vector["GobHex"]);
    if (type == "DisruptionCheckRequest")
      request = from_hex(vector["GobHex"]);
  }
  std::size_t consumed = 0;
  gob_request_decoder as_request;
  EXPECT_EQ(as_request.feed(response, consumed), gob_status::error);
  EXPECT_NE(as_request.error().find("no fields matched"), std::string::npos)
      << as_request.error();
  gob_response_decoder as_response;
  EXPECT_EQ(as_response.feed(request, consumed), gob_status::error);
  EXPECT_NE(as_response.error().find("no fields matched"), std::string::npos)
      << as_response.error();
}

// --- Extra vectors from tests/data/gob/generate_vectors.go -----------------

TEST(gob_extra_vectors, requests_decode_or_fail_as_go_decided) {
  int decoded = 0;
  int refused = 0;
  for (const auto& vector : extra_vectors()) {
    if (vector["Kind"] != "request")
      continue;
    std::string name = vector["Name"];
    std::string bytes = from_hex(vector["GobHex"]);
    for (std::size_t chunk : {std::size_t{1}, bytes.size()}) {
      gob_request_decoder decoder;
      std::size_t consumed = 0;
      gob_status status = feed_in_pieces(decoder, bytes, chunk, consumed);
      if (vector.contains("Error")) {
        ASSERT_EQ(status, gob_status::error) << name;
        EXPECT_NE(decoder.error().find(vector["Error"].get<std::string>()),
                  std::string::npos)
            << name << ": " << decoder.error();
        EXPECT_EQ(decoder.error().rfind("gob: ", 0), 0u) << decoder.error();
        continue;
      }
      ASSERT_EQ(status, gob_status::done) << name << ": " << decoder.error();
      EXPECT_EQ(consumed, bytes.size()) << name;
      if (vector.contains("HostnameHex")) {
        EXPECT_EQ(decoder.machine().hostname, from_hex(vector["HostnameHex"]));
      } else {
        EXPECT_EQ(decoder.machine(), expected_machine(vector["Expect"]))
            << name;
      }
      if (vector.contains("RequestField")) {
        EXPECT_EQ(decoder.request_field().value_or(0),
                  vector["RequestField"].get<std::uint64_t>())
            << name;
      }
    }
    vector.contains("Error") ? ++refused : ++decoded;
  }
  EXPECT_GE(decoded, 16);
  EXPECT_GE(refused, 10);
}

TEST(gob_extra_vectors, canonical_requests_encode_to_go_bytes) {
  int exact = 0;
  for (const auto& vector : extra_vectors()) {
    if (vector["Kind"] != "request" || !vector.value("Canonical", false))
      continue;
    std::string bytes = from_hex(vector["GobHex"]);
    gob_request_decoder decoder;
    std::size_t consumed = 0;
    ASSERT_EQ(decoder.feed(bytes, consumed), gob_status::done);
    auto ids = defined_type_ids(bytes);
    ASSERT_EQ(ids.size(), 5u);
    std::optional<std::uint64_t> request_field;
    if (vector.contains("RequestField"))
      request_field = vector["RequestField"].get<std::uint64_t>();
    std::string ours = encode_gob_request(short_type(vector), decoder.machine(),
                                          ids[0], ids[1], request_field);
    expect_same_encoding(ours, bytes, decoder.machine(), vector["Name"]);
    exact += ours == bytes;
  }
  EXPECT_GE(exact, 11);
}

TEST(gob_extra_vectors, responses_decode_and_encode) {
  int seen = 0;
  for (const auto& vector : extra_vectors()) {
    if (vector["Kind"] != "response")
      continue;
    ++seen;
    std::string bytes = from_hex(vector["GobHex"]);
    gob_response_decoder decoder;
    std::size_t consumed = 0;
    ASSERT_EQ(feed_in_pieces(decoder, bytes, 1, consumed), gob_status::done)
        << decoder.error();
    EXPECT_EQ(decoder.response_error(), vector["ResponseError"]);
    EXPECT_EQ(to_string(decoder.state()), vector["State"].get<std::string>());
    std::string type = short_type(vector);
    int id = defined_type_ids(bytes).at(0);
    std::string ours = type == "DisruptionResponse"
                           ? encode_gob_rest_response(decoder.state(), id)
                           : encode_gob_response(type, decoder.response_error(),
                                                 decoder.state(), id);
    EXPECT_EQ(ours, bytes) << vector["Name"];
  }
  EXPECT_EQ(seen, 7);
}

// --- Feeding ----------------------------------------------------------------

std::string first_request_bytes() {
  return from_hex(reference_vectors().at(0)["GobHex"]);
}

TEST(gob_request_decoder, stops_at_the_end_of_the_value) {
  std::string one = first_request_bytes();
  std::string stream = one + "DisruptionManager.Check\n" + one;
  gob_request_decoder decoder;
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.feed(stream, consumed), gob_status::done);
  EXPECT_EQ(consumed, one.size());
  // Finished: more feeding changes nothing.
  EXPECT_EQ(decoder.feed(stream.substr(consumed), consumed), gob_status::done);
  EXPECT_EQ(consumed, 0u);
}

TEST(gob_request_decoder, reset_starts_a_fresh_call_with_fresh_type_ids) {
  std::string one = first_request_bytes();
  gob_request_decoder decoder;
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.feed(one, consumed), gob_status::done);
  decoder.reset();
  EXPECT_EQ(decoder.machine(), machine_record{});
  ASSERT_EQ(decoder.feed(one, consumed), gob_status::done) << decoder.error();
  EXPECT_EQ(decoder.machine().hostname, "nomad-node-0");
}

TEST(gob_request_decoder, type_definitions_are_kept_across_feeds) {
  // Two calls' worth of definitions in one call is a duplicate definition.
  std::string one = first_request_bytes();
  std::size_t value_length = 0x13 + 1; // the vector's last message
  std::string definitions = one.substr(0, one.size() - value_length);
  gob_request_decoder decoder;
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.feed(definitions, consumed), gob_status::need_more);
  EXPECT_EQ(consumed, definitions.size());
  EXPECT_EQ(decoder.feed(definitions, consumed), gob_status::error);
  EXPECT_NE(decoder.error().find("duplicate type"), std::string::npos);
  // A further feed repeats the error and consumes nothing.
  EXPECT_EQ(decoder.feed(one, consumed), gob_status::error);
  EXPECT_EQ(consumed, 0u);
}

struct call_outcome {
  gob_status status;
  std::size_t consumed;
  std::string error;
  machine_record machine;
  std::optional<std::uint64_t> request_field;
  std::string type_name;
};

call_outcome outcome_of(gob_request_decoder& decoder, const std::string& call) {
  call_outcome out;
  out.status = decoder.feed(call, out.consumed);
  out.error = decoder.error();
  if (out.status == gob_status::done) {
    out.machine = decoder.machine();
    out.request_field = decoder.request_field();
    out.type_name = decoder.type_name();
  }
  return out;
}

::testing::AssertionResult same_outcome(const call_outcome& got,
                                        const call_outcome& expected) {
  if (got.status != expected.status)
    return ::testing::AssertionFailure()
           << "status " << static_cast<int>(got.status) << " against "
           << static_cast<int>(expected.status) << ": " << got.error;
  if (got.consumed != expected.consumed)
    return ::testing::AssertionFailure()
           << "consumed " << got.consumed << " against " << expected.consumed;
  if (got.error != expected.error)
    return ::testing::AssertionFailure()
           << "error \"" << got.error << "\" against \"" << expected.error
           << "\"";
  if (!(got.machine == expected.machine))
    return ::testing::AssertionFailure() << "another record";
  if (got.request_field != expected.request_field)
    return ::testing::AssertionFailure() << "another Request field";
  if (got.type_name != expected.type_name)
    return ::testing::AssertionFailure()
           << "type " << got.type_name << " against " << expected.type_name;
  return ::testing::AssertionSuccess();
}

TEST(gob_request_decoder,
     a_connection_decodes_each_call_as_a_fresh_decoder_would) {
  // The calls a connection may carry: Go's requests of every kind and
  // shape, a response, a request whose types got other ids, and the full
  // request cut and spliced: only its value, one definition and the value,
  // every definition twice, a definition with a byte changed.
  std::vector<std::string> calls;
  for (const auto& vector : reference_vectors()) {
    auto name = vector.at("Name").get<std::string>();
    if (name.find("-request") != std::string::npos ||
        name == "check-response-permitted")
      calls.push_back(from_hex(vector.at("GobHex")));
  }
  std::string full = from_hex(reference_vectors().at(6)["GobHex"]);
  auto parts = split_messages(full);
  ASSERT_GE(parts.size(), 3u);
  std::string definitions;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i)
    definitions += parts[i];
  calls.push_back(parts.back());
  calls.push_back(parts.front() + parts.back());
  calls.push_back(definitions + definitions + parts.back());
  std::string changed = full;
  changed[parts.front().size() / 2] ^= 0x20;
  calls.push_back(changed);
  gob_request_decoder fresh;
  std::size_t consumed = 0;
  ASSERT_EQ(fresh.feed(full, consumed), gob_status::done);
  calls.push_back(encode_gob_request("DisruptionCheckRequest", fresh.machine(),
                                     80, 90, std::nullopt));
  calls.push_back(encode_gob_request("DisruptionRequest", fresh.machine(), 65,
                                     66, std::uint64_t{1}));

  // Every sequence of three calls on one decoder, against a new decoder per
  // call. A call whose definitions were only partly repeated must not see
  // the types the previous call defined.
  std::size_t sequences = 0;
  std::size_t reused_calls_decoded = 0;
  for (std::size_t a = 0; a < calls.size(); ++a)
    for (std::size_t b = 0; b < calls.size(); ++b)
      for (std::size_t c = 0; c < calls.size(); ++c) {
        gob_request_decoder connection;
        std::size_t order[] = {a, b, c};
        for (std::size_t step = 0; step < 3; ++step) {
          const auto& call = calls[order[step]];
          if (step > 0)
            connection.reset();
          gob_request_decoder alone;
          auto expected = outcome_of(alone, call);
          auto got = outcome_of(connection, call);
          std::string where = "calls " + std::to_string(a) + "," +
                              std::to_string(b) + "," + std::to_string(c) +
                              " step " + std::to_string(step);
          ASSERT_TRUE(same_outcome(got, expected)) << where;
          if (step > 0 && got.status == gob_status::done)
            ++reused_calls_decoded;
        }
        ++sequences;
      }
  EXPECT_EQ(sequences, calls.size() * calls.size() * calls.size());
  EXPECT_GT(reused_calls_decoded, sequences);

  // Longer runs, where several sets of definitions are kept and evicted.
  std::mt19937 random(20261129);
  std::uniform_int_distribution<std::size_t> pick(0, calls.size() - 1);
  for (int run = 0; run < 2000; ++run) {
    gob_request_decoder connection;
    for (int step = 0; step < 10; ++step) {
      std::size_t which = pick(random);
      if (step > 0)
        connection.reset();
      gob_request_decoder alone;
      auto expected = outcome_of(alone, calls[which]);
      auto got = outcome_of(connection, calls[which]);
      std::string where = "run " + std::to_string(run) + " step " +
                          std::to_string(step) + " call " +
                          std::to_string(which);
      ASSERT_TRUE(same_outcome(got, expected)) << where;
    }
  }
}

TEST(gob_request_decoder,
     a_call_that_sends_fewer_definitions_does_not_see_the_rest) {
  std::string full = from_hex(reference_vectors().at(6)["GobHex"]);
  auto parts = split_messages(full);
  gob_request_decoder decoder;
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.feed(full, consumed), gob_status::done);
  // The value alone names types this call never defined.
  decoder.reset();
  EXPECT_EQ(decoder.feed(parts.back(), consumed), gob_status::error);
  EXPECT_NE(decoder.error().find("unknown type id"), std::string::npos)
      << decoder.error();
  // After the error nothing is kept: the full call decodes from scratch.
  decoder.reset();
  ASSERT_EQ(decoder.feed(full, consumed), gob_status::done) << decoder.error();
  decoder.reset();
  ASSERT_EQ(decoder.feed(full, consumed), gob_status::done) << decoder.error();
  EXPECT_EQ(decoder.machine(),
            expected_machine(reference_vectors().at(6)["JSON"]["MDB"]));
}

// --- Round trips of our own encoder ------------------------------------------

TEST(gob_encoder, round_trips_records_of_every_shape) {
  std::vector<machine_record> records(5);
  records[1].hostname = "x";
  records[1].aws = aws_metadata{};
  records[2].hostname = std::string("raw\xff\x00bytes", 10);
  records[2].owner_groups = {"", "a"};
  records[2].owner_users = {std::string(300, 'u')};
  records[2].disable_updates = true;
  records[3].hostname = "tags";
  for (int i = 0; i < 2000; ++i)
    records[3].tags["k" + std::to_string(i)] = std::string(i % 200, 'v');
  records[4] = expected_machine(reference_vectors().at(6)["JSON"]["MDB"]);
  records[4].aws->tags.clear();
  for (const auto& record : records) {
    for (int first_id : {65, 100, 5000}) {
      std::string bytes =
          encode_gob_request("DisruptionCancelRequest", record, first_id);
      gob_request_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(feed_in_pieces(decoder, bytes, 3, consumed), gob_status::done)
          << decoder.error();
      EXPECT_EQ(consumed, bytes.size());
      EXPECT_EQ(decoder.machine(), record);
      EXPECT_FALSE(decoder.request_field());
    }
    std::string rest =
        encode_gob_request("DisruptionRequest", record, 75, 66, 2);
    gob_request_decoder decoder;
    std::size_t consumed = 0;
    ASSERT_EQ(decoder.feed(rest, consumed), gob_status::done)
        << decoder.error();
    EXPECT_EQ(decoder.machine(), record);
    EXPECT_EQ(decoder.request_field(), 2u);
  }
}

TEST(gob_encoder, round_trips_responses) {
  for (auto state : {disruption_state::anytime, disruption_state::permitted,
                     disruption_state::requested, disruption_state::denied}) {
    for (const std::string& error :
         {std::string(), std::string("x not permitted"),
          std::string(200, 'e')}) {
      std::string bytes =
          encode_gob_response("DisruptionRequestResponse", error, state);
      gob_response_decoder decoder;
      std::size_t consumed = 0;
      ASSERT_EQ(decoder.feed(bytes, consumed), gob_status::done);
      EXPECT_EQ(decoder.response_error(), error);
      EXPECT_EQ(decoder.state(), state);
    }
  }
}

// --- Hand-built streams -------------------------------------------------------

// Writes gob by hand, for streams Go's encoder would never write.
struct gob_builder {
  std::string body;
  gob_builder& uint(std::uint64_t value) {
    if (value <= 0x7f) {
      body.push_back(static_cast<char>(value));
      return *this;
    }
    std::string bytes;
    for (; value != 0; value >>= 8)
      bytes.insert(bytes.begin(), static_cast<char>(value & 0xff));
    body.push_back(static_cast<char>(256 - bytes.size()));
    body += bytes;
    return *this;
  }
  gob_builder& sint(std::int64_t value) {
    return uint(value < 0 ? (static_cast<std::uint64_t>(~value) << 1) | 1
                          : static_cast<std::uint64_t>(value) << 1);
  }
  gob_builder& text(std::string_view value) {
    uint(value.size());
    body.append(value);
    return *this;
  }
  gob_builder& raw(std::string_view bytes) {
    body.append(bytes);
    return *this;
  }
  // The body framed as one message.
  std::string message() const {
    gob_builder framed;
    framed.uint(body.size());
    return framed.body + body;
  }
};

// A struct type definition message: {name, [(field name, field type id)]}.
std::string struct_def(int id, std::string_view name,
                       std::vector<std::pair<std::string, int>> fields) {
  gob_builder b;
  b.sint(-id).uint(3).uint(1).uint(1).text(name).uint(1).sint(id).uint(0);
  if (!fields.empty()) {
    b.uint(1).uint(fields.size());
    for (const auto& [field, type] : fields)
      b.uint(1).text(field).uint(1).sint(type).uint(0);
  }
  b.uint(0).uint(0);
  return b.message();
}

std::string slice_def(int id, std::string_view name, int elem) {
  gob_builder b;
  b.sint(-id).uint(2).uint(1).uint(1).text(name).uint(1).sint(id).uint(0);
  b.uint(1).sint(elem).uint(0).uint(0);
  return b.message();
}

std::string map_def(int id, std::string_view name, int key, int elem) {
  gob_builder b;
  b.sint(-id).uint(4).uint(1).uint(1).text(name).uint(1).sint(id).uint(0);
  b.uint(1).sint(key).uint(1).sint(elem).uint(0).uint(0);
  return b.message();
}

std::string array_def(int id, std::string_view name, int elem, int length) {
  gob_builder b;
  b.sint(-id).uint(1).uint(1).uint(1).text(name).uint(1).sint(id).uint(0);
  b.uint(1).sint(elem).uint(1).sint(length).uint(0).uint(0);
  return b.message();
}

// A request {MDB Machine{Hostname string}, Extra <extra_type>} with the
// extra field's value bytes given.
std::string request_with_extra(int extra_type, std::string_view definitions,
                               std::string_view extra_value) {
  std::string stream =
      struct_def(65, "Req", {{"MDB", 66}, {"Extra", extra_type}});
  stream += struct_def(66, "Machine", {{"Hostname", 6}});
  stream += definitions;
  gob_builder value;
  value.sint(65)
      .uint(1)
      .uint(1)
      .text("h")
      .uint(0)
      .uint(1)
      .raw(extra_value)
      .uint(0);
  return stream + value.message();
}

gob_status decode(const std::string& bytes, std::string& error,
                  machine_record* machine = nullptr,
                  std::size_t limit = 1 << 20) {
  gob_request_decoder decoder(limit);
  std::size_t consumed = 0;
  gob_status status = decoder.feed(bytes, consumed);
  error = decoder.error();
  if (machine != nullptr)
    *machine = decoder.machine();
  return status;
}

TEST(gob_request_decoder, skips_unknown_values_of_every_predefined_type) {
  struct sample {
    int type;
    std::string value;
  };
  std::vector<sample> samples = {
      {1, gob_builder().uint(1).body},
      {2, gob_builder().sint(-1000000).body},
      {3, gob_builder().uint(~std::uint64_t{0}).body},
      {4, gob_builder().uint(0x4000000000000000).body},
      {5, gob_builder().text(std::string("\x00\x01\xff", 3)).body},
      {6, gob_builder().text("skipped").body},
      {7, gob_builder().uint(1).uint(2).body},
      {8, gob_builder().text("").body}, // nil interface
      {8, gob_builder().text("string").sint(6).uint(4).text("abc").body},
  };
  for (const auto& s : samples) {
    std::string error;
    machine_record machine;
    EXPECT_EQ(decode(request_with_extra(s.type, "", s.value), error, &machine),
              gob_status::done)
        << "type " << s.type << ": " << error;
    EXPECT_EQ(machine.hostname, "h");
  }
}

TEST(gob_request_decoder, skips_unknown_composite_and_recursive_values) {
  // A recursive struct Node {Value int; Next Node} nested 100 deep.
  std::string node_def = struct_def(67, "Node", {{"Value", 2}, {"Next", 67}});
  gob_builder nested;
  for (int i = 0; i < 100; ++i)
    nested.uint(1).sint(i).uint(1);
  nested.uint(0);
  for (int i = 0; i < 100; ++i)
    nested.uint(0);
  std::string error;
  EXPECT_EQ(decode(request_with_extra(67, node_def, nested.body), error),
            gob_status::done)
      << error;

  // map[string][]int and [2]bool.
  std::string defs = map_def(67, "M", 6, 68) + slice_def(68, "[]int", 2) +
                     array_def(69, "[2]bool", 1, 2);
  std::string stream =
      struct_def(65, "Req", {{"MDB", 66}, {"M", 67}, {"A", 69}}) +
      struct_def(66, "Machine", {{"Hostname", 6}}) + defs;
  gob_builder value;
  value.sint(65).uint(1).uint(1).text("h").uint(0);
  value.uint(1).uint(2).text("a").uint(2).sint(1).sint(2).text("b").uint(0);
  value.uint(1).uint(2).uint(1).uint(0);
  value.uint(0);
  machine_record machine;
  EXPECT_EQ(decode(stream + value.message(), error, &machine), gob_status::done)
      << error;
  EXPECT_EQ(machine.hostname, "h");

  // A GobEncoder type is skipped as its byte string.
  gob_builder encoder_def;
  encoder_def.sint(-67)
      .uint(5)
      .uint(1)
      .uint(1)
      .text("Time")
      .uint(1)
      .sint(67)
      .uint(0)
      .uint(0)
      .uint(0);
  EXPECT_EQ(decode(request_with_extra(67, encoder_def.message(),
                                      gob_builder().text("opaque").body),
                   error),
            gob_status::done)
      << error;
}

TEST(gob_request_decoder, refuses_values_nested_too_deeply) {
  std::string node_def = struct_def(67, "Node", {{"Value", 2}, {"Next", 67}});
  gob_builder nested;
  for (int i = 0; i < 100000; ++i)
    nested.uint(2);
  std::string error;
  EXPECT_EQ(decode(request_with_extra(67, node_def, nested.body), error),
            gob_status::error);
  EXPECT_NE(error.find("nested too deeply"), std::string::npos) << error;
}

TEST(gob_request_decoder, refuses_bad_type_ids) {
  std::string error;
  // A definition of a predefined id.
  EXPECT_EQ(decode(struct_def(6, "S", {{"A", 2}}), error), gob_status::error);
  EXPECT_NE(error.find("duplicate type"), std::string::npos) << error;
  // Defined twice.
  EXPECT_EQ(
      decode(struct_def(70, "S", {{"A", 2}}) + struct_def(70, "S", {{"A", 2}}),
             error),
      gob_status::error);
  EXPECT_NE(error.find("duplicate type"), std::string::npos) << error;
  // A value of a type never defined.
  EXPECT_EQ(decode(gob_builder().sint(1000).uint(0).message(), error),
            gob_status::error);
  EXPECT_NE(error.find("unknown type id"), std::string::npos) << error;
  // A field of a type never defined, unknown to us or known.
  EXPECT_EQ(
      decode(request_with_extra(99, "", gob_builder().uint(1).body), error),
      gob_status::error);
  EXPECT_NE(error.find("undefined type 99"), std::string::npos) << error;
  std::string stream = struct_def(65, "Req", {{"MDB", 66}}) +
                       struct_def(66, "Machine", {{"Tags", 90}}) +
                       gob_builder().sint(65).uint(0).message();
  EXPECT_EQ(decode(stream, error), gob_status::error);
  // Ids beyond Go's int32.
  EXPECT_EQ(
      decode(gob_builder().sint(-(std::int64_t{1} << 40)).message(), error),
      gob_status::error);
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  EXPECT_EQ(decode(gob_builder().uint(~std::uint64_t{0}).message(), error),
            gob_status::error);
  // Reserved and internal ids are not types a sender may use.
  EXPECT_EQ(
      decode(request_with_extra(16, "", gob_builder().uint(0).body), error),
      gob_status::error);
}

TEST(gob_request_decoder, refuses_huge_lengths_and_counts) {
  std::string error;
  // A message length beyond the limit, even before its bytes arrive.
  EXPECT_EQ(decode(gob_builder().uint(std::uint64_t{1} << 40).body, error),
            gob_status::error);
  EXPECT_NE(error.find("exceeds the limit"), std::string::npos) << error;
  // A length prefix of nine bytes.
  EXPECT_EQ(decode(std::string("\xf7\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10),
                   error),
            gob_status::error);
  // A string, slice, map, []byte and field list claiming more than is left.
  std::string huge_string = request_with_extra(
      6, "", gob_builder().uint(~std::uint64_t{0} >> 1).body);
  EXPECT_EQ(decode(huge_string, error), gob_status::error);
  EXPECT_NE(error.find("exceeds input size"), std::string::npos) << error;
  std::string huge_slice = request_with_extra(
      67, slice_def(67, "[]int", 2), gob_builder().uint(1u << 30).body);
  EXPECT_EQ(decode(huge_slice, error), gob_status::error);
  std::string huge_map =
      request_with_extra(67, map_def(67, "M", 2, 2),
                         gob_builder().uint(1000).uint(1).uint(1).body);
  EXPECT_EQ(decode(huge_map, error), gob_status::error);
  gob_builder fields;
  fields.sint(-65).uint(3).uint(1).uint(1).text("S").uint(0).uint(1).uint(
      std::uint64_t{1} << 50);
  EXPECT_EQ(decode(fields.message(), error), gob_status::error);
  EXPECT_NE(error.find("exceeds input size"), std::string::npos) << error;
  // Our own tags map with a count beyond the data.
  std::string stream = struct_def(65, "Req", {{"MDB", 66}}) +
                       struct_def(66, "Machine", {{"Tags", 67}}) +
                       map_def(67, "Tags", 6, 6);
  gob_builder value;
  value.sint(65).uint(1).uint(1).uint(~std::uint64_t{0});
  EXPECT_EQ(decode(stream + value.message(), error), gob_status::error);
}

TEST(gob_request_decoder, enforces_the_message_and_definition_budgets) {
  std::string error;
  std::string full = from_hex(reference_vectors().at(6)["GobHex"]);
  EXPECT_EQ(decode(full, error, nullptr, 200), gob_status::error);
  EXPECT_NE(error.find("exceeds the limit of 200"), std::string::npos) << error;
  // Many small definitions: each fits, together they do not.
  std::string many;
  for (int id = 100; id < 400; ++id)
    many += slice_def(id, "[]int", 2);
  EXPECT_EQ(decode(many, error, nullptr, 2000), gob_status::error);
  EXPECT_NE(error.find("type definitions exceed"), std::string::npos) << error;
}

TEST(gob_request_decoder, refuses_malformed_messages) {
  std::string error;
  EXPECT_EQ(decode(std::string(1, '\0'), error), gob_status::error);
  // Trailing bytes after a type definition.
  std::string def = struct_def(65, "S", {{"A", 2}});
  std::string padded = gob_builder().raw(def.substr(1)).raw("x").message();
  EXPECT_EQ(decode(padded, error), gob_status::error);
  EXPECT_NE(error.find("extra data"), std::string::npos) << error;
  // A definition with no kind, and one with two.
  EXPECT_EQ(decode(gob_builder().sint(-65).uint(0).message(), error),
            gob_status::error);
  gob_builder two;
  two.sint(-65)
      .uint(2)
      .uint(1)
      .uint(1)
      .text("a")
      .uint(0)
      .uint(1)
      .sint(2)
      .uint(0)
      .uint(2)
      .uint(1)
      .uint(1)
      .text("b")
      .uint(0)
      .uint(0)
      .uint(0);
  EXPECT_EQ(decode(two.message(), error), gob_status::error);
  // A field number past the struct's fields.
  std::string stream =
      struct_def(65, "Req", {{"MDB", 66}}) +
      struct_def(66, "Machine", {{"Hostname", 6}}) +
      gob_builder().sint(65).uint(1).uint(5).text("h").message();
  EXPECT_EQ(decode(stream, error), gob_status::error);
  EXPECT_NE(error.find("field numbers out of bounds"), std::string::npos)
      << error;
  // An array whose count is not its length.
  EXPECT_EQ(decode(request_with_extra(
                       67, array_def(67, "[2]int", 2, 2),
                       gob_builder().uint(3).uint(1).uint(1).uint(1).body),
                   error),
            gob_status::error);
  // A value that is not a struct at the top.
  EXPECT_EQ(decode(gob_builder().sint(6).uint(0).text("x").message(), error),
            gob_status::error);
  EXPECT_NE(error.find("got non-struct"), std::string::npos) << error;
  // An empty field name.
  EXPECT_EQ(decode(struct_def(65, "S", {{"", 2}}), error), gob_status::error);
  // An interface carrying a type definition inside the value.
  EXPECT_EQ(
      decode(request_with_extra(8, "", gob_builder().text("T").sint(-70).body),
             error),
      gob_status::error);
  EXPECT_NE(error.find("interface"), std::string::npos) << error;
}

TEST(gob_request_decoder, accepts_a_struct_ended_by_the_message_end) {
  // Go's decoder treats the end of the message as the end of a struct.
  std::string stream =
      struct_def(65, "Req", {{"MDB", 66}}) +
      struct_def(66, "Machine", {{"Hostname", 6}}) +
      gob_builder().sint(65).uint(1).uint(1).text("h").message();
  std::string error;
  machine_record machine;
  EXPECT_EQ(decode(stream, error, &machine), gob_status::done) << error;
  EXPECT_EQ(machine.hostname, "h");
}

TEST(gob_response_decoder, refuses_a_state_it_cannot_name) {
  std::string bytes = encode_gob_response("DisruptionCheckResponse", "",
                                          disruption_state::denied);
  bytes[bytes.size() - 2] = 7; // the state's value
  gob_response_decoder decoder;
  std::size_t consumed = 0;
  EXPECT_EQ(decoder.feed(bytes, consumed), gob_status::error);
  EXPECT_NE(decoder.error().find("DisruptionState: 7"), std::string::npos)
      << decoder.error();
}

// --- Hostile input ------------------------------------------------------------

std::vector<std::string> all_gob_vectors() {
  std::vector<std::string> out;
  for (const auto* set : {&reference_vectors(), &extra_vectors()})
    for (const auto& vector : *set)
      out.push_back(from_hex(vector["GobHex"]));
  return out;
}

TEST(gob_hostile_input, every_truncation_waits_for_more) {
  for (const auto& bytes : all_gob_vectors()) {
    if (bytes.size() > 4000)
      continue; // the 1000-tag vector: quadratic here, covered by others
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      gob_request_decoder requests;
      gob_response_decoder responses;
      std::size_t consumed = 0;
      auto status =
          requests.feed(std::string_view(bytes).substr(0, cut), consumed);
      EXPECT_LE(consumed, cut);
      // A prefix is never a complete call, but may already be refused (a
      // sender type we cannot take is refused at its value, which is last).
      EXPECT_NE(status, gob_status::done);
      EXPECT_NE(
          responses.feed(std::string_view(bytes).substr(0, cut), consumed),
          gob_status::done);
    }
  }
}

template <class Decoder>
void feed_without_crashing(const std::string& bytes) {
  Decoder decoder(1 << 16);
  std::size_t consumed = 0;
  auto status = decoder.feed(bytes, consumed);
  EXPECT_LE(consumed, bytes.size());
  if (status == gob_status::error) {
    EXPECT_FALSE(decoder.error().empty());
  }
}

TEST(gob_hostile_input, flipped_bytes_give_a_result_or_an_error) {
  for (const auto& bytes : all_gob_vectors()) {
    if (bytes.size() > 4000)
      continue;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (unsigned char mask : {0x01, 0x02, 0x40, 0x80, 0xff}) {
        std::string mutated = bytes;
        mutated[i] = static_cast<char>(mutated[i] ^ mask);
        feed_without_crashing<gob_request_decoder>(mutated);
        feed_without_crashing<gob_response_decoder>(mutated);
      }
    }
  }
}

TEST(gob_hostile_input, random_mutations_and_garbage_never_crash) {
  std::mt19937 random(20261120);
  auto vectors = all_gob_vectors();
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = vectors[random() % vectors.size()];
    int edits = 1 + static_cast<int>(random() % 8);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      std::size_t at = random() % bytes.size();
      switch (random() % 4) {
      case 0:
        bytes[at] = static_cast<char>(random());
        break;
      case 1:
        bytes.erase(at, 1 + random() % 4);
        break;
      case 2:
        bytes.insert(at, 1, static_cast<char>(random()));
        break;
      default:
        bytes[at] = static_cast<char>(0xf8 + random() % 8); // long uints
      }
    }
    feed_without_crashing<gob_request_decoder>(bytes);
    feed_without_crashing<gob_response_decoder>(bytes);
  }
  for (int round = 0; round < 5000; ++round) {
    std::string garbage(random() % 300, '\0');
    for (auto& c : garbage)
      c = static_cast<char>(random());
    feed_without_crashing<gob_request_decoder>(garbage);
  }
}

} // namespace
} // namespace dm

// The original's state.json read one group at a time with the pull reader,
// against a reading of the whole document into a tree (how it was read
// before, kept here as the reference): the same state, or the same error,
// for every document, valid or not, over many random ones.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "storage/legacy_state.hpp"

using namespace dm;

namespace {

using json = nlohmann::json;

// The reference: the whole document read into a tree, then walked.
std::optional<stored_state> read_whole(std::string_view text, timestamp now,
                                       std::string& error) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    error = "state.json is not valid JSON";
    return std::nullopt;
  }
  if (doc.is_null())
    return stored_state{};
  if (!doc.is_array()) {
    error = "state.json: expected a list of groups";
    return std::nullopt;
  }
  stored_state state;
  std::uint64_t queue_seq = 1;
  auto string_member = [](const json& item,
                          const char* name) -> std::optional<std::string> {
    if (!item.is_object() || !item.contains(name) || !item[name].is_string())
      return std::nullopt;
    return item[name].get<std::string>();
  };
  for (const auto& group : doc) {
    if (!group.is_object()) {
      error = "state.json: a group is not an object";
      return std::nullopt;
    }
    std::string id;
    if (group.contains("Identifier")) {
      if (!group["Identifier"].is_string()) {
        error = "state.json: Identifier is not a string";
        return std::nullopt;
      }
      id = group["Identifier"].get<std::string>();
    }
    auto& hosts = state.groups[id].hosts;
    auto list = [&](const char* name) -> const json* {
      if (!group.contains(name) || group[name].is_null())
        return nullptr;
      return &group[name];
    };
    for (const char* name : {"Permitted", "Requested"}) {
      const json* items = list(name);
      if (items == nullptr)
        continue;
      if (!items->is_array()) {
        error = std::string("state.json: ") + name + " is not a list";
        return std::nullopt;
      }
      bool permitted = std::string_view(name) == "Permitted";
      for (const auto& item : *items) {
        auto host = string_member(item, "Hostname");
        auto when_text = string_member(item, "LastRequest");
        std::optional<timestamp> when;
        if (when_text)
          when = parse_rfc3339(*when_text);
        if (!host || host->empty() || !when) {
          error = std::string("state.json: bad entry in ") + name +
                  " of group \"" + id + "\"";
          return std::nullopt;
        }
        auto& entry = hosts[*host];
        if (entry.hold && entry.hold->permitted)
          continue;
        entry.hold = holding{permitted, clamp_to_storable(*when), queue_seq++};
      }
    }
    if (const json* items = list("Waiting")) {
      if (!items->is_array()) {
        error = "state.json: Waiting is not a list";
        return std::nullopt;
      }
      for (const auto& item : *items) {
        auto host = string_member(item, "Hostname");
        if (!host || host->empty()) {
          error = "state.json: bad entry in Waiting of group \"" + id + "\"";
          return std::nullopt;
        }
        std::optional<timestamp> deadline;
        if (auto text = string_member(item, "ReadyTimeout"))
          deadline = parse_rfc3339(*text);
        if (!deadline || *deadline <= now)
          continue;
        waiting wait;
        wait.deadline = clamp_to_storable(*deadline);
        if (auto url = string_member(item, "ReadyUrl"))
          wait.url = *url;
        hosts[*host].wait = std::move(wait);
      }
    }
    if (hosts.empty())
      state.groups.erase(id);
  }
  return state;
}

// The state as text, to compare and to show.
std::string describe(const std::optional<stored_state>& state,
                     const std::string& error) {
  if (!state)
    return "error: " + error;
  std::string out;
  for (const auto& [id, group] : state->groups) {
    out += "group \"" + id + "\" limit " + std::to_string(group.limit) + "\n";
    for (const auto& [host, entry] : group.hosts) {
      out += "  \"" + host + "\"";
      if (entry.hold)
        out += (entry.hold->permitted ? " permitted " : " requested ") +
               std::to_string(
                   entry.hold->last_request.time_since_epoch().count()) +
               " #" + std::to_string(entry.hold->queue_seq);
      if (entry.wait)
        out += " waits until " +
               std::to_string(entry.wait->deadline.time_since_epoch().count()) +
               " for \"" + entry.wait->url + "\"";
      out += "\n";
    }
  }
  return out;
}

// Random documents, mostly of the original's shape, with every kind of
// fault the reading must tell: wrong kinds, members missing, repeated or
// in any order, bad times, entries that are not objects, text that is not
// JSON at all.
class document_maker {
public:
  explicit document_maker(std::uint64_t seed) : random_(seed) {}

  std::string document() {
    faulty_ = pick(2) == 0; // else every entry is as the original writes
    std::string text;
    switch (faulty_ ? pick(20) : 2) {
    case 0:
      text = "null";
      break;
    case 1:
      text = one_of({"{}", "5", "\"groups\"", "", "[", "true"});
      break;
    default:
      text = "[";
      for (int i = 0, n = static_cast<int>(pick(6)); i < n; ++i)
        text += (i ? "," : "") + group();
      text += "]";
    }
    if (fault(12) && !text.empty())
      text.resize(pick(text.size())); // cut short
    if (fault(15))
      text.insert(pick(text.size() + 1), one_of({",", "}", "x", "\xff"}));
    if (pick(6) == 0)
      text = " \n" + text + " \t";
    if (pick(10) == 0)
      text = "\xEF\xBB\xBF" + text; // a byte order mark
    return text;
  }

private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : random_() % n; }
  // One time in `n`, in a document with faults.
  bool fault(std::size_t n) { return faulty_ && pick(n) == 0; }
  std::string one_of(std::vector<std::string> options) {
    return options[pick(options.size())];
  }

  std::string time() {
    if (!faulty_)
      return one_of({"\"2026-12-06T10:00:00Z\"", "\"2026-12-06T10:00:00.5Z\"",
                     "\"2026-12-06T11:00:00+01:00\"",
                     "\"2126-01-01T00:00:00Z\"", "\"2999-12-31T23:59:59Z\""});
    return one_of({"\"2026-12-06T10:00:00Z\"", "\"2026-12-06T10:00:00.5Z\"",
                   "\"2026-12-06T11:00:00+01:00\"", "\"2126-01-01T00:00:00Z\"",
                   "\"2999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\"",
                   "\"1999-01-01T00:00:00Z\"", "\"yesterday\"", "12", "null",
                   "\"2026-12-06T10:00:00\""});
  }
  std::string host() {
    if (!faulty_)
      return one_of({"\"a\"", "\"b\"", "\"c\"", "\"d.example\"",
                     "\"\\u00e9t\\u00e9\"", "\"\xc3\xa9t\xc3\xa9\"",
                     "\"a\\\"q\""});
    return one_of({"\"a\"", "\"b\"", "\"c\"", "\"d.example\"", "\"\"",
                   "\"\\u00e9t\\u00e9\"", "\"\xc3\xa9t\xc3\xa9\"", "7", "null",
                   "\"a\\\"q\""});
  }

  std::string item(bool waiting) {
    if (fault(15))
      return one_of({"5", "\"a\"", "null", "[]"});
    std::vector<std::string> members;
    if (!fault(10))
      members.push_back("\"Hostname\":" + host());
    if (!waiting && !fault(10))
      members.push_back("\"LastRequest\":" + time());
    if (waiting && pick(6) != 0)
      members.push_back("\"ReadyTimeout\":" + time());
    if (waiting && pick(2) == 0)
      members.push_back("\"ReadyUrl\":" + one_of({"\"http://r/x\"", "\"\"",
                                                  faulty_ ? "3" : "\"\""}));
    if (pick(5) == 0)
      members.push_back("\"Other\":" +
                        one_of({"{\"a\":[1,{}]}", "1.5e3", "false", "\"x\""}));
    if (pick(8) == 0 && !members.empty())
      members.push_back(members[pick(members.size())]); // repeated
    if (pick(10) == 0 && !members.empty())
      members.push_back("\"Hostname\":" + host()); // later one counts
    std::shuffle(members.begin(), members.end(), random_);
    std::string out = "{";
    for (std::size_t i = 0; i < members.size(); ++i)
      out += (i ? "," : "") + members[i];
    return out + "}";
  }

  std::string list(bool waiting) {
    if (pick(12) == 0)
      return faulty_ ? one_of({"null", "{}", "\"x\"", "0"}) : "null";
    std::string out = "[";
    for (int i = 0, n = static_cast<int>(pick(5)); i < n; ++i)
      out += (i ? "," : "") + item(waiting);
    return out + "]";
  }

  std::string group() {
    if (fault(25))
      return one_of({"5", "null", "[]", "\"g\""});
    std::vector<std::string> members;
    if (pick(8) != 0)
      members.push_back("\"Identifier\":" +
                        (faulty_
                             ? one_of({"\"g1\"", "\"g2\"", "\"\"", "4", "null"})
                             : one_of({"\"g1\"", "\"g2\"", "\"\""})));
    for (const char* name : {"Permitted", "Requested", "Waiting"})
      if (pick(6) != 0)
        members.push_back(std::string("\"") + name +
                          "\":" + list(std::string(name) == "Waiting"));
    if (pick(6) == 0)
      members.push_back("\"Extra\":[1,2,{\"Permitted\":5}]");
    if (pick(8) == 0 && !members.empty())
      members.push_back(members[pick(members.size())]);
    std::shuffle(members.begin(), members.end(), random_);
    std::string out = "{";
    for (std::size_t i = 0; i < members.size(); ++i)
      out += (i ? "," : "") + members[i];
    return out + "}";
  }

  std::mt19937_64 random_;
  bool faulty_ = false;
};

timestamp at(const char* text) {
  return *parse_rfc3339(text);
}

} // namespace

TEST(legacy_state, reads_every_document_as_a_whole_reading_would) {
  auto now = at("2026-12-06T10:30:00Z");
  document_maker maker(20261206);
  int valid = 0;
  int states = 0;
  for (int i = 0; i < 20000; ++i) {
    auto text = maker.document();
    std::string error, expected_error;
    auto got = parse_legacy_state(text, now, error);
    auto expected = read_whole(text, now, expected_error);
    ASSERT_EQ(describe(got, error), describe(expected, expected_error))
        << "document " << i << ": " << text;
    valid += expected_error != "state.json is not valid JSON";
    states += expected && !expected->groups.empty();
  }
  // The documents reach both sides of every rule, not only errors.
  EXPECT_GT(valid, 10000);
  EXPECT_GT(states, 2000);
}

TEST(legacy_state, the_first_wrong_entry_is_named_and_permitted_comes_first) {
  auto now = at("2026-12-06T10:30:00Z");
  std::string error;
  auto state = parse_legacy_state(
      R"([{"Requested":[{"Hostname":"b","LastRequest":"2026-12-06T10:00:00Z"},
                         {"Hostname":"a","LastRequest":"2026-12-06T10:00:00Z"}],
           "Identifier":"g",
           "Permitted":[{"LastRequest":"2026-12-06T10:00:00Z","Hostname":"a"}]}])",
      now, error);
  ASSERT_TRUE(state) << error;
  const auto& hosts = state->groups.at("g").hosts;
  EXPECT_TRUE(hosts.at("a").hold->permitted);
  EXPECT_EQ(hosts.at("a").hold->queue_seq, 1u);
  EXPECT_EQ(hosts.at("b").hold->queue_seq, 2u);
  EXPECT_FALSE(parse_legacy_state(
      R"([{"Identifier":"g","Permitted":[{"Hostname":"a"}]}, 5])", now, error));
  EXPECT_EQ(error, "state.json: bad entry in Permitted of group \"g\"");
  // Not JSON at all, after a wrong entry: the whole file is named.
  EXPECT_FALSE(parse_legacy_state(R"([5, {"Identifier":)", now, error));
  EXPECT_EQ(error, "state.json is not valid JSON");
}

// Migration from the original's state.json.
#include "storage/legacy_state.hpp"

#include <ctime>
#include <vector>

#include "codec/json_reader.hpp"

namespace dm {

namespace {

int digits(std::string_view text, size_t pos, size_t count, bool& ok) {
  int value = 0;
  if (pos + count > text.size()) {
    ok = false;
    return 0;
  }
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      ok = false;
      return 0;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

} // namespace

std::optional<timestamp> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  bool ok = true;
  std::tm tm{};
  tm.tm_year = digits(text, 0, 4, ok) - 1900;
  tm.tm_mon = digits(text, 5, 2, ok) - 1;
  tm.tm_mday = digits(text, 8, 2, ok);
  tm.tm_hour = digits(text, 11, 2, ok);
  tm.tm_min = digits(text, 14, 2, ok);
  tm.tm_sec = digits(text, 17, 2, ok);
  if (!ok || text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int count = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (count < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++count;
      }
      ++pos;
    }
    if (count == 0)
      return std::nullopt;
    for (; count < 9; ++count)
      nanos *= 10;
  }
  std::int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '+' ? 1 : -1;
    int hours = digits(text, pos + 1, 2, ok);
    int minutes = digits(text, pos + 4, 2, ok);
    if (!ok || pos + 6 > text.size() || text[pos + 3] != ':')
      return std::nullopt;
    offset = sign * (hours * 3600 + minutes * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size())
    return std::nullopt;
  auto seconds = static_cast<std::int64_t>(timegm(&tm)) - offset;
  // Nanosecond timestamps end in 2262; later times (Go allows them) clamp.
  constexpr std::int64_t limit = 9'000'000'000;
  if (seconds > limit)
    return timestamp{std::chrono::seconds(limit)};
  if (seconds < -limit)
    return timestamp{std::chrono::seconds(-limit)};
  return timestamp{std::chrono::seconds(seconds) +
                   std::chrono::nanoseconds(nanos)};
}

namespace {

// One entry of a group's list as read: a member given twice counts as
// written last, as in a JSON document read whole.
struct legacy_item {
  bool object = false;
  std::optional<std::string> hostname; // a string was given
  std::optional<std::string> last_request;
  std::optional<std::string> ready_timeout;
  std::optional<std::string> ready_url;
};

// A list member of a group: absent or null, something else, or a list.
struct legacy_list {
  enum { none, not_list, list } kind = none;
  std::vector<legacy_item> items;
};

bool read_item(json_reader& in, legacy_item& item) {
  if (in.peek() != json_kind::object)
    return in.skip_value();
  item.object = true;
  in.begin_object();
  std::string key;
  while (in.next_member(key)) {
    std::optional<std::string>* field = nullptr;
    if (key == "Hostname")
      field = &item.hostname;
    else if (key == "LastRequest")
      field = &item.last_request;
    else if (key == "ReadyTimeout")
      field = &item.ready_timeout;
    else if (key == "ReadyUrl")
      field = &item.ready_url;
    if (field == nullptr) {
      if (!in.skip_value())
        return false;
    } else if (in.peek() == json_kind::string) {
      field->emplace();
      if (!in.read_string(**field))
        return false;
    } else {
      field->reset();
      if (!in.skip_value())
        return false;
    }
  }
  return !in.failed();
}

bool read_list(json_reader& in, legacy_list& list) {
  list.items.clear();
  switch (in.peek()) {
  case json_kind::null:
    list.kind = legacy_list::none;
    return in.read_null();
  case json_kind::array:
    list.kind = legacy_list::list;
    in.begin_array();
    while (in.next_item()) {
      list.items.emplace_back();
      if (!read_item(in, list.items.back()))
        return false;
    }
    return !in.failed();
  default:
    list.kind = legacy_list::not_list;
    return in.skip_value();
  }
}

// A group of the original's file, read whole before it is judged (its
// members may come in any order).
struct legacy_group {
  bool object = false;
  enum { absent, string, other } identifier_kind = absent;
  std::string identifier;
  legacy_list permitted, requested, waiting;
};

bool read_group(json_reader& in, legacy_group& group) {
  if (in.peek() != json_kind::object)
    return in.skip_value();
  group.object = true;
  in.begin_object();
  std::string key;
  while (in.next_member(key)) {
    bool ok = true;
    if (key == "Identifier") {
      if (in.peek() == json_kind::string) {
        group.identifier_kind = legacy_group::string;
        ok = in.read_string(group.identifier);
      } else {
        group.identifier_kind = legacy_group::other;
        ok = in.skip_value();
      }
    } else if (key == "Permitted") {
      ok = read_list(in, group.permitted);
    } else if (key == "Requested") {
      ok = read_list(in, group.requested);
    } else if (key == "Waiting") {
      ok = read_list(in, group.waiting);
    } else {
      ok = in.skip_value();
    }
    if (!ok)
      return false;
  }
  return !in.failed();
}

// Adds one group to `state`; false (and `error`) for an entry the file
// must not hold.
bool add_group(legacy_group& group, timestamp now, std::uint64_t& queue_seq,
               stored_state& state, std::string& error) {
  if (!group.object) {
    error = "state.json: a group is not an object";
    return false;
  }
  if (group.identifier_kind == legacy_group::other) {
    error = "state.json: Identifier is not a string";
    return false;
  }
  const std::string& id = group.identifier;
  auto& hosts = state.groups[id].hosts;
  for (auto* list : {&group.permitted, &group.requested}) {
    const char* name = list == &group.permitted ? "Permitted" : "Requested";
    if (list->kind == legacy_list::not_list) {
      error = std::string("state.json: ") + name + " is not a list";
      return false;
    }
    bool permitted = list == &group.permitted;
    for (auto& item : list->items) {
      std::optional<timestamp> when;
      if (item.last_request)
        when = parse_rfc3339(*item.last_request);
      if (!item.object || !item.hostname || item.hostname->empty() || !when) {
        error = std::string("state.json: bad entry in ") + name +
                " of group \"" + id + "\"";
        return false;
      }
      auto& entry = hosts[std::move(*item.hostname)];
      if (entry.hold && entry.hold->permitted)
        continue; // Permitted wins over Requested, as in the original.
      // Go writes times no state file of ours may hold (its zero time, the
      // year 2999): brought into range, they mean the same here.
      entry.hold = holding{permitted, clamp_to_storable(*when), queue_seq++};
    }
  }
  if (group.waiting.kind == legacy_list::not_list) {
    error = "state.json: Waiting is not a list";
    return false;
  }
  for (auto& item : group.waiting.items) {
    if (!item.object || !item.hostname || item.hostname->empty()) {
      error = "state.json: bad entry in Waiting of group \"" + id + "\"";
      return false;
    }
    std::optional<timestamp> deadline;
    if (item.ready_timeout)
      deadline = parse_rfc3339(*item.ready_timeout);
    if (!deadline || *deadline <= now)
      continue;
    waiting wait;
    wait.deadline = clamp_to_storable(*deadline);
    if (item.ready_url)
      wait.url = std::move(*item.ready_url);
    hosts[std::move(*item.hostname)].wait = std::move(wait);
  }
  if (hosts.empty())
    state.groups.erase(id);
  return true;
}

} // namespace

// Read with the pull reader, one group at a time: the original's file at
// a million machines is 73 MB, and a document tree of it cost seconds and
// hundreds of megabytes (docs/performance.md, "A million machines: where
// memory and start-up time go"). A file that is not JSON at all is
// reported as such before any entry that is wrong, as a reading of the
// whole document would.
std::optional<stored_state>
parse_legacy_state(std::string_view text, timestamp now, std::string& error) {
  // A byte order mark before the document is passed over, as it was when
  // the file was read whole (an editor may have added one).
  constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";
  if (text.substr(0, byte_order_mark.size()) == byte_order_mark)
    text.remove_prefix(byte_order_mark.size());
  json_reader in(text);
  const std::string not_json = "state.json is not valid JSON";
  stored_state state;
  switch (in.peek()) {
  case json_kind::null:
    if (!in.read_null() || !in.at_end()) {
      error = not_json;
      return std::nullopt;
    }
    return state;
  case json_kind::array:
    break;
  case json_kind::bad:
    error = not_json;
    return std::nullopt;
  default:
    if (!in.skip_value() || !in.at_end()) {
      error = not_json;
      return std::nullopt;
    }
    error = "state.json: expected a list of groups";
    return std::nullopt;
  }
  std::uint64_t queue_seq = 1;
  std::string wrong; // the first entry found wrong
  legacy_group group;
  in.begin_array();
  while (in.next_item()) {
    group = legacy_group{};
    if (!read_group(in, group))
      break;
    if (wrong.empty() && !add_group(group, now, queue_seq, state, wrong))
      state = stored_state{}; // (what is read after it is not kept)
  }
  if (in.failed() || !in.at_end()) {
    error = not_json;
    return std::nullopt;
  }
  if (!wrong.empty()) {
    error = wrong;
    return std::nullopt;
  }
  return state;
}

} // namespace dm

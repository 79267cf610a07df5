// Migration from the original's state.json.
#include "storage/legacy_state.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

namespace dm {

namespace {

using json = nlohmann::json;

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

std::optional<stored_state>
parse_legacy_state(std::string_view text, timestamp now, std::string& error) {
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
  auto host_name = [&](const json& item, std::string& out) {
    if (!item.is_object() || !item.contains("Hostname") ||
        !item["Hostname"].is_string())
      return false;
    out = item["Hostname"].get<std::string>();
    return !out.empty();
  };
  auto last_request = [&](const json& item) -> std::optional<timestamp> {
    if (!item.contains("LastRequest") || !item["LastRequest"].is_string())
      return std::nullopt;
    auto when = parse_rfc3339(item["LastRequest"].get<std::string>());
    // Go writes times no state file of ours may hold (its zero time, the
    // year 2999): brought into range, they mean the same here.
    if (when)
      when = clamp_to_storable(*when);
    return when;
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
        std::string host;
        auto when = last_request(item);
        if (!host_name(item, host) || !when) {
          error = std::string("state.json: bad entry in ") + name +
                  " of group \"" + id + "\"";
          return std::nullopt;
        }
        auto& entry = hosts[host];
        if (entry.hold && entry.hold->permitted)
          continue; // Permitted wins over Requested, as in the original.
        entry.hold = holding{permitted, *when, queue_seq++};
      }
    }
    if (const json* items = list("Waiting")) {
      if (!items->is_array()) {
        error = "state.json: Waiting is not a list";
        return std::nullopt;
      }
      for (const auto& item : *items) {
        std::string host;
        if (!host_name(item, host)) {
          error = "state.json: bad entry in Waiting of group \"" + id + "\"";
          return std::nullopt;
        }
        std::optional<timestamp> deadline;
        if (item.contains("ReadyTimeout") && item["ReadyTimeout"].is_string())
          deadline = parse_rfc3339(item["ReadyTimeout"].get<std::string>());
        if (!deadline || *deadline <= now)
          continue;
        waiting wait;
        wait.deadline = clamp_to_storable(*deadline);
        if (item.contains("ReadyUrl") && item["ReadyUrl"].is_string())
          wait.url = item["ReadyUrl"].get<std::string>();
        hosts[host].wait = std::move(wait);
      }
    }
    if (hosts.empty())
      state.groups.erase(id);
  }
  return state;
}

} // namespace dm

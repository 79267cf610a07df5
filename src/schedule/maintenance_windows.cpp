// Reading window specs, and the questions about instants: open or not,
// when next changing. The tz database (Debian's libdate-tz, reading the
// system's zoneinfo files) turns wall-clock times into instants.
#include "schedule/maintenance_windows.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <utility>

#include <date/tz.h>

namespace dm {

namespace {

constexpr int minutes_per_day = 24 * 60;

// Day names in the weekday encoding of date::weekday (0 is Sunday).
constexpr std::array<std::string_view, 7> day_names = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

std::string_view trim(std::string_view text) {
  auto space = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  };
  while (!text.empty() && space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && space(text.back()))
    text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos)
      return parts;
    text.remove_prefix(at + 1);
  }
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() &&
           std::isspace(static_cast<unsigned char>(text[i])) != 0)
      ++i;
    std::size_t start = i;
    while (i < text.size() &&
           std::isspace(static_cast<unsigned char>(text[i])) == 0)
      ++i;
    if (i > start)
      out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// A day name, any case; -1 when it is none.
int day_number(std::string_view name) {
  if (name.size() != 3)
    return -1;
  for (int d = 0; d < 7; ++d) {
    bool same = true;
    for (std::size_t i = 0; i < 3; ++i)
      same = same && std::tolower(static_cast<unsigned char>(name[i])) ==
                         std::tolower(static_cast<unsigned char>(
                             day_names[static_cast<std::size_t>(d)][i]));
    if (same)
      return d;
  }
  return -1;
}

// `Mon-Fri`, `Mon,Wed,Sat`, `Sat-Mon` (a range may wrap past Sunday), or
// a list of days and ranges; 0 with `bad` set to the word that is wrong.
std::uint8_t parse_days(std::string_view text, std::string_view& bad) {
  std::uint8_t days = 0;
  for (auto item : split(text, ',')) {
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      int d = day_number(item);
      if (d < 0) {
        bad = item;
        return 0;
      }
      days |= static_cast<std::uint8_t>(1u << d);
      continue;
    }
    auto first_name = item.substr(0, dash);
    auto last_name = item.substr(dash + 1);
    int first = day_number(first_name);
    int last = day_number(last_name);
    if (first < 0 || last < 0) {
      bad = first < 0 ? first_name : last_name;
      return 0;
    }
    for (int d = first;; d = (d + 1) % 7) {
      days |= static_cast<std::uint8_t>(1u << d);
      if (d == last)
        break;
    }
  }
  return days;
}

// `HH:MM` (the hour one or two digits) as minutes after midnight, 00:00 to
// 24:00; -1 when it is not one.
int parse_clock(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 ||
      text.size() != colon + 3)
    return -1;
  int hours = 0;
  for (std::size_t i = 0; i < colon; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])))
      return -1;
    hours = hours * 10 + (text[i] - '0');
  }
  if (!std::isdigit(static_cast<unsigned char>(text[colon + 1])) ||
      !std::isdigit(static_cast<unsigned char>(text[colon + 2])))
    return -1;
  int minutes = (text[colon + 1] - '0') * 10 + (text[colon + 2] - '0');
  if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0))
    return -1;
  return hours * 60 + minutes;
}

// One window: DAYS SPAN ZONE; empty when it is one, else why not.
std::string parse_window(std::string_view text, maintenance_window& out) {
  auto where = " in " + quoted(text);
  auto parts = words(text);
  if (parts.size() != 3)
    return "window " + quoted(text) +
           " is not DAYS HH:MM-HH:MM ZONE (for example \"Mon-Fri "
           "01:00-05:00 Europe/Berlin\")";
  std::string_view bad;
  out.days = parse_days(parts[0], bad);
  if (out.days == 0)
    return "bad day " + quoted(bad) + where +
           " (days are Mon, Tue, Wed, Thu, Fri, Sat, Sun, as a range "
           "Mon-Fri or a list Mon,Wed)";
  auto span = parts[1];
  auto dash = span.find('-');
  if (dash == std::string_view::npos)
    return "bad span " + quoted(span) + where + " (HH:MM-HH:MM)";
  auto start_text = span.substr(0, dash);
  auto end_text = span.substr(dash + 1);
  out.start_minute = parse_clock(start_text);
  out.end_minute = parse_clock(end_text);
  if (out.start_minute < 0 || out.start_minute == minutes_per_day)
    return "bad time " + quoted(start_text) + where +
           " (a start is HH:MM from 00:00 to 23:59)";
  if (out.end_minute < 0)
    return "bad time " + quoted(end_text) + where +
           " (an end is HH:MM from 00:00 to 24:00)";
  if (out.end_minute == out.start_minute)
    return "empty span " + quoted(span) + where +
           " (its start and end are the same time)";
  try {
    out.zone = date::locate_zone(std::string(parts[2]));
  } catch (const std::exception&) {
    return "unknown time zone " + quoted(parts[2]) + where +
           " (a name of the tz database, such as UTC or Europe/Berlin)";
  }
  return {};
}

// Where a window's span starting on local day `day` begins and ends, in
// minutes after that day's midnight (the end may be on the next day).
int span_end(const maintenance_window& w) {
  return w.end_minute > w.start_minute ? w.end_minute
                                       : w.end_minute + minutes_per_day;
}

bool starts_on(const maintenance_window& w, date::local_days day) {
  return (w.days >> date::weekday(day).c_encoding()) & 1u;
}

// The instants a span starting on local day `day` opens and closes: from
// the first time the wall clock reads its start (or jumps past it) to the
// last time it reads its end (or jumps past it).
std::pair<window_time, window_time> span_instants(const maintenance_window& w,
                                                  date::local_days day) {
  using std::chrono::nanoseconds;
  auto open = w.zone->to_sys(day + std::chrono::minutes(w.start_minute),
                             date::choose::earliest);
  auto close = w.zone->to_sys(day + std::chrono::minutes(span_end(w)),
                              date::choose::latest);
  return {std::chrono::time_point_cast<nanoseconds>(open),
          std::chrono::time_point_cast<nanoseconds>(close)};
}

// The local days whose spans may cover `t` or begin after it soon: a span
// lasts at most a day, so from two days before `t`'s local day.
template <class Visit>
void each_span(const maintenance_window& w, window_time t, int days_ahead,
               Visit visit) {
  auto today = date::floor<date::days>(w.zone->to_local(t));
  for (int d = -2; d <= days_ahead; ++d) {
    auto day = today + date::days(d);
    if (starts_on(w, day))
      visit(span_instants(w, day));
  }
}

bool window_open(const maintenance_window& w, window_time t) {
  bool open = false;
  each_span(w, t, 0, [&](std::pair<window_time, window_time> span) {
    open = open || (span.first <= t && t < span.second);
  });
  return open;
}

} // namespace

std::optional<window_schedule> window_schedule::parse(std::string_view spec,
                                                      std::string& error) {
  if (spec.size() > max_window_spec_bytes) {
    error = "the maintenance window spec is longer than " +
            std::to_string(max_window_spec_bytes) + " bytes";
    return std::nullopt;
  }
  spec = trim(spec);
  if (spec.empty()) {
    error = "the maintenance window spec is empty";
    return std::nullopt;
  }
  window_schedule schedule;
  schedule.spec_ = std::string(spec);
  auto parts = split(spec, ';');
  if (parts.size() > max_windows_per_spec) {
    error = "more than " + std::to_string(max_windows_per_spec) +
            " maintenance windows in one spec";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto text = trim(parts[i]);
    if (text.empty()) {
      error = "window " + std::to_string(i + 1) + " of " +
              std::to_string(parts.size()) +
              " is empty (windows are separated by \";\")";
      return std::nullopt;
    }
    maintenance_window w;
    error = parse_window(text, w);
    if (!error.empty())
      return std::nullopt;
    schedule.windows_.push_back(w);
  }
  return schedule;
}

bool window_schedule::open_at(window_time t) const {
  return std::any_of(
      windows_.begin(), windows_.end(),
      [t](const maintenance_window& w) { return window_open(w, t); });
}

std::optional<window_time> window_schedule::next_change(window_time t) const {
  // The state changes only where a span opens or closes: gather those
  // instants over the coming days and take the first that differs.
  constexpr int days_ahead = 9;
  std::vector<window_time> candidates;
  for (const auto& w : windows_)
    each_span(w, t, days_ahead, [&](std::pair<window_time, window_time> span) {
      candidates.push_back(span.first);
      candidates.push_back(span.second);
    });
  std::sort(candidates.begin(), candidates.end());
  bool now_open = open_at(t);
  for (auto c : candidates)
    if (c > t && open_at(c) != now_open)
      return c;
  return std::nullopt;
}

std::optional<window_time> window_schedule::next_open(window_time t) const {
  if (open_at(t))
    return t;
  return next_change(t);
}

std::optional<window_time> window_schedule::next_close(window_time t) const {
  if (!open_at(t))
    return t;
  return next_change(t);
}

std::string load_time_zones() {
  try {
    date::get_tzdb();
    date::locate_zone("UTC");
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

} // namespace dm

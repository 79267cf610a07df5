// Tag rules: group identity, limits, and the ready gate a cancel applies.
#include "disruption/group_rules.hpp"

#include <vector>

#include "duration/go_duration.hpp"
#include "schedule/maintenance_windows.hpp"
#include "template/go_template.hpp"

namespace dm {

namespace {

constexpr auto default_ready_timeout = std::chrono::minutes(15);

const std::string* find_tag(const machine_record& machine,
                            std::string_view name) {
  auto it = machine.tags.find(std::string(name));
  return it == machine.tags.end() ? nullptr : &it->second;
}

} // namespace

std::string go_path_clean(std::string_view path) {
  if (path.empty())
    return ".";
  bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos)
      next = path.size();
    auto part = path.substr(pos, next - pos);
    if (part.empty() || part == ".") {
      // Skip empty and current-directory elements.
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.push_back(part);
    } else {
      parts.push_back(part);
    }
    pos = next + 1;
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0)
      out += '/';
    out += parts[i];
  }
  if (out.empty())
    return ".";
  return out;
}

std::string go_path_dir(std::string_view path) {
  auto slash = path.rfind('/');
  auto dir = slash == std::string_view::npos ? std::string_view{}
                                             : path.substr(0, slash + 1);
  return go_path_clean(dir);
}

std::string group_identifier(const machine_record& machine) {
  if (auto tag = find_tag(machine, tag_group_identifier))
    return *tag;
  return go_path_dir(machine.required_image);
}

std::string group_text(std::string_view identifier) {
  if (identifier.empty())
    return "global group";
  std::string text = "group=\"";
  text += identifier;
  text += '"';
  return text;
}

std::uint64_t group_limit(const machine_record& machine) {
  auto tag = find_tag(machine, tag_group_maximum);
  if (tag == nullptr || tag->empty())
    return 1;
  std::uint64_t value = 0;
  for (char c : *tag) {
    if (c < '0' || c > '9')
      return 1;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return 1; // Overflow: ParseUint fails, so the original uses 1.
    value = value * 10 + digit;
  }
  return value == 0 ? 1 : value;
}

std::string group_windows(const machine_record& machine, std::string& error) {
  auto tag = find_tag(machine, tag_maintenance_window);
  if (tag == nullptr)
    return {};
  std::string why;
  auto schedule = window_schedule::parse(*tag, why);
  if (schedule)
    return schedule->spec();
  if (why == "the maintenance window spec is empty")
    return {};
  error = "tag " + std::string(tag_maintenance_window) + ": " + why;
  return {};
}

std::optional<ready_gate> ready_gate_for(const machine_record& machine,
                                         std::string& error) {
  auto timeout_tag = find_tag(machine, tag_ready_timeout);
  auto url_tag = find_tag(machine, tag_ready_url);
  if (timeout_tag == nullptr && url_tag == nullptr)
    return std::nullopt;
  ready_gate gate;
  if (timeout_tag != nullptr) {
    auto parsed = parse_go_duration(*timeout_tag);
    if (!parsed.value) {
      error = std::string(tag_ready_timeout) + ": " + parsed.error;
      return std::nullopt;
    }
    gate.timeout = *parsed.value;
  }
  if (url_tag != nullptr) {
    std::string template_error;
    auto parsed = go_template::parse("", *url_tag, template_error);
    if (!parsed) {
      error = std::string(tag_ready_url) + ": " + template_error;
      return std::nullopt;
    }
    if (!parsed->execute(machine, gate.url, template_error)) {
      error = std::string(tag_ready_url) + ": " + template_error;
      return std::nullopt;
    }
    if (timeout_tag == nullptr)
      gate.timeout = default_ready_timeout;
  }
  return gate;
}

} // namespace dm

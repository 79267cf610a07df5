// Admin request bodies: small and rare, read with nlohmann; every member
// is checked, unknown ones refused.
#include "frontend/admin_request.hpp"

#include <nlohmann/json.hpp>

#include <set>

#include "frontend/call_builder.hpp"
#include "text/utf8.hpp"

namespace dm {

namespace {

using json = nlohmann::json;

struct operation_spec {
  std::string_view name;
  admin_operation op;
  std::set<std::string> members; // allowed besides "Reason"
};

const operation_spec operations[] = {
    {"status", admin_operation::status, {}},
    {"release", admin_operation::release, {"Host", "SkipReadyGate"}},
    {"pause", admin_operation::pause, {"Group"}},
    {"resume", admin_operation::resume, {"Group"}},
    {"freeze", admin_operation::freeze, {}},
    {"thaw", admin_operation::thaw, {}},
    {"limit", admin_operation::limit, {"Group", "Limit"}},
    {"window", admin_operation::window, {"Group", "Window"}},
};

admin_request refused(int status, std::string error) {
  admin_request r;
  r.status = status;
  r.error = std::move(error);
  return r;
}

// Names and reasons are shown and logged: text, not control characters.
std::string text_error(const char* member, const std::string& text,
                       std::size_t most) {
  if (text.size() > most)
    return std::string(member) + " is longer than " + std::to_string(most) +
           " bytes";
  if (!utf8::valid_utf8(text))
    return std::string(member) + " is not valid UTF-8";
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7F)
      return std::string(member) + " contains a control character";
  return {};
}

std::string operation_list() {
  std::string out;
  for (const auto& spec : operations) {
    if (!out.empty())
      out += ", ";
    out += spec.name;
  }
  return out;
}

} // namespace

std::string_view admin_operation_name(admin_operation op) {
  for (const auto& spec : operations)
    if (spec.op == op)
      return spec.name;
  return "";
}

std::optional<admin_operation> admin_operation_named(std::string_view name) {
  for (const auto& spec : operations)
    if (spec.name == name)
      return spec.op;
  return std::nullopt;
}

admin_request parse_admin_request(std::string_view name,
                                  std::string_view method,
                                  std::string_view body) {
  const operation_spec* spec = nullptr;
  for (const auto& candidate : operations)
    if (candidate.name == name)
      spec = &candidate;
  if (spec == nullptr)
    return refused(404, "no admin operation \"" +
                            std::string(name.substr(0, 64)) +
                            "\"; there are: " + operation_list());
  bool reads = spec->op == admin_operation::status;
  if (reads ? (method != "GET" && method != "HEAD") : method != "POST")
    return refused(405, std::string(spec->name) + " takes " +
                            (reads ? "GET" : "POST"));
  admin_command cmd;
  cmd.operation = spec->op;
  if (reads)
    return {cmd, 200, {}};
  json in = body.find_first_not_of(" \t\r\n") == std::string_view::npos
                ? json::object()
                : json::parse(body.begin(), body.end(), nullptr, false);
  if (in.is_discarded())
    return refused(400, "the body is not JSON");
  if (!in.is_object())
    return refused(400, "the body is not a JSON object");
  for (const auto& [key, value] : in.items())
    if (key != "Reason" && spec->members.count(key) == 0)
      return refused(400, std::string(spec->name) + " takes no member \"" +
                              key.substr(0, 64) + "\"");
  auto text_member = [&](const char* key, std::string& out,
                         std::size_t most) -> std::string {
    if (!in.contains(key))
      return {};
    if (!in[key].is_string())
      return std::string(key) + " is not a string";
    out = in[key].get<std::string>();
    return text_error(key, out, most);
  };
  if (auto error = text_member("Reason", cmd.reason, max_reason_bytes);
      !error.empty())
    return refused(400, error);
  if (spec->members.count("Group")) {
    if (!in.contains("Group"))
      return refused(400, std::string(spec->name) + " needs a Group");
    if (auto error = text_member("Group", cmd.group, max_name_bytes);
        !error.empty())
      return refused(400, error);
  }
  if (spec->members.count("Host")) {
    if (!in.contains("Host"))
      return refused(400, std::string(spec->name) + " needs a Host");
    if (auto error = text_member("Host", cmd.host, max_name_bytes);
        !error.empty())
      return refused(400, error);
    if (cmd.host.empty())
      return refused(400, "Host is empty");
  }
  if (in.contains("SkipReadyGate")) {
    if (!in["SkipReadyGate"].is_boolean())
      return refused(400, "SkipReadyGate is not true or false");
    cmd.skip_ready_gate = in["SkipReadyGate"].get<bool>();
  }
  if (spec->op == admin_operation::limit) {
    if (!in.contains("Limit"))
      return refused(400, "limit needs a Limit (a number or \"clear\")");
    const auto& limit = in["Limit"];
    if (limit.is_string() && limit.get<std::string>() == "clear") {
      cmd.limit = 0;
    } else if (limit.is_number_unsigned() && limit.get<std::uint64_t>() >= 1 &&
               limit.get<std::uint64_t>() <= max_limit_override) {
      cmd.limit = limit.get<std::uint64_t>();
    } else {
      return refused(400, "Limit must be a whole number from 1 to " +
                              std::to_string(max_limit_override) +
                              " or \"clear\"");
    }
  }
  if (spec->op == admin_operation::window) {
    if (!in.contains("Window"))
      return refused(400, "window needs a Window (a spec such as \"Mon-Fri "
                          "01:00-05:00 Europe/Berlin\", or \"clear\")");
    std::string text;
    if (auto error = text_member("Window", text, max_window_spec_bytes);
        !error.empty())
      return refused(400, error);
    if (text != "clear") {
      std::string error;
      cmd.windows = window_schedule::parse(text, error);
      if (!cmd.windows)
        return refused(400, "Window: " + error);
    }
  }
  return {cmd, 200, {}};
}

} // namespace dm
